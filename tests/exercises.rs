//! Every exercise's starter is in step with its finished program: each TODO
//! step names an anchor of the solution, in the solution's order, that the
//! lesson's walkthrough quotes; it has a Chinese instruction, and names the
//! sections of the English and the Chinese walkthrough that explain it,
//! which are headings there; and the texts both define (the message, the
//! reply) are the same. See `starter.rs` for the rules.

use std::fs;
use std::path::PathBuf;

use course_tests::starter;

#[test]
fn starters_match_their_finished_programs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut exercises: Vec<PathBuf> = fs::read_dir(root.join("exercises"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect();
    exercises.sort();
    assert!(
        exercises.len() >= 5,
        "expected the exercises under exercises/, found {exercises:?}"
    );
    let mut report = String::new();
    for exercise in &exercises {
        for problem in starter::check(exercise) {
            report.push_str(&format!("{}: {problem}\n", exercise.display()));
        }
    }
    assert!(report.is_empty(), "{report}");
}
