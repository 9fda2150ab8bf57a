//! Keeps each exercise's starter in step with the lesson it asks for.
//!
//! A starter (`exercises/lesson-NN/src/main.rs`) is the lesson's program
//! with the socket calls taken out, and a TODO step for each:
//!
//! ```text
//! // TODO 3 (bind): bind it to `addr`; ...
//! // TODO 6 (recv, decode): receive up to 1024 bytes ...
//! ```
//!
//! The names in parentheses are anchors (`// ANCHOR: bind`) of the finished
//! program, which the exercise's README links to on its "The finished
//! program" line. [`check`] fails when the two drift apart:
//!
//! - a TODO names an anchor the finished program no longer has, or the
//!   TODOs are out of order against it, or misnumbered;
//! - an anchor a TODO names is not quoted in the lesson's walkthrough, so
//!   the starter would send the learner to read about a step that the
//!   walkthrough does not explain;
//! - a text constant both files define (the message, the reply that the
//!   grader checks byte for byte) differs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::walkthrough;

/// One TODO step of a starter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// Its line in the starter, from 1.
    pub line: usize,
    /// Its number, as written.
    pub number: u32,
    /// The anchors of the finished program it stands for.
    pub anchors: Vec<String>,
}

/// Finds the TODO steps of a starter: comment lines `// TODO N (a, b): ...`.
/// A TODO line in another form is an error, so that none is skipped.
pub fn todos(source: &str) -> Result<Vec<Todo>, String> {
    let mut todos = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("// TODO") else {
            continue;
        };
        let parsed = rest
            .trim_start()
            .split_once(' ')
            .and_then(|(number, rest)| {
                let number = number.parse::<u32>().ok()?;
                let names = rest.strip_prefix('(')?.split_once("):")?.0;
                let anchors: Vec<String> = names
                    .split(',')
                    .map(|name| name.trim().to_owned())
                    .collect();
                anchors
                    .iter()
                    .all(|a| !a.is_empty())
                    .then_some((number, anchors))
            });
        let (number, anchors) = parsed.ok_or_else(|| {
            format!(
                "line {}: a TODO must read `// TODO N (anchor, ...): what to do`, got `{}`",
                index + 1,
                line.trim()
            )
        })?;
        todos.push(Todo {
            line: index + 1,
            number,
            anchors,
        });
    }
    Ok(todos)
}

/// The files an exercise's README gives as the finished program: the link
/// targets on its line starting "The finished program", relative to the
/// README's folder.
pub fn solution_links(readme: &str) -> Vec<String> {
    let Some(line) = readme
        .lines()
        .find(|line| line.starts_with("The finished program"))
    else {
        return Vec::new();
    };
    line.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .collect()
}

/// The `const NAME: &str = "...";` items of a source file, as (name, line).
fn text_constants(source: &str) -> Vec<(String, String)> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("const ")?;
            let (name, rest) = rest.split_once(": &str = ")?;
            Some((name.to_owned(), rest.trim_end_matches(';').to_owned()))
        })
        .collect()
}

/// Checks the exercise in `exercise` (a folder with `README.md` and
/// `src/main.rs`) against its finished program; every problem found.
pub fn check(exercise: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let read =
        |path: &Path| fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()));
    let (readme, starter) = match (
        read(&exercise.join("README.md")),
        read(&exercise.join("src/main.rs")),
    ) {
        (Ok(readme), Ok(starter)) => (readme, starter),
        (readme, starter) => {
            problems.extend(readme.err());
            problems.extend(starter.err());
            return problems;
        }
    };
    let todos = match todos(&starter) {
        Ok(todos) if todos.is_empty() => return vec!["src/main.rs has no TODO step".into()],
        Ok(todos) => todos,
        Err(err) => return vec![format!("src/main.rs: {err}")],
    };
    for (expected, todo) in (1..).zip(&todos) {
        if todo.number != expected {
            problems.push(format!(
                "src/main.rs line {}: TODO {} should be TODO {expected}",
                todo.line, todo.number
            ));
        }
    }

    // The finished program's files, and the lesson (the folder above src/).
    let links = solution_links(&readme);
    if links.is_empty() {
        problems.push(
            "README.md: no line starting \"The finished program\" that links to the solution's files"
                .into(),
        );
        return problems;
    }
    let mut solutions: Vec<(PathBuf, String)> = Vec::new();
    for link in &links {
        let path = exercise.join(link);
        match read(&path) {
            Ok(text) => solutions.push((path, text)),
            Err(err) => problems.push(format!("README.md links to a file that is missing: {err}")),
        }
    }
    let Some(lesson) = solutions
        .first()
        .and_then(|(path, _)| path.parent()?.parent().map(Path::to_path_buf))
    else {
        return problems;
    };
    let walkthrough = read(&lesson.join("README.md")).unwrap_or_default();
    let quoted = walkthrough::quotes(&walkthrough).unwrap_or_default();

    // Every TODO's anchors, found in order across the solution's files.
    let mut last: Option<(usize, usize)> = None;
    for todo in &todos {
        for anchor in &todo.anchors {
            let marker = format!("// ANCHOR: {anchor}");
            let found = solutions
                .iter()
                .enumerate()
                .find_map(|(index, (path, text))| {
                    let line = text.lines().position(|l| l.trim() == marker)?;
                    Some((index, line, path))
                });
            let Some((index, line, path)) = found else {
                problems.push(format!(
                    "src/main.rs line {}: TODO {} names anchor '{anchor}', which the finished program ({}) does not have",
                    todo.line,
                    todo.number,
                    links.join(", ")
                ));
                continue;
            };
            if last.is_some_and(|last| (index, line) < last) {
                problems.push(format!(
                    "src/main.rs line {}: TODO {} ({anchor}) comes before an earlier TODO's step in the finished program: reorder the TODO steps",
                    todo.line, todo.number
                ));
            }
            last = Some((index, line));
            let relative = path
                .strip_prefix(&lesson)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !quoted
                .iter()
                .any(|q| q.file == relative && q.anchor == *anchor)
            {
                problems.push(format!(
                    "TODO {} ({anchor}): the walkthrough {} never quotes {relative}:{anchor}, so it does not explain that step",
                    todo.number,
                    lesson.join("README.md").display()
                ));
            }
        }
    }

    // Text constants both define must agree: the grader checks the bytes.
    let mut lesson_constants = Vec::new();
    if let Ok(entries) = fs::read_dir(lesson.join("src")) {
        for entry in entries.flatten() {
            if let Ok(text) = fs::read_to_string(entry.path()) {
                lesson_constants.extend(text_constants(&text));
            }
        }
    }
    for (name, value) in text_constants(&starter) {
        if matches!(name.as_str(), "NAME" | "ABOUT") {
            continue;
        }
        match lesson_constants.iter().find(|(n, _)| *n == name) {
            Some((_, theirs)) if *theirs != value => problems.push(format!(
                "src/main.rs: const {name} is {value}, the finished program's is {theirs}"
            )),
            Some(_) => {}
            None => problems.push(format!(
                "src/main.rs: const {name} is not in the finished program's src/ (a text both must agree on)"
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = "const REPLY: &str = \"ok\";\nfn run() {\n    // ANCHOR: socket\n    let s = 1;\n    // ANCHOR_END: socket\n    // ANCHOR: bind\n    let b = s;\n    // ANCHOR_END: bind\n}\n";
    const WALKTHROUGH: &str = "# L\n\n<!-- include: src/main.rs:socket -->\n```rust\nlet s = 1;\n```\n\n<!-- include: src/main.rs:bind -->\n```rust\nlet b = s;\n```\n";
    const STARTER: &str = "const REPLY: &str = \"ok\";\nfn run() {\n    // TODO 1 (socket): make it.\n    //     more words.\n    // TODO 2 (bind): bind it.\n}\n";
    const README: &str =
        "# E\n\nThe finished program to compare with: [`main.rs`](../lesson/src/main.rs).\n";

    /// A course in a temporary folder: `exercise/` and `lesson/`.
    struct Course(PathBuf);

    impl Course {
        fn new(starter: &str, readme: &str, solution: &str, walkthrough: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "starter-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            for (path, text) in [
                ("exercise/src/main.rs", starter),
                ("exercise/README.md", readme),
                ("lesson/src/main.rs", solution),
                ("lesson/README.md", walkthrough),
            ] {
                let path = root.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, text).unwrap();
            }
            Course(root)
        }

        fn check(&self) -> Vec<String> {
            check(&self.0.join("exercise"))
        }
    }

    impl Drop for Course {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn todos_are_read_with_their_anchors() {
        let found = todos("// TODO 1 (recv, decode): x\n// TODO 2 (send): y\n").unwrap();
        assert_eq!(found[0].anchors, ["recv", "decode"]);
        assert_eq!(found[1].number, 2);
        assert!(todos("    // TODO 1: no anchor\n").is_err());
    }

    #[test]
    fn a_starter_in_step_passes() {
        assert_eq!(
            Course::new(STARTER, README, SOLUTION, WALKTHROUGH).check(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_renamed_anchor_fails() {
        let solution = SOLUTION.replace("ANCHOR: bind", "ANCHOR: bind_it");
        let problems = Course::new(STARTER, README, &solution, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("names anchor 'bind'")),
            "{problems:?}"
        );
    }

    #[test]
    fn todos_out_of_order_or_misnumbered_fail() {
        let starter = "// TODO 1 (bind): b\n// TODO 2 (socket): s\n";
        let problems = Course::new(starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("reorder")),
            "{problems:?}"
        );
        let starter = "// TODO 1 (socket): s\n// TODO 3 (bind): b\n";
        let problems = Course::new(starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("should be TODO 2")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_step_the_walkthrough_does_not_quote_fails() {
        let walkthrough = WALKTHROUGH.replace("src/main.rs:bind", "src/main.rs:socket");
        let problems = Course::new(STARTER, README, SOLUTION, &walkthrough).check();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("never quotes src/main.rs:bind")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_reply_that_differs_fails() {
        let starter = STARTER.replace("\"ok\"", "\"ok!\"");
        let problems = Course::new(&starter, README, SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("const REPLY")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_readme_without_the_solution_link_fails() {
        let problems = Course::new(STARTER, "# E\n", SOLUTION, WALKTHROUGH).check();
        assert!(
            problems.iter().any(|p| p.contains("The finished program")),
            "{problems:?}"
        );
    }
}
