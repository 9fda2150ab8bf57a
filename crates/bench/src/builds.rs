//! Section 6, the lessons' cold builds and their size in lines of code.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{Paths, Settings, Spread, Table, Target, cargo, num};

/// Issue 13's limit on every lesson's cold build on 2 cores, in seconds
/// (a lesson on tokio, without its macros, takes about 8).
const COLD_BUILD_LIMIT: f64 = 10.0;
/// An earlier issue's limit for lessons 01 to 06, which depend on no more
/// than socket2, libc and encoding_rs.
const EARLY_LESSONS_TARGET: f64 = 5.0;

/// The lessons in the workspace (`lessons/lesson-NN`), in order.
pub(crate) fn lessons(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.join("lessons"))
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| {
                    n.starts_with("lesson-")
                        && root.join("lessons").join(n).join("Cargo.toml").exists()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub(crate) fn builds(settings: &Settings, paths: &Paths) -> Result<(String, Vec<Target>), String> {
    let lessons = lessons(&paths.root);
    let sizes = sizes(&paths.root, &lessons)?;
    let (builds, targets) = cold_builds(settings, paths, &lessons)?;
    let part = format!(
        "## 6. Cold builds and size of the lessons\n\n{builds}\n\
         Lines of code: the non-blank lines of each lesson's `src/` that are not comments (`//`, \
         `///`, `//!` and `/* */`), with `src/main.rs`, the program a learner reads top to \
         bottom, on its own.\n\n{sizes}"
    );
    Ok((part, targets))
}

fn cold_builds(
    settings: &Settings,
    paths: &Paths,
    lessons: &[String],
) -> Result<(String, Vec<Target>), String> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let all = format!(
        "every lesson's cold build (what `cargo run -p lesson-NN` compiles) < {COLD_BUILD_LIMIT} s on 2 cores"
    );
    let early = format!(
        "lessons 01–06: cold build ≤ {EARLY_LESSONS_TARGET} s on 2 cores (an earlier issue's target)"
    );
    if settings.builds == 0 {
        let note = if settings.quick {
            "not run with --quick"
        } else {
            "skipped (--builds 0)"
        };
        return Ok((
            format!("Cold builds: {note}.\n"),
            vec![
                Target::not_measured(&all, note),
                Target::not_measured(&early, note),
            ],
        ));
    }
    // Download what is missing first: the timed builds use no network.
    let _ = Command::new(cargo())
        .current_dir(&paths.root)
        .args(["fetch", "--quiet"])
        .status();
    let mut table = Table::new(&["command", "builds", "seconds"]);
    // Round by round, every lesson once per round: a machine that gets
    // busier during the run weighs on every lesson alike.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); lessons.len()];
    for round in 0..settings.builds {
        for (lesson, times) in lessons.iter().zip(&mut times) {
            times.push(time_cold_build(paths, lesson, round)?);
        }
    }
    let mut slowest: Option<(&str, f64)> = None;
    let mut slowest_early: Option<(&str, f64)> = None;
    for (lesson, times) in lessons.iter().zip(&times) {
        let spread = Spread::of(times);
        table.row(vec![
            format!("`cargo build -p {lesson} --bin {lesson}`"),
            settings.builds.to_string(),
            spread.to_string(),
        ]);
        let slower = |s: Option<(&str, f64)>| s.is_none_or(|(_, t)| spread.median > t);
        if slower(slowest) {
            slowest = Some((lesson, spread.median));
        }
        if lesson.as_str() <= "lesson-06" && slower(slowest_early) {
            slowest_early = Some((lesson, spread.median));
        }
    }
    let on = if cores == 2 {
        String::new()
    } else {
        format!(" (on {cores} cores, not 2)")
    };
    let target = |what: &str, slowest: Option<(&str, f64)>, ok: &dyn Fn(f64) -> bool| match slowest
    {
        Some((lesson, median)) => Target {
            what: what.into(),
            measured: format!("slowest: {lesson}, {} s{on}", num(median)),
            met: Some(ok(median) && cores == 2),
        },
        None => Target::not_measured(what, "no lesson built"),
    };
    let targets = vec![
        target(&all, slowest, &|t| t < COLD_BUILD_LIMIT),
        target(&early, slowest_early, &|t| t <= EARLY_LESSONS_TARGET),
    ];
    let text = format!(
        "A learner's first `cargo run -p lesson-NN` compiles the lesson's own binary (lesson-05's \
         hardened server is compiled when it is first run). Each build is the dev profile into a \
         new, empty `CARGO_TARGET_DIR`; the crates are downloaded beforehand (`cargo fetch`), so \
         no network time is counted. The lessons take turns, one build each per round.\n\n{}",
        table.markdown()
    );
    Ok((text, targets))
}

/// Seconds of one cold `cargo build -p lesson` into an empty target folder.
fn time_cold_build(paths: &Paths, lesson: &str, round: usize) -> Result<f64, String> {
    let target = paths.scratch.join(format!("cold-build-{lesson}-{round}"));
    let started = Instant::now();
    let output = Command::new(cargo())
        .current_dir(&paths.root)
        .env("CARGO_TARGET_DIR", &target)
        // What `cargo run -p lesson-NN` builds: the lesson's own binary
        // (lesson-05's hardened server is built when it is run).
        .args(["build", "--offline", "-p", lesson, "--bin", lesson])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let _ = fs::remove_dir_all(&target);
    if !output.status.success() {
        return Err(format!(
            "cold build of {lesson} failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(elapsed)
}

/// Lines of one Rust file: (code, comments). Blank lines are neither; a
/// line is a comment when it starts with `//` or lies in a `/* */` block
/// that starts the line; anything else is code.
pub(crate) fn count_lines(text: &str) -> (usize, usize) {
    let (mut code, mut comments) = (0, 0);
    let mut in_block = false;
    for line in text.lines() {
        let line = line.trim();
        if in_block {
            comments += 1;
            in_block = !line.contains("*/");
        } else if line.is_empty() {
        } else if line.starts_with("//") {
            comments += 1;
        } else if line.starts_with("/*") {
            comments += 1;
            in_block = !line.contains("*/");
        } else {
            code += 1;
        }
    }
    (code, comments)
}

/// Every `.rs` file under `dir`, in order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn sizes(root: &Path, lessons: &[String]) -> Result<String, String> {
    let mut table = Table::new(&[
        "lesson",
        "files in src/",
        "lines of code in src/",
        "of which src/main.rs",
        "comment lines in src/",
    ]);
    for lesson in lessons {
        let src = root.join("lessons").join(lesson).join("src");
        let (mut code, mut comments, mut main) = (0, 0, 0);
        let files = rust_files(&src);
        for file in &files {
            let text = fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let (c, k) = count_lines(&text);
            code += c;
            comments += k;
            if file == &src.join("main.rs") {
                main = c;
            }
        }
        table.row(vec![
            lesson.clone(),
            files.len().to_string(),
            code.to_string(),
            main.to_string(),
            comments.to_string(),
        ]);
    }
    Ok(table.markdown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_leave_out_blanks_and_comments() {
        let text = "//! A lesson.\n\nuse std::net;\n\n/// Docs.\nfn main() {\n    // why\n    let x = 1; // trailing: code\n    /* a\n       block */\n    /* one line */\n}\n";
        assert_eq!(count_lines(text), (4, 6));
    }

    #[test]
    fn the_workspace_lessons_are_found_in_order() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let found = lessons(&root);
        assert!(found.len() >= 6, "{found:?}");
        assert_eq!(found[0], "lesson-01");
        assert!(found.windows(2).all(|w| w[0] < w[1]));
    }
}
