//! Paths inside the repository, written with `/` whatever the platform:
//! `lessons/lesson-05/README.md`, relative to the repository's root.

use std::path::{Component, Path, PathBuf};

/// `target` (a link in a file of the folder `dir`) as a path from the
/// repository's root, or `None` when it climbs out of the repository.
/// `dir` is `""` for the root.
pub fn resolve(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The folder of a repository path: `lessons/lesson-05` for
/// `lessons/lesson-05/README.md`, `""` for `README.md`.
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The file name of a repository path.
pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The relative link from a page in the folder `from_dir` to `to`, both
/// repository paths: `../lesson-03/README.md` from `lessons/lesson-05`.
pub fn relative(from_dir: &str, to: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|p| !p.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut link = "../".repeat(from.len() - common);
    link.push_str(&to_parts[common..].join("/"));
    link
}

/// The `../../` that leads from a page in the folder `dir` to the root.
pub fn up_to_root(dir: &str) -> String {
    "../".repeat(dir.split('/').filter(|p| !p.is_empty()).count())
}

/// The relative path from the folder `from` to `to`, both absolute and
/// free of `.` and `..`, with `/` separators; `to` itself when they share
/// nothing but the root.
pub fn relative_fs(from: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from.components().collect();
    let to_parts: Vec<Component<'_>> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 {
        return to.to_string_lossy().replace('\\', "/");
    }
    let mut link = PathBuf::new();
    for _ in common..from.len() {
        link.push("..");
    }
    for part in &to_parts[common..] {
        link.push(part);
    }
    link.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_from_their_folder() {
        assert_eq!(
            resolve("lessons/lesson-05", "../lesson-03/README.md").as_deref(),
            Some("lessons/lesson-03/README.md")
        );
        assert_eq!(
            resolve("exercises/lesson-05", "../../docs/./grading.md").as_deref(),
            Some("docs/grading.md")
        );
        assert_eq!(resolve("", "exercises").as_deref(), Some("exercises"));
        assert_eq!(
            resolve("lessons/lesson-06", "src/experiments/").as_deref(),
            Some("lessons/lesson-06/src/experiments")
        );
        assert_eq!(resolve("docs", "../../outside"), None);
    }

    #[test]
    fn relative_links_climb_only_as_far_as_needed() {
        assert_eq!(
            relative("lessons/lesson-05", "lessons/lesson-03/index.md"),
            "../lesson-03/index.md"
        );
        assert_eq!(
            relative("lessons/lesson-05", "lessons/lesson-05/src/main.rs.md"),
            "src/main.rs.md"
        );
        assert_eq!(relative("", "docs/grading.md"), "docs/grading.md");
        assert_eq!(relative("docs", "index.md"), "../index.md");
        assert_eq!(up_to_root("lessons/lesson-05"), "../../");
        assert_eq!(up_to_root(""), "");
        assert_eq!(parent("lessons/lesson-05/README.md"), "lessons/lesson-05");
        assert_eq!(parent("README.md"), "");
    }

    #[test]
    fn file_system_paths_are_made_relative() {
        assert_eq!(
            relative_fs(
                Path::new("/repo/target/book-src/en/src/lessons/lesson-05"),
                Path::new("/repo/lessons/lesson-05/src/main.rs")
            ),
            "../../../../../../lessons/lesson-05/src/main.rs"
        );
    }
}
