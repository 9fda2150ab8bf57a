//! Every lesson's walkthrough, in English and in Chinese, quotes its real
//! source: each code block after an `<!-- include: FILE:ANCHOR -->` marker
//! must equal the anchored region, and every anchored region must be shown.
//!
//! After changing a lesson's code, refresh its walkthrough's blocks with
//! `UPDATE_WALKTHROUGHS=1 cargo test -p course-tests --test walkthroughs`,
//! then reread the prose around them.

use std::fs;
use std::path::PathBuf;

use course_tests::walkthrough;

#[test]
fn walkthroughs_quote_the_current_source() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut lessons: Vec<PathBuf> = fs::read_dir(root.join("lessons"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect();
    lessons.sort();
    assert!(
        lessons.len() >= 3,
        "expected the lessons under lessons/, found {lessons:?}"
    );

    let update = std::env::var_os("UPDATE_WALKTHROUGHS").is_some();
    let mut report = String::new();
    // Each walkthrough, and its Chinese twin where there is one: both quote
    // the same source.
    let walkthroughs = lessons.iter().flat_map(|dir| {
        ["README.md", "README.zh-CN.md"]
            .into_iter()
            .map(move |name| (dir, name))
            .filter(|(dir, name)| *name == "README.md" || dir.join(name).exists())
    });
    for (dir, name) in walkthroughs {
        let path = dir.join(name);
        let Ok(readme) = fs::read_to_string(&path) else {
            report.push_str(&format!("{}: no README.md walkthrough\n", dir.display()));
            continue;
        };
        if update {
            let updated = walkthrough::update(dir, &readme).unwrap();
            if updated != readme {
                fs::write(&path, &updated).unwrap();
                eprintln!("updated {}", path.display());
            }
        }
        let readme = fs::read_to_string(&path).unwrap();
        for problem in walkthrough::check(dir, &readme) {
            report.push_str(&format!("{}: {problem}\n", path.display()));
        }
    }
    assert!(
        report.is_empty(),
        "{report}\nTo copy the current source into the walkthroughs, run\n  UPDATE_WALKTHROUGHS=1 cargo test -p course-tests --test walkthroughs\nand reread the prose around each block."
    );
}
