//! Every program's `--help` fits a terminal of 80 columns (a Chinese
//! character takes two): the lessons', loadgen's, bench's and the
//! grader's.

use std::process::Command;

use netcore::cli::columns;
use testkit::{cargo_bin, cargo_bin_of};

#[test]
fn every_lessons_help_fits_80_columns() {
    let mut programs: Vec<std::path::PathBuf> = ["lesson-01", "lesson-02", "lesson-03"]
        .iter()
        .chain(&["lesson-04", "lesson-05", "lesson-06", "loadgen", "bench"])
        .chain(&["lesson-08"])
        .chain(&["lesson-09"])
        .map(|name| cargo_bin(name))
        .collect();
    programs.push(cargo_bin_of("lesson-05", "hardened"));
    programs.push(cargo_bin("lesson-07"));
    programs.push(cargo_bin_of("lesson-08", "readiness"));
    let mut runs: Vec<(std::path::PathBuf, &[&str])> = programs
        .into_iter()
        .map(|program| (program, &["--help"][..]))
        .collect();
    // The grader's help, and its commands' with the most options.
    let grader = cargo_bin("grader");
    for args in [&["--help"][..], &["check", "--help"], &["batch", "--help"]] {
        runs.push((grader.clone(), args));
    }
    for (program, args) in runs {
        let output = Command::new(&program).args(args).output().unwrap();
        assert!(output.status.success(), "{} {args:?}", program.display());
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.lines().count() > 3, "{help}");
        for line in help.lines() {
            assert!(
                columns(line) <= 80,
                "{} {args:?}: {} columns: {line}",
                program.display(),
                columns(line)
            );
        }
    }
}
