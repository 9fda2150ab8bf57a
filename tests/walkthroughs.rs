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

/// Both tests read and (with `UPDATE_WALKTHROUGHS`) rewrite the same
/// walkthroughs: one at a time, or one's update overwrites the other's.
static FILES: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn walkthroughs_quote_the_current_source() {
    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
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

/// Every console block that shows a program's `--help` (its first line
/// `$ cargo run -p PACKAGE [--bin BIN] -- ... --help`) shows what the
/// program prints now, in every walkthrough and its Chinese twin: a new
/// flag cannot be missing from the page that teaches the flags.
/// `UPDATE_WALKTHROUGHS=1` rewrites them too.
#[test]
fn help_blocks_show_the_current_help() {
    let _files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let update = std::env::var_os("UPDATE_WALKTHROUGHS").is_some();
    let mut report = String::new();
    let mut shown = 0;
    for path in markdown_files(&root) {
        let text = fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        let mut lines = text.split_inclusive('\n').peekable();
        while let Some(line) = lines.next() {
            out.push_str(line);
            let command = match lines.peek() {
                Some(next) if line.trim_end() == "```console" => next.trim_end(),
                _ => continue,
            };
            let Some(argv) = help_command(command) else {
                continue;
            };
            out.push_str(lines.next().unwrap());
            let mut block = String::new();
            for line in lines.by_ref() {
                if line.trim_end() == "```" {
                    break;
                }
                block.push_str(line);
            }
            let (package, bin, args) = argv;
            let output = testkit::in_english(&mut std::process::Command::new(
                testkit::cargo_bin_of(&package, &bin),
            ))
            .args(&args)
            .output()
            .unwrap();
            let help = String::from_utf8(output.stdout).unwrap();
            shown += 1;
            if help != block {
                report.push_str(&format!(
                    "{}: the block after `{command}` is not what it prints now\n",
                    path.display()
                ));
            }
            out.push_str(&help);
            out.push_str("```\n");
        }
        if update && out != text {
            fs::write(&path, &out).unwrap();
            eprintln!("updated {}", path.display());
        }
    }
    assert!(shown >= 6, "only {shown} --help blocks found");
    if update {
        return;
    }
    assert!(
        report.is_empty(),
        "{report}\nTo show the current help, run\n  UPDATE_WALKTHROUGHS=1 cargo test -p course-tests --test walkthroughs"
    );
}

/// `$ cargo run [-q] -p PACKAGE [--bin BIN] -- ARGS` with `--help` in ARGS,
/// as (PACKAGE, BIN, ARGS).
fn help_command(line: &str) -> Option<(String, String, Vec<String>)> {
    let words: Vec<&str> = line.strip_prefix("$ cargo run ")?.split(' ').collect();
    let split = words.iter().position(|w| *w == "--")?;
    let (flags, args) = (&words[..split], &words[split + 1..]);
    if !args.contains(&"--help") {
        return None;
    }
    let value = |flag: &str| {
        let at = flags.iter().position(|w| *w == flag)?;
        flags.get(at + 1).map(|v| (*v).to_owned())
    };
    let package = value("-p")?;
    let bin = value("--bin").unwrap_or_else(|| package.clone());
    Some((package, bin, args.iter().map(|a| (*a).to_owned()).collect()))
}

/// The course's Markdown: the READMEs at the top, in docs/, lessons/ and
/// exercises/ (one level down), sorted.
fn markdown_files(root: &std::path::Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf(), root.join("docs")];
    for parent in ["lessons", "exercises"] {
        for entry in fs::read_dir(root.join(parent)).unwrap() {
            dirs.push(entry.unwrap().path());
        }
    }
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|dir| fs::read_dir(dir).ok())
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files
}
