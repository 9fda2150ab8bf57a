//! The `loadgen` command line: help on stdout with exit status 0, and every
//! mistake one line on stderr with exit status 2, before any connection is
//! made. (Its modes against real servers: `crates/bench/tests/smoke.rs`.)

use std::process::{Command, Output};

fn loadgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn mistakes_are_one_line_and_exit_2() {
    for (args, needle) in [
        (
            &["pingpong", "--frobnicate"][..],
            "unexpected argument '--frobnicate'",
        ),
        (
            &["pingpong", "--clint", "3"],
            "a similar argument exists: '--clients'",
        ),
        (
            &["pingpong", "--clients", "0"],
            "invalid value '0' for '--clients <C>': expected a whole number from 1 to 100000",
        ),
        (
            &["bulk", "--chunk", "x"],
            "invalid value 'x' for '--chunk <K>'",
        ),
        (
            &["idle", "--port", "70000"],
            "expected a port number from 0 to 65535",
        ),
        (
            &["pingpong", "--encoding", "latin9"],
            "expected gbk or utf-8",
        ),
        (
            &["pingpong", "--timeout"],
            "a value is required for '--timeout <SECS>'",
        ),
        (&["pingpong", "idle"], "unexpected argument 'idle'"),
        (
            &["bulk", "--seconds", "3"],
            "--seconds does not apply to bulk",
        ),
        (&["pingpong", "--message="], "--message is empty"),
    ] {
        let output = loadgen(args);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("loadgen: error: "), "{stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr}"
        );
        assert!(
            stderr.trim_end().ends_with("(see loadgen --help)"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_lists_every_option_with_its_default_and_exits_0() {
    for flag in ["--help", "-h"] {
        let output = loadgen(&["pingpong", flag]);
        assert_eq!(output.status.code(), Some(0));
        assert!(output.stderr.is_empty());
        let help = String::from_utf8(output.stdout).unwrap();
        for needle in [
            "Usage: loadgen [OPTIONS] [MODE]",
            "--clients <C>",
            "[default: 100]",
            "--encoding <gbk|utf-8>",
            "[default: gbk]",
            "[default: 8080]",
            "[default: 67108864]",
            "-h, --help",
        ] {
            assert!(help.contains(needle), "{needle} missing from\n{help}");
        }
    }
}

/// A server that accepts and never answers: the error names the message
/// plainly (not `Some(0)`) and the wait that ran out, which is each
/// reply's, not `--timeout`.
#[test]
fn a_silent_server_is_named_with_the_wait_that_ran_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    // Accepted by the kernel's backlog; nobody reads or replies.
    let out = loadgen(&[
        "pingpong",
        "--port",
        &port,
        "--clients",
        "1",
        "--messages",
        "1",
        "--timeout",
        "60",
    ]);
    drop(listener);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("client 0 at message 0: no reply within 5 s (the wait for each reply)"),
        "{stderr}"
    );
    assert!(!stderr.contains("Some("), "{stderr}");
}
