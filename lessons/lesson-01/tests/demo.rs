//! lesson-01 runs its four demonstrations on this machine; the test reads
//! the addresses it printed and checks that they tell the truth.

use assert_cmd::Command;
use testkit::TIMEOUT;

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let output = Command::new(env!("CARGO_BIN_EXE_lesson-01"))
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

/// The text after `label` on the line that holds it.
fn after<'a>(stdout: &'a str, label: &str) -> &'a str {
    let line = stdout
        .lines()
        .find(|line| line.contains(label))
        .unwrap_or_else(|| panic!("no line with {label:?} in\n{stdout}"));
    line.split_once(label).unwrap().1.trim()
}

#[test]
fn port_zero_gets_a_real_port_from_the_os() {
    let (stdout, stderr, code) = run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(after(&stdout, "IPv4 socket (AF_INET, SOCK_STREAM):").ends_with("0.0.0.0:0"));
    let got = after(&stdout, "IPv4: asked for 127.0.0.1:0, got");
    let addr: std::net::SocketAddr = got.parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0, "{stdout}");
}

#[test]
fn the_two_ends_of_a_connection_mirror_each_other() {
    let (stdout, _, code) = run(&[]);
    assert_eq!(code, Some(0));
    let listening = after(&stdout, "server listens on");
    let client = after(&stdout, "client socket:");
    let server = after(&stdout, "server's new socket:");
    let (client_local, client_peer) = client.split_once("  peer ").unwrap();
    let (server_local, server_peer) = server.split_once("  peer ").unwrap();
    let client_local = client_local.trim_start_matches("local ");
    let server_local = server_local.trim_start_matches("local ");
    assert_eq!(client_local, server_peer, "{stdout}");
    assert_eq!(client_peer, server_local, "{stdout}");
    // The accepted socket has the listening socket's (IP, port).
    assert_eq!(server_local, listening, "{stdout}");
    assert_ne!(client_local, server_local);
    assert!(listening.starts_with("('127.0.0.1', "), "{listening}");
}

#[test]
fn resolves_the_host_it_is_given() {
    let (stdout, _, code) = run(&["--host", "127.0.0.1"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("127.0.0.1 -> 127.0.0.1 (IPv4, AF_INET)"),
        "{stdout}"
    );
    let (stdout, _, code) = run(&["--host", "::1"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("::1 -> ::1 (IPv6, AF_INET6)"), "{stdout}");
    // The default is localhost, which always has a loopback address.
    let (stdout, _, _) = run(&[]);
    assert!(stdout.contains("localhost -> "), "{stdout}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let (_, stderr, code) = run(&["--port", "1"]);
    assert_eq!(code, Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown option '--port'"), "{stderr}");
    let (stdout, _, code) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("--host HOST"), "{stdout}");
}

#[test]
fn a_closed_stdout_ends_the_program_quietly() {
    // `lesson-01 | head -1`: the reader goes away before the program has
    // printed everything. Here it is gone before the program starts, so the
    // first println! meets a closed pipe.
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lesson-01"))
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lesson-01 still running after {TIMEOUT:?} with its stdout closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let stderr = stderr.join().unwrap();
    assert_ne!(status.code(), Some(101), "a panic: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "nothing to say on stderr: {stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // Ended by SIGPIPE, as `head` expects of any Unix tool.
        assert_eq!(status.signal(), Some(13), "{status}");
    }
}
