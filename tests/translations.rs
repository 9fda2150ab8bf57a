//! Every Chinese document translates the current English one: the English
//! walkthroughs, the exercises' READMEs, the root README, the table of
//! contents (docs/README.md), the grading manual and the architecture each have a `*.zh-CN.md` twin that records which version of the
//! English it translates (see `translation.rs`), and the two link to each
//! other at the top.

use std::fs;
use std::path::PathBuf;

use course_tests::translation;

#[test]
fn translations_follow_their_english_twins() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut documents = vec![
        root.join("README.md"),
        root.join("docs/README.md"),
        root.join("docs/grading.md"),
        root.join("docs/architecture.md"),
    ];
    for folder in ["lessons", "exercises"] {
        let mut readmes: Vec<PathBuf> = fs::read_dir(root.join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path().join("README.md"))
            .filter(|path| path.exists())
            .collect();
        readmes.sort();
        documents.extend(readmes);
    }
    assert!(documents.len() >= 14, "{documents:?}");
    let mut report = String::new();
    for english in &documents {
        for problem in translation::check(english, REQUIRED) {
            report.push_str(&problem);
            report.push('\n');
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// Every document must have its translation: none may go missing.
const REQUIRED: bool = true;
