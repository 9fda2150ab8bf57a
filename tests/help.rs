//! Every program's `--help` fits a terminal of 80 columns (a Chinese
//! character takes two): the lessons', loadgen's, bench's and the
//! grader's.

use std::process::Command;

use testkit::{cargo_bin, cargo_bin_of};

/// Terminal columns: East Asian wide and full-width characters take two.
fn columns(line: &str) -> usize {
    line.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f | 0x2e80..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff => 2,
            0xfe30..=0xfe4f | 0xff00..=0xff60 | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn every_lessons_help_fits_80_columns() {
    let mut programs: Vec<std::path::PathBuf> = ["lesson-01", "lesson-02", "lesson-03"]
        .iter()
        .chain(&["lesson-04", "lesson-05", "lesson-06", "loadgen", "bench"])
        .map(|name| cargo_bin(name))
        .collect();
    programs.push(cargo_bin_of("lesson-05", "hardened"));
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
