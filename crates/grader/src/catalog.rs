//! What a lesson and a check are (points, kind, a one-line summary, the
//! hint shown when a check fails), and the one list of lessons the grader
//! knows. Summaries, hints and titles are [`Text`]s: English and Chinese
//! side by side, the Chinese hint pointing to the Chinese walkthrough
//! (`README.zh-CN.md`).

use crate::i18n::{Text, tr};
use crate::run::{Ctx, Outcome};

/// What a check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// What the tutorial teaches: the tutorial's own code passes it.
    Core,
    /// Where the tutorial's own code would fail: a split character, a
    /// reset, invalid bytes.
    Robust,
}

impl Kind {
    /// `core` or `robust`: the kind's name where programs read it (JSON,
    /// JUnit class names), in every language.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Core => "core",
            Kind::Robust => "robust",
        }
    }

    /// The kind as a person reads it, in the grading's language: `core`
    /// or `robust`, `核心` or `健壮` (two characters each, so that a
    /// report's columns stay aligned).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Core => tr("core", "核心"),
            Kind::Robust => tr("robust", "健壮"),
        }
    }
}

/// One check.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// Its id, e.g. `concurrent`.
    pub id: &'static str,
    /// Core or robust.
    pub kind: Kind,
    /// Points for passing it.
    pub points: u32,
    /// What it checks, in one line.
    pub summary: Text,
    /// What to look at when it fails; names the walkthrough section (the
    /// Chinese one in Chinese).
    pub hint: Text,
}

/// One lesson's checks, and how its program is run and graded.
#[derive(Clone, Copy)]
pub struct Lesson {
    /// `lesson-05`.
    pub id: &'static str,
    /// What the student writes.
    pub title: Text,
    /// The modes the program is run in (`{mode}`), or none.
    pub modes: &'static [&'static str],
    /// The checks, in the order they run.
    pub checks: &'static [Check],
    /// Runs every check against the program, playing the other side.
    pub grade: fn(&'static Lesson, &Ctx) -> Vec<Outcome>,
}

impl std::fmt::Debug for Lesson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lesson")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Lesson {
    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&'static Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The most points there are.
    pub fn max_points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

/// A core check (crate-internal constructor for the lessons' tables).
pub(crate) const fn core(id: &'static str, points: u32, summary: Text, hint: Text) -> Check {
    Check {
        id,
        kind: Kind::Core,
        points,
        summary,
        hint,
    }
}

/// A robust check (crate-internal constructor for the lessons' tables).
pub(crate) const fn robust(id: &'static str, points: u32, summary: Text, hint: Text) -> Check {
    Check {
        id,
        kind: Kind::Robust,
        points,
        summary,
        hint,
    }
}

/// Every lesson the grader can grade: the one list a new lesson is added
/// to. Each lesson's checks, hints, constants and grading code live in its
/// own module under [`crate::lessons`].
pub const LESSONS: &[Lesson] = &[
    crate::lessons::l02::LESSON,
    crate::lessons::l03::LESSON,
    crate::lessons::l04::LESSON,
    crate::lessons::l05::LESSON,
    crate::lessons::l06::LESSON,
    crate::lessons::l07::LESSON,
    crate::lessons::l08::LESSON,
    crate::lessons::l09::LESSON,
];

/// The lesson with this id (`lesson-05`, or just `05` or `5`).
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    let wanted = id.trim_start_matches("lesson-").trim_start_matches('0');
    LESSONS
        .iter()
        .find(|l| l.id.trim_start_matches("lesson-").trim_start_matches('0') == wanted)
}

/// The walkthrough section a hint names: its file and anchor
/// (`lessons/lesson-05/README.md`, `3-a-thread-per-client`), read from the
/// first `lessons/...#...` in it, up to a space or a closing parenthesis
/// (ASCII or the full-width `）` of a Chinese hint).
pub fn walkthrough_link(hint: &str) -> Option<(&str, &str)> {
    let start = hint.find("lessons/")?;
    let link = hint[start..]
        .split([' ', ')', '）'])
        .next()
        .unwrap_or_default();
    link.split_once('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_hints_name_a_walkthrough() {
        for lesson in LESSONS {
            let mut ids: Vec<&str> = lesson.checks.iter().map(|c| c.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), lesson.checks.len(), "{}", lesson.id);
            for check in lesson.checks {
                for hint in [check.hint.en, check.hint.zh] {
                    assert!(
                        hint.contains("lessons/lesson-"),
                        "{}: {}",
                        lesson.id,
                        check.id
                    );
                }
                assert!(check.points > 0);
            }
        }
    }

    /// Whether `text` holds a Chinese character (CJK Unified Ideographs).
    fn has_cjk(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_check_speaks_chinese_and_points_to_its_chinese_walkthrough() {
        for lesson in LESSONS {
            assert!(has_cjk(lesson.title.zh), "{}: title", lesson.id);
            for check in lesson.checks {
                let what = format!("{} {}", lesson.id, check.id);
                for text in [check.summary, check.hint] {
                    assert!(!text.en.trim().is_empty(), "{what}: {text:?}");
                    assert!(!text.zh.trim().is_empty(), "{what}: {text:?}");
                    assert!(has_cjk(text.zh), "{what}: no Chinese in {:?}", text.zh);
                    assert_ne!(text.en, text.zh, "{what}: not translated");
                }
                let (file, _) = walkthrough_link(check.hint.zh)
                    .unwrap_or_else(|| panic!("{what}: no link in {:?}", check.hint.zh));
                assert_eq!(
                    file,
                    format!("lessons/{}/README.zh-CN.md", lesson.id),
                    "{what}: the Chinese hint must link to its lesson's Chinese walkthrough"
                );
                let (file, _) = walkthrough_link(check.hint.en)
                    .unwrap_or_else(|| panic!("{what}: no link in {:?}", check.hint.en));
                assert_eq!(file, format!("lessons/{}/README.md", lesson.id), "{what}");
            }
        }
    }

    #[test]
    fn hints_point_at_sections_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut missing = Vec::new();
        for lesson in LESSONS {
            for check in lesson.checks {
                // The English hint's section, and the same section of the
                // Chinese walkthrough, under its Chinese heading.
                for hint in [check.hint.en, check.hint.zh] {
                    let Some((file, anchor)) = walkthrough_link(hint) else {
                        missing.push(format!("{} {}: no link in {hint:?}", lesson.id, check.id));
                        continue;
                    };
                    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
                    let anchors: Vec<String> = text
                        .lines()
                        .filter_map(|l| l.strip_prefix('#'))
                        .map(|h| github_anchor(h.trim_start_matches('#').trim()))
                        .collect();
                    if !anchors.contains(&anchor.to_owned()) {
                        missing.push(format!(
                            "{} {}: #{anchor} not in {file}: {anchors:?}",
                            lesson.id, check.id
                        ));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    /// GitHub's heading anchors: lower case, punctuation dropped (a
    /// Chinese heading's full-width `：` and `，` too), spaces to hyphens;
    /// letters of any script kept.
    fn github_anchor(heading: &str) -> String {
        heading
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn chinese_headings_get_githubs_anchors() {
        assert_eq!(
            github_anchor("注意点 3：客户端关闭，服务端的 `recv` 返回 0"),
            "注意点-3客户端关闭服务端的-recv-返回-0"
        );
        assert_eq!(github_anchor("7. 解码"), "7-解码");
        assert_eq!(
            walkthrough_link("x（见 lessons/lesson-03/README.zh-CN.md#7-解码）"),
            Some(("lessons/lesson-03/README.zh-CN.md", "7-解码"))
        );
        assert_eq!(
            walkthrough_link("x (see lessons/lesson-03/README.md#7-decode)"),
            Some(("lessons/lesson-03/README.md", "7-decode"))
        );
    }

    #[test]
    fn finds_lessons_by_short_names() {
        assert_eq!(lesson("5").unwrap().id, "lesson-05");
        assert_eq!(lesson("05").unwrap().id, "lesson-05");
        assert_eq!(lesson("lesson-05").unwrap().id, "lesson-05");
        assert!(lesson("lesson-01").is_none());
        assert!(lesson("10").is_none());
    }
}
