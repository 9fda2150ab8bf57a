//! lesson-01 runs its four demonstrations on this machine; the test reads
//! the addresses it printed and checks that they tell the truth, in English
//! (the default, whatever the machine's locale) and in Chinese (`--lang zh`,
//! or a Chinese locale).

use assert_cmd::Command;
use testkit::{LOCALE_VARS, TIMEOUT};

/// lesson-01 without the locale variables: it speaks English unless the
/// test says otherwise.
fn lesson_01() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lesson-01"));
    for var in LOCALE_VARS {
        command.env_remove(var);
    }
    command.timeout(TIMEOUT);
    command
}

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    run_with(lesson_01().args(args))
}

fn run_with(command: &mut Command) -> (String, String, Option<i32>) {
    let output = command.output().unwrap();
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
    let labels = [
        "server listens on",
        "client socket:",
        "server's new socket:",
    ];
    mirrored(&stdout, labels, ("local ", "  peer "));
}

/// Checks step 4's three lines, found by their `labels`, with each end's
/// addresses after `local` and `peer`.
fn mirrored(stdout: &str, labels: [&str; 3], (local, peer): (&str, &str)) {
    let listening = after(stdout, labels[0]);
    let client = after(stdout, labels[1]);
    let server = after(stdout, labels[2]);
    let (client_local, client_peer) = client.split_once(peer).unwrap();
    let (server_local, server_peer) = server.split_once(peer).unwrap();
    let client_local = client_local.trim_start_matches(local);
    let server_local = server_local.trim_start_matches(local);
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
    let mut child = testkit::in_english(&mut Command::new(env!("CARGO_BIN_EXE_lesson-01")))
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

/// The Chinese output, line for line: the tutorial's terms (套接字, 地址族,
/// AddressFamily 表示IP地址类型, 对端), the same addresses.
#[test]
fn lang_zh_prints_the_steps_in_chinese() {
    let (stdout, stderr, code) = run(&["--lang", "zh", "--host", "127.0.0.1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "1. 套接字按地址族创建：AddressFamily 表示IP地址类型，分为IPv4和IPv6。"
    );
    assert_eq!(
        lines[1],
        "   IPv4 套接字 (AF_INET, SOCK_STREAM):  地址 0.0.0.0:0"
    );
    for heading in [
        "2. bind() 给套接字一个 (IP, 端口)；端口 0 让操作系统挑选。",
        "3. 一个主机名可以解析成一个或多个 IP地址。",
        "   127.0.0.1 -> 127.0.0.1 (IPv4, AF_INET)",
        "4. 一个连接有两端，每一端都是一个 (IP, 端口)。",
        "   监听套接字仍然可以接受下一个连接。",
    ] {
        assert!(lines.contains(&heading), "{heading:?} in\n{stdout}");
    }
    let got = after(&stdout, "IPv4: 请求 127.0.0.1:0，得到");
    let addr: std::net::SocketAddr = got.parse().unwrap();
    assert_ne!(addr.port(), 0, "{stdout}");
    let labels = ["服务端监听地址:", "客户端套接字:", "服务端的新套接字:"];
    mirrored(&stdout, labels, ("本地 ", "  对端 "));
    // The labels line up: each end's address starts in the same column.
    let column = |label: &str| {
        let line = lines.iter().find(|l| l.contains(label)).unwrap();
        netcore::cli::columns(&line[..line.find('(').unwrap()])
    };
    let local = netcore::cli::columns("本地 ");
    assert_eq!(column("服务端监听地址:") + local, column("客户端套接字:"));
    assert_eq!(column("客户端套接字:"), column("服务端的新套接字:"));
    assert!(
        !stdout.contains("socket"),
        "no English label left: {stdout}"
    );
}

#[test]
fn a_chinese_locale_chooses_chinese_and_lang_en_overrides_it() {
    let chinese = |command: &mut Command| run_with(command.env("LANG", "zh_CN.UTF-8"));
    let (stdout, _, code) = chinese(&mut lesson_01());
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("1. 套接字按地址族创建"), "{stdout}");
    let (stdout, _, code) = chinese(lesson_01().args(["--lang", "en"]));
    assert_eq!(code, Some(0));
    assert!(
        stdout.starts_with("1. A socket is created for an address family.\n"),
        "{stdout}"
    );
    // LC_MESSAGES comes before LANG, as in every Unix tool.
    let (stdout, _, _) = run_with(
        lesson_01()
            .env("LANG", "en_US.UTF-8")
            .env("LC_MESSAGES", "zh_CN.UTF-8"),
    );
    assert!(stdout.starts_with("1. 套接字"), "{stdout}");
}

#[test]
fn usage_errors_are_in_chinese_too() {
    let (stdout, stderr, code) = run(&["--lang", "zh", "--port", "1"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr,
        "lesson-01: 错误: 未知选项 '--port'（见 lesson-01 --help）\n"
    );
}
