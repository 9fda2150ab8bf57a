//! Keeps each Chinese document in step with its English twin.
//!
//! A translation `NAME.zh-CN.md` sits beside `NAME.md` and says, in its
//! first lines, which version of the English text it translates:
//!
//! ```text
//! <!-- translation of README.md, sha256 1f0c3a9b2e4d5f60 -->
//! ```
//!
//! (the first 16 hex digits of the SHA-256 of the English file's bytes).
//! [`check`] fails when the English file has changed since, naming both
//! files and the hash the translation must record once it follows; when
//! the marker is missing; and when the two files do not link to each other
//! near their tops, so that a reader can switch language.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// How a translation names what it translates.
const MARKER: &str = "<!-- translation of ";
/// How many of a document's first lines hold the marker and the links.
const TOP: usize = 6;

/// The translation of `english` (`README.md` -> `README.zh-CN.md`).
pub fn twin(english: &Path) -> PathBuf {
    let stem = english
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    english.with_file_name(format!("{stem}.zh-CN.md"))
}

/// The version of a text a translation records: the first 16 hex digits of
/// its SHA-256.
pub fn version(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `(file, version)` a translation's marker records.
pub fn recorded(translation: &str) -> Option<(String, String)> {
    let line = translation
        .lines()
        .take(TOP)
        .find_map(|line| line.trim().strip_prefix(MARKER))?;
    let (file, rest) = line.split_once(", sha256 ")?;
    let hash = rest.strip_suffix(" -->")?.trim();
    Some((file.trim().to_owned(), hash.to_owned()))
}

/// Checks the English document `english` against its translation, if it
/// must have one (`required`) or has one; every problem found.
pub fn check(english: &Path, required: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let chinese = twin(english);
    let name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let Ok(source) = fs::read(english) else {
        return vec![format!("{}: cannot be read", english.display())];
    };
    let Ok(translation) = fs::read_to_string(&chinese) else {
        if required {
            problems.push(format!(
                "{}: no Chinese translation ({} is missing)",
                english.display(),
                name(&chinese)
            ));
        }
        return problems;
    };
    let current = version(&source);
    match recorded(&translation) {
        None => problems.push(format!(
            "{}: no `{MARKER}{}, sha256 {current} -->` line among its first {TOP}",
            chinese.display(),
            name(english)
        )),
        Some((file, _)) if file != name(english) => problems.push(format!(
            "{}: its marker names {file}, not its twin {}",
            chinese.display(),
            name(english)
        )),
        Some((_, hash)) if hash != current => problems.push(format!(
            "{} changed since {} was translated (sha256 {hash}): bring the translation up to date (`git diff` the English file since then), then record sha256 {current}",
            english.display(),
            chinese.display()
        )),
        Some(_) => {}
    }
    let links_to = |text: &str, target: &Path| {
        let link = format!("]({})", name(target));
        text.lines().take(TOP).any(|line| line.contains(&link))
    };
    if !links_to(&translation, english) {
        problems.push(format!(
            "{}: no link to {} among its first {TOP} lines",
            chinese.display(),
            name(english)
        ));
    }
    if !links_to(&String::from_utf8_lossy(&source), &chinese) {
        problems.push(format!(
            "{}: no link to {} among its first {TOP} lines",
            english.display(),
            name(&chinese)
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &str = "# Lesson\n\nEnglish | [中文](README.zh-CN.md)\n\nText.\n";

    /// A folder with `README.md` and, if given, `README.zh-CN.md`.
    struct Docs(PathBuf);

    impl Docs {
        fn new(english: &str, chinese: Option<&str>) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "translation-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("README.md"), english).unwrap();
            if let Some(chinese) = chinese {
                fs::write(dir.join("README.zh-CN.md"), chinese).unwrap();
            }
            Docs(dir)
        }

        fn check(&self, required: bool) -> Vec<String> {
            check(&self.0.join("README.md"), required)
        }
    }

    impl Drop for Docs {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn chinese_for(english: &str) -> String {
        format!(
            "# 课程\n\n<!-- translation of README.md, sha256 {} -->\n[English](README.md) | 中文\n\n正文。\n",
            version(english.as_bytes())
        )
    }

    #[test]
    fn twins_are_named_beside_each_other() {
        assert_eq!(
            twin(Path::new("lessons/lesson-01/README.md")),
            Path::new("lessons/lesson-01/README.zh-CN.md")
        );
        assert_eq!(
            twin(Path::new("docs/grading.md")),
            Path::new("docs/grading.zh-CN.md")
        );
    }

    #[test]
    fn a_translation_in_step_passes() {
        let docs = Docs::new(ENGLISH, Some(&chinese_for(ENGLISH)));
        assert_eq!(docs.check(true), Vec::<String>::new());
    }

    #[test]
    fn an_english_change_makes_the_translation_stale() {
        let chinese = chinese_for(ENGLISH);
        let changed = ENGLISH.replace("Text.", "Text, changed.");
        let problems = Docs::new(&changed, Some(&chinese)).check(true);
        assert!(
            problems.iter().any(|p| p.contains("changed since")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&version(changed.as_bytes()))),
            "the new hash to record is named: {problems:?}"
        );
    }

    #[test]
    fn a_missing_marker_twin_or_link_fails() {
        let problems = Docs::new(ENGLISH, None).check(true);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no Chinese translation")),
            "{problems:?}"
        );
        assert!(Docs::new(ENGLISH, None).check(false).is_empty());

        let unmarked = "# 课程\n\n[English](README.md) | 中文\n";
        let problems = Docs::new(ENGLISH, Some(unmarked)).check(true);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no `<!-- translation of")),
            "{problems:?}"
        );

        let unlinked = chinese_for(ENGLISH).replace("[English](README.md) | ", "");
        let problems = Docs::new(ENGLISH, Some(&unlinked)).check(true);
        assert!(
            problems.iter().any(|p| p.contains("no link to README.md")),
            "{problems:?}"
        );
        let english = "# Lesson\n\nText.\n";
        let problems = Docs::new(english, Some(&chinese_for(english))).check(true);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no link to README.zh-CN.md")),
            "{problems:?}"
        );
    }
}
