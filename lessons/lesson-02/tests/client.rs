//! lesson-02 against a fake server played by the test, over loopback.
//!
//! Output is compared as bytes; the client's stdout is UTF-8 text holding
//! the GBK bytes in Python's `b'...'` form, exactly as the tutorial prints.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;

use assert_cmd::Command;
use testkit::{TIMEOUT, accept, contains, fake_server, read_to_end};

/// The tutorial's message, as its output shows it.
const SENT_LINE: &[u8] = br"sending (gbk): b'\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!'";
const MESSAGE_GBK: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";
/// The tutorial's server reply, "我是服务器", in GBK.
const REPLY_GBK: &[u8] = b"\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7";

/// The client, speaking English whatever the machine's locale.
fn lesson_02() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lesson-02"));
    for var in testkit::LOCALE_VARS {
        command.env_remove(var);
    }
    command
}

fn client(addr: SocketAddr) -> Command {
    let mut command = lesson_02();
    command
        .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
        .timeout(TIMEOUT);
    command
}

/// Plays the tutorial's server: reads `expect_len` bytes, replies, then reads
/// until the client closes. Returns what it received before and after.
fn serve_once(
    listener: TcpListener,
    expect_len: usize,
    reply: &'static [u8],
) -> thread::JoinHandle<(Vec<u8>, Vec<u8>)> {
    thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut message = vec![0; expect_len];
        conn.read_exact(&mut message).unwrap();
        conn.write_all(reply).unwrap();
        let after = read_to_end(&mut conn);
        (message, after)
    })
}

#[test]
fn prints_the_tutorials_bytes_and_the_decoded_reply_then_closes() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let server = serve_once(listener, MESSAGE_GBK.len(), REPLY_GBK);

    let output = client(addr).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = output.stdout;
    assert!(
        contains(&stdout, SENT_LINE),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(contains(
        &stdout,
        br"received: b'\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7'"
    ));
    assert!(contains(&stdout, "decoded: 我是服务器\n".as_bytes()));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The server got exactly the GBK bytes, then end of stream: the client closed.
    let (message, after) = server.join().unwrap();
    assert_eq!(message, MESSAGE_GBK);
    assert_eq!(after, b"");
}

#[test]
fn sends_utf8_when_asked() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let text = "我是客户端";
    let server = serve_once(listener, text.len(), "好的".as_bytes());

    let output = client(addr)
        .args(["--encoding", "utf-8", "--message", text])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(contains(&output.stdout, "decoded: 好的\n".as_bytes()));
    let (message, _) = server.join().unwrap();
    assert_eq!(message, text.as_bytes());
}

#[test]
fn connection_refused_names_the_address_and_how_to_start_a_server() {
    // A port that was free a moment ago and that nothing listens on now.
    let port = fake_server().local_addr().unwrap().port();
    let output = client(SocketAddr::from(([127, 0, 0, 1], port)))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("lesson-02: error: cannot connect to 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(stderr.contains(&format!(":{port}")), "{stderr}");
    assert!(stderr.contains("cargo run -p lesson-03"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_server_that_closes_without_replying_is_reported() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut message = vec![0; MESSAGE_GBK.len()];
        conn.read_exact(&mut message).unwrap();
        // Close without a word.
    });
    let output = client(addr).output().unwrap();
    server.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("closed the connection without replying"),
        "{stderr}"
    );
    // What happened before is still shown.
    assert!(contains(&output.stdout, SENT_LINE));
}

#[test]
fn an_invalid_gbk_reply_is_shown_with_replacement_characters_and_a_warning() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let server = serve_once(listener, MESSAGE_GBK.len(), b"ok \xff\xfe!");
    let output = client(addr).output().unwrap();
    server.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    // The raw bytes are printed in full: nothing is lost.
    assert!(contains(&output.stdout, br"received: b'ok \xff\xfe!'"));
    assert!(contains(
        &output.stdout,
        "decoded: ok \u{FFFD}\u{FFFD}!\n".as_bytes()
    ));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning") && stderr.contains("not valid gbk"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_message_gbk_cannot_encode_is_refused_before_connecting() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let output = client(addr).args(["--message", "你好😀"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("'😀'") && stderr.contains("U+1F600"),
        "{stderr}"
    );
    assert!(!stderr.contains("&#"), "{stderr}");
    // Nothing connected.
    assert!(accept(&listener, std::time::Duration::from_millis(100)).is_err());
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["--port", "70000"][..],
        &["--port", "abc"],
        &["--encoding", "latin9"],
        &["--bogus"],
    ] {
        let output = lesson_02().args(args).timeout(TIMEOUT).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("lesson-02: error: "), "{stderr}");
    }
}

#[test]
fn help_describes_the_flags() {
    let output = lesson_02().arg("--help").timeout(TIMEOUT).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--host",
        "--port",
        "--message",
        "--encoding",
        "你好服务端，我是客户端小黑!",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
}

/// Runs lesson-02 with `args` and no server: each must be refused as a
/// usage error (exit 2, one line naming `needle`) before it connects.
fn refused(args: &[&str], needle: &str) {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = lesson_02()
        .args(["--port", &port])
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("lesson-02: error: "), "{stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    // Nothing connected.
    assert!(accept(&listener, std::time::Duration::from_millis(100)).is_err());
}

#[test]
fn an_empty_message_is_a_usage_error_instead_of_a_hang() {
    // send() of 0 bytes sends nothing; the client used to wait for a reply
    // that could never come.
    refused(&["--message", ""], "--message is empty");
}

#[test]
fn interactive_refuses_flags_it_would_ignore() {
    refused(
        &["--interactive", "--repeat", "2"],
        "--repeat cannot be used",
    );
    refused(
        &["--interactive", "--repeat", "1"],
        "--repeat cannot be used",
    );
    refused(
        &["--interactive", "--message", "hi"],
        "--message cannot be used",
    );
}

#[test]
fn port_zero_is_a_usage_error_for_a_client() {
    let output = lesson_02()
        .args(["--port", "0"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot connect to port 0"), "{stderr}");
}

#[test]
fn repeat_zero_connects_and_closes_without_sending() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        read_to_end(&mut conn)
    });
    let output = client(addr).args(["--repeat", "0"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(server.join().unwrap(), b"", "nothing sent, then closed");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("connected to "), "{stdout}");
    assert!(!stdout.contains("sending"), "{stdout}");
}

#[test]
fn interactive_skips_empty_lines_and_lines_that_are_not_utf8_and_goes_on() {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    // Plays a server that answers each message; with an empty line sent as
    // 0 bytes, the client would wait for a reply that never comes.
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut got = Vec::new();
        for expected in [&b"hi"[..], b"bye"] {
            let mut message = vec![0; expected.len()];
            conn.read_exact(&mut message).unwrap();
            conn.write_all(b"ok").unwrap();
            got.push(message);
        }
        got.push(read_to_end(&mut conn));
        got
    });
    let output = client(addr)
        .arg("--interactive")
        .write_stdin(&b"hi\n\n\r\n\xff\xfe not utf-8\nbye\n"[..])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(server.join().unwrap(), [&b"hi"[..], b"bye", b""]);
    assert_eq!(
        stderr
            .matches("lesson-02: empty line, nothing sent")
            .count(),
        2,
        "{stderr}"
    );
    assert!(
        stderr.contains("lesson-02: not sent: that line is not valid UTF-8"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8(output.stdout)
            .unwrap()
            .matches("decoded: ok\n")
            .count(),
        2
    );
}

#[test]
fn help_says_what_repeat_zero_does() {
    let output = lesson_02().arg("--help").timeout(TIMEOUT).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("0 connects and closes without sending [default: 1]"),
        "{help}"
    );
}

/// The three lines the tutorial's client prints, byte for byte, after the
/// line that says where it connected.
const TUTORIAL_LINES: &str = concat!(
    r"将要发送已编码成gbk的数据： b'\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!'",
    "\n",
    r"服务端返回的数据 b'\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7'",
    "\n",
    "接收服务端解码后的数据为: 我是服务器\n",
);

/// Runs the client against the tutorial's server with `args` and `env`,
/// and returns its stdout after the first line.
fn conversation_output(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let listener = fake_server();
    let addr = listener.local_addr().unwrap();
    let server = serve_once(listener, MESSAGE_GBK.len(), REPLY_GBK);
    let output = client(addr)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    server.join().unwrap();
    let first = output.stdout.iter().position(|&b| b == b'\n').unwrap();
    output.stdout[first + 1..].to_vec()
}

#[test]
fn lang_zh_prints_the_tutorials_lines() {
    assert_eq!(
        String::from_utf8(conversation_output(&["--lang", "zh"], &[])).unwrap(),
        TUTORIAL_LINES
    );
}

#[test]
fn a_chinese_locale_chooses_chinese_and_lang_en_overrides_it() {
    let zh = [("LANG", "zh_CN.UTF-8")];
    assert_eq!(
        String::from_utf8(conversation_output(&[], &zh)).unwrap(),
        TUTORIAL_LINES
    );
    let english = String::from_utf8(conversation_output(&["--lang", "en"], &zh)).unwrap();
    assert!(english.starts_with("sending (gbk): b'"), "{english}");
    assert!(english.ends_with("decoded: 我是服务器\n"), "{english}");
    // LC_ALL comes before LANG, as in every Unix program.
    let c = [("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")];
    let english = String::from_utf8(conversation_output(&[], &c)).unwrap();
    assert!(english.starts_with("sending (gbk): b'"), "{english}");
}

#[test]
fn lang_zh_explains_a_refused_connection_in_chinese_on_one_line() {
    let port = fake_server().local_addr().unwrap().port();
    let output = client(SocketAddr::from(([127, 0, 0, 1], port)))
        .args(["--lang", "zh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "lesson-02: 错误: 无法连接 127.0.0.1:{port}: 连接被拒绝 (os error 111)。提示：端口 {port} 上没有程序在监听"
        )) || !cfg!(target_os = "linux"),
        "{stderr}"
    );
    assert!(stderr.contains("cargo run -p lesson-03"), "{stderr}");
}

#[test]
fn lang_zh_gives_usage_errors_in_chinese_and_refuses_an_unknown_language() {
    let output = lesson_02()
        .args(["--lang", "zh", "--port", "abc"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "lesson-02: 错误: --port 的值 'abc' 无效：端口号应在 0 到 65535 之间（见 lesson-02 --help）\n"
    );
    let output = lesson_02()
        .args(["--lang", "fr"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "lesson-02: error: invalid value for --lang: unknown language 'fr': expected en or zh (see lesson-02 --help)\n"
    );
}
