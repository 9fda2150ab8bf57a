//! What the shell hands over is bytes: an argument that is not UTF-8, or a
//! value with a newline in it, must end as one line on stderr and exit
//! code 2, never as a panic or a message split over two lines. lesson-04
//! has all the kinds of argument: a positional, text, a port, an encoding.

use std::ffi::OsStr;
use std::process::{Command, Output};

fn run(args: &[&[u8]]) -> Output {
    #[cfg(unix)]
    let args = args.iter().map(|arg| {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(arg)
    });
    #[cfg(not(unix))]
    let args = args
        .iter()
        .map(|arg| OsStr::new(std::str::from_utf8(arg).unwrap()));
    // In English whatever the machine's locale.
    testkit::in_english(&mut Command::new(env!("CARGO_BIN_EXE_lesson-04")))
        .args(args)
        .output()
        .unwrap()
}

/// Runs lesson-04 with `args`, checks that it stopped at once with a usage
/// error (exit code 2, one line on stderr), and returns that line.
fn usage_error(args: &[&[u8]]) -> String {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("lesson-04: error: "), "{stderr}");
    assert!(stderr.ends_with(" (see lesson-04 --help)\n"), "{stderr}");
    assert!(output.stdout.is_empty(), "{args:?}: nothing should run");
    stderr
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_usage_errors() {
    for (args, expected) in [
        (
            &[&b"\xff"[..]][..],
            r#"argument "\xFF" is not valid Unicode"#,
        ),
        (&[b"server", b"--host", b"\xfe"], r#"argument "\xFE" is"#),
        (&[b"server", b"--port=80\xff"], r#"argument "80\xFF" is"#),
        (&[b"client", b"--encoding", b"gbk\xff"], "not valid Unicode"),
        (&[b"--po\xffrt", b"1"], "unknown option '--po\u{fffd}rt'"),
    ] {
        let stderr = usage_error(args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_newline_in_a_value_is_shown_escaped_on_the_one_line() {
    let stderr = usage_error(&[b"server", b"--port", b"80\n80"]);
    assert!(
        stderr.contains(r"invalid value '80\n80' for --port"),
        "{stderr}"
    );
    let stderr = usage_error(&[b"3\n4"]);
    assert!(stderr.contains(r"unknown experiment '3\n4'"), "{stderr}");
}

#[test]
fn lexopt_mistakes_read_in_the_courses_words() {
    for (args, expected) in [
        (&[&b"--port"[..]][..], "option --port needs a value"),
        (&[b"-x"], "unknown option '-x'"),
        (&[b"1", b"2"], "unexpected argument '2'"),
    ] {
        let stderr = usage_error(args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // `--` ends the options: what follows is the positional argument.
    let output = run(&[b"--", b"-1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown experiment '-1'"), "{stderr}");
}
