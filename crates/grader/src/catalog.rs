//! What a lesson and a check are (points, kind, a one-line summary, the
//! hint shown when a check fails), and the one list of lessons the grader
//! knows.

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
    /// `core` or `robust`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Core => "core",
            Kind::Robust => "robust",
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
    pub summary: &'static str,
    /// What to look at when it fails; names the walkthrough section.
    pub hint: &'static str,
}

/// One lesson's checks, and how its program is run and graded.
#[derive(Clone, Copy)]
pub struct Lesson {
    /// `lesson-05`.
    pub id: &'static str,
    /// What the student writes.
    pub title: &'static str,
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
pub(crate) const fn core(
    id: &'static str,
    points: u32,
    summary: &'static str,
    hint: &'static str,
) -> Check {
    Check {
        id,
        kind: Kind::Core,
        points,
        summary,
        hint,
    }
}

/// A robust check (crate-internal constructor for the lessons' tables).
pub(crate) const fn robust(
    id: &'static str,
    points: u32,
    summary: &'static str,
    hint: &'static str,
) -> Check {
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
];

/// The lesson with this id (`lesson-05`, or just `05` or `5`).
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    let wanted = id.trim_start_matches("lesson-").trim_start_matches('0');
    LESSONS
        .iter()
        .find(|l| l.id.trim_start_matches("lesson-").trim_start_matches('0') == wanted)
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
                assert!(
                    check.hint.contains("lessons/lesson-"),
                    "{}: {}",
                    lesson.id,
                    check.id
                );
                assert!(check.points > 0);
            }
        }
    }

    #[test]
    fn hints_point_at_sections_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for lesson in LESSONS {
            for check in lesson.checks {
                let link = check
                    .hint
                    .split("see ")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(')');
                let (file, anchor) = link.split_once('#').unwrap();
                let text = std::fs::read_to_string(root.join(file)).unwrap();
                let anchors: Vec<String> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .map(|h| github_anchor(h.trim_start_matches('#').trim()))
                    .collect();
                assert!(
                    anchors.contains(&anchor.to_owned()),
                    "{}: #{anchor} not in {file}: {anchors:?}",
                    check.id
                );
            }
        }
    }

    /// GitHub's heading anchors: lower case, punctuation dropped, spaces
    /// to hyphens.
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
    fn finds_lessons_by_short_names() {
        assert_eq!(lesson("5").unwrap().id, "lesson-05");
        assert_eq!(lesson("05").unwrap().id, "lesson-05");
        assert_eq!(lesson("lesson-05").unwrap().id, "lesson-05");
        assert!(lesson("lesson-01").is_none());
        assert!(lesson("9").is_none());
    }
}
