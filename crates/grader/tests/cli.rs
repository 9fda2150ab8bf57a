//! The grader's command line, driven as a person types it: help on stdout
//! with exit status 0, and every mistake one line on stderr with exit
//! status 2, before anything is built or run. These tests grade nothing, so
//! they are quick.

use std::process::Output;

use assert_cmd::Command;

/// The grader, in English whatever the machine's locale (the locale
/// variables removed).
fn english() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    for var in testkit::LOCALE_VARS {
        command.env_remove(var);
    }
    command
}

fn grader(args: &[&str]) -> Output {
    english().args(args).output().unwrap()
}

/// Runs `args`, asserts a usage error (one line, exit 2, nothing on
/// stdout) and returns the line.
fn usage_error(args: &[&str]) -> String {
    let output = grader(args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("grader: error: "), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    stderr.trim_end().to_owned()
}

#[test]
fn an_unknown_flag_is_one_line_and_exit_2() {
    for (args, needles) in [
        (
            &["check", "lesson-05", "--frobnicate", "--", "x"][..],
            &[
                "unexpected argument '--frobnicate'",
                "(see grader check --help)",
            ][..],
        ),
        (
            &["check", "lesson-05", "--formt", "json"],
            &["'--formt'", "a similar argument exists: '--format'"],
        ),
        (
            &["hint", "lesson-05", "python3", "server.py"],
            &["'python3'", "put the program's command after --"],
        ),
        // Options that a command does not take.
        (
            &["batch", "lesson-03", ".", "--run", "x", "--port", "8080"],
            &["'--port'", "(see grader batch --help)"],
        ),
        (&["check", "lesson-05", "--jobs", "3"], &["'--jobs'"]),
        (&["progress", "--format", "json"], &["'--format'"]),
        (&["--foo"], &["'--foo'", "(see grader --help)"]),
        (&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]),
        (&[], &["requires a subcommand"]),
        (
            &["batch", "lesson-03", ".", "--run", "x", "--", "y"],
            &["only check and hint take a program's command"],
        ),
    ] {
        let line = usage_error(args);
        for needle in needles {
            assert!(line.contains(needle), "{args:?}: {needle:?} not in {line}");
        }
    }
}

#[test]
fn a_bad_value_is_one_line_and_exit_2() {
    for (args, needle) in [
        (
            &["batch", "lesson-03", ".", "--run", "x", "--jobs", "0"][..],
            "invalid value '0' for '--jobs <N>': expected a whole number from 1 to 64",
        ),
        (
            &["check", "lesson-05", "--format", "xml", "--", "x"],
            "invalid value 'xml' for '--format <FORMAT>' [possible values: text, json, junit, gradescope, classroom]",
        ),
        (
            &["check", "lesson-05", "--port", "70000", "--", "x"],
            "expected a port number from 1 to 65535",
        ),
        (
            &["check", "lesson-05", "--memory", "1", "--", "x"],
            "expected a whole number from 16 to 1048576",
        ),
        (
            &["check", "lesson-05", "--time-scale", "-1", "--", "x"],
            "invalid value '-1' for '--time-scale <F>': expected a number from 0.1 to 100",
        ),
        (
            &["check", "lesson-05", "--env", "=x", "--", "x"],
            "expected NAME=VALUE",
        ),
        (
            &["check", "lesson-10", "--", "x"],
            "invalid value 'lesson-10' for '<LESSON>': expected one of lesson-02",
        ),
        (
            &["check", "lesson-05", "--timeout"],
            "a value is required for '--timeout <SECS>'",
        ),
        // `--` ends the options: it is never taken for a value.
        (
            &["check", "lesson-05", "--setup", "--", "make"],
            "a value is required for '--setup <TEMPLATE>'",
        ),
        (
            &["check", "lesson-05", "--watch=yes"],
            "unexpected value 'yes' for '--watch'",
        ),
        // Checked after parsing, against the lesson.
        (
            &["check", "lesson-05", "--only", "-x", "--", "x"],
            "lesson-05 has no check '-x'",
        ),
        (
            &["check", "lesson-04", "--", "prog", "{port}"],
            "put {mode} in the command",
        ),
        (
            &["batch", "lesson-03", "."],
            "the following required arguments were not provided: --run <TEMPLATE>",
        ),
    ] {
        let line = usage_error(args);
        assert!(line.contains(needle), "{args:?}: {needle:?} not in {line}");
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["help", "check"],
        &["check", "--help"],
        &["check", "lesson-05", "--port", "9", "-h"],
        &["hint", "--help"],
        &["progress", "--help"],
        &["batch", "--help"],
        &["list", "--help"],
    ] {
        let output = grader(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(output.stderr.is_empty(), "{args:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Usage:"), "{args:?}: {help}");
        assert!(help.contains("-h, --help"), "{args:?}: {help}");
    }
    let check = String::from_utf8(grader(&["check", "--help"]).stdout).unwrap();
    for needle in [
        "[-- <COMMAND>...]",
        "\n  {port}   a free loopback port",
        "\n  {mode}   lesson-04 runs",
        "{bytes}",
        "--setup-timeout <SECS>",
        "[default: 300]",
        "[default: 2048]",
        "[default: C.UTF-8]",
        "Exit status:",
    ] {
        assert!(check.contains(needle), "{needle} missing from\n{check}");
    }
    let top = String::from_utf8(grader(&["--help"]).stdout).unwrap();
    for needle in [
        "grader batch LESSON DIR --run TEMPLATE",
        "\n  {port}   a free loopback port",
        "\n  {host}   127.0.0.1",
        "sandbox",
    ] {
        assert!(top.contains(needle), "{needle} missing from\n{top}");
    }
    let version = grader(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("grader {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_argument_that_is_not_utf8_is_one_line_and_exit_2() {
    use std::os::unix::ffi::OsStrExt;
    let output = english()
        .args(["check", "lesson-05", "--dir"])
        .arg(std::ffi::OsStr::from_bytes(b"bad\xffname"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("argument 4 (bad\u{fffd}name) is not valid UTF-8"),
        "{stderr}"
    );
}
