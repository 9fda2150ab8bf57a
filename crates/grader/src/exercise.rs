//! The students' exercises (`exercises/lesson-NN`, packages `exercise-NN`):
//! where they are, how to build one, and the command that runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::catalog::Lesson;

/// The workspace's root folder: `GRADER_WORKSPACE` when set (a copy of the
/// course elsewhere), else where `cargo run -p grader` was started from (its
/// manifest folder is `crates/grader`), else where this grader was built.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("GRADER_WORKSPACE") {
        return PathBuf::from(root);
    }
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.ends_with("crates/grader"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or(manifest)
}

/// `exercise-05` for lesson-05.
pub fn package(lesson: &Lesson) -> String {
    lesson.id.replace("lesson-", "exercise-")
}

/// The exercise's folder.
pub fn folder(lesson: &Lesson) -> PathBuf {
    workspace_root().join("exercises").join(lesson.id)
}

/// Builds the exercise with cargo and returns its binary, or cargo's
/// complaint (the last lines of its output) when it does not build.
pub fn build(lesson: &Lesson) -> Result<PathBuf, String> {
    let root = workspace_root();
    let package = package(lesson);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--color",
            "never",
            "--package",
            &package,
            "--bin",
            &package,
        ])
        .current_dir(&root)
        .output()
        .map_err(|err| {
            crate::tr!(
                "cannot run cargo to build {package}: {err}",
                "无法运行 cargo 来构建 {package}：{err}"
            )
        })?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(30);
        return Err(lines[start..].join("\n"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target
        .join("debug")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX)))
}

/// The command that runs the exercise's binary for the grader.
pub fn command(lesson: &Lesson, binary: &Path) -> Vec<String> {
    let mut command = vec![binary.to_string_lossy().into_owned()];
    if !lesson.modes.is_empty() {
        command.push("{mode}".to_owned());
    }
    command.extend(["--port".to_owned(), "{port}".to_owned()]);
    command
}

/// The first lines of a cargo error, for a one-line reason.
pub fn first_error(build_output: &str) -> String {
    build_output
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or(crate::i18n::tr("cargo build failed", "cargo 构建失败"))
        .to_owned()
}

/// One file of a fingerprint: its path, size and modification time.
pub type FileStamp = (PathBuf, u64, Option<std::time::SystemTime>);

/// A fingerprint of the files under `dir` (paths, sizes and modification
/// times; `target/` and hidden folders skipped), to notice a change by
/// polling, which works where file-system events do not (VMs, WSL, network
/// folders).
pub fn fingerprint(dir: &Path) -> Vec<FileStamp> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "__pycache__" {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else {
                found.push((path, meta.len(), meta.modified().ok()));
            }
            if found.len() > 10_000 {
                break;
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_has_an_exercise_folder() {
        for lesson in crate::catalog::LESSONS {
            assert!(folder(lesson).join("Cargo.toml").exists(), "{}", lesson.id);
            assert!(folder(lesson).join("README.md").exists(), "{}", lesson.id);
        }
    }

    #[test]
    fn the_fingerprint_changes_with_a_file() {
        let dir = std::env::temp_dir().join(format!("grader-fp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("a.py"), "x").unwrap();
        std::fs::write(dir.join("target/ignored"), "x").unwrap();
        let before = fingerprint(&dir);
        assert_eq!(before.len(), 1);
        std::fs::write(dir.join("a.py"), "xy").unwrap();
        assert_ne!(fingerprint(&dir), before);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
