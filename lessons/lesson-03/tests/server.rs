//! lesson-03 driven by a test client over loopback: the real binary, on a
//! port the OS chose, found from its `listening on` line.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use testkit::{Process, TIMEOUT, connect, contains, fake_server, read_to_end};

const MESSAGE_GBK: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";
/// The tutorial's reply, "ok, 问题正在处理中...", in GBK.
const REPLY_GBK: &[u8] = b"ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0...";

fn server(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lesson-03"));
    command.args(args);
    command
}

fn start(port: u16) -> Process {
    Process::start_server(server(&[
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]))
    .unwrap_or_else(|err| panic!("{err}"))
}

/// One conversation: send `message`, read the reply until the server closes.
fn converse(addr: SocketAddr, message: &[u8]) -> (SocketAddr, Vec<u8>) {
    let mut client = connect(addr);
    client.write_all(message).unwrap();
    (client.local_addr().unwrap(), read_to_end(&mut client))
}

#[test]
fn serves_one_client_in_the_tutorials_words_and_exits() {
    let mut server = start(0);
    let (client_addr, reply) = converse(server.addr(), MESSAGE_GBK);
    assert_eq!(reply, REPLY_GBK);

    let status = server.wait(TIMEOUT).unwrap();
    assert!(status.success(), "{status}");
    let stdout = server.stdout().to_vec();
    let expected_client = format!("client address: ('127.0.0.1', {})\n", client_addr.port());
    assert!(
        contains(&stdout, expected_client.as_bytes()),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(contains(
        &stdout,
        "decoded: 你好服务端，我是客户端小黑!\n".as_bytes()
    ));
    assert!(contains(
        &stdout,
        br"sending (gbk): b'ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0...'"
    ));
    assert!(
        server.stderr().is_empty(),
        "{}",
        String::from_utf8_lossy(&server.stderr())
    );

    // The listening socket is closed too: nobody answers on the port now.
    let refused = TcpStream::connect(server.addr()).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn restarts_at_once_on_the_same_port_thanks_to_so_reuseaddr() {
    let mut first = start(0);
    let addr = first.addr();
    let _ = converse(addr, MESSAGE_GBK);
    assert!(first.wait(TIMEOUT).unwrap().success());
    // The server closed first, so its side of that connection is now in
    // TIME_WAIT; without SO_REUSEADDR this bind fails with "address in use".
    let mut second = start(addr.port());
    assert_eq!(second.addr(), addr);
    let (_, reply) = converse(addr, b"again");
    assert_eq!(reply, REPLY_GBK);
    assert!(second.wait(TIMEOUT).unwrap().success());
}

#[test]
fn a_port_in_use_is_named_with_a_hint() {
    let holder = fake_server();
    let port = holder.local_addr().unwrap().port();
    let mut server = Process::spawn(server(&[
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]))
    .unwrap();
    let status = server.wait(TIMEOUT).unwrap();
    assert_eq!(status.code(), Some(1));
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use")),
        "{stderr}"
    );
    assert!(stderr.contains("--port"), "{stderr}");
}

#[test]
fn invalid_gbk_is_printed_with_replacement_characters_and_still_answered() {
    let mut server = start(0);
    let (_, reply) = converse(server.addr(), b"hi \xff\xfe!");
    assert_eq!(reply, REPLY_GBK);
    assert!(server.wait(TIMEOUT).unwrap().success());
    let stdout = server.stdout().to_vec();
    assert!(contains(&stdout, br"received: b'hi \xff\xfe!'"));
    assert!(contains(
        &stdout,
        "decoded: hi \u{FFFD}\u{FFFD}!\n".as_bytes()
    ));
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert!(
        stderr.contains("warning") && stderr.contains("not valid gbk"),
        "{stderr}"
    );
}

#[test]
fn a_message_cannot_forge_a_line_or_steer_the_terminal() {
    let mut server = start(0);
    let (_, reply) = converse(
        server.addr(),
        b"hi\nlistening on 0.0.0.0:1\x1b]0;owned\x07\r",
    );
    assert_eq!(reply, REPLY_GBK);
    assert!(server.wait(TIMEOUT).unwrap().success());
    let stdout = server.stdout().to_vec();
    // One line, the escapes shown as Python's repr shows them.
    assert!(
        contains(
            &stdout,
            br"decoded: hi\nlistening on 0.0.0.0:1\x1b]0;owned\x07\r"
        ),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(!stdout.contains(&0x1b));
    let text = String::from_utf8_lossy(&stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("listening on"))
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn a_client_that_closes_without_sending_is_reported_not_fatal() {
    let mut server = start(0);
    drop(connect(server.addr()));
    assert!(server.wait(TIMEOUT).unwrap().success());
    assert!(contains(
        server.stdout(),
        b"closed the connection without sending anything"
    ));
}

#[test]
fn a_client_that_resets_gets_a_one_line_error_not_a_panic() {
    let mut server = start(0);
    let client = socket2::Socket::from(connect(server.addr()));
    client.send(b"\xc4\xe3\xba").unwrap();
    // SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    client.set_linger(Some(std::time::Duration::ZERO)).unwrap();
    drop(client);
    let status = server.wait(TIMEOUT).unwrap();
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    if contains(server.stdout(), b"received: ") {
        // The half character it sent is flagged, not silently dropped.
        assert!(stderr.contains("warning"), "{stderr}");
    }
    if !status.success() {
        // Depending on timing, the reset reaches recv() or send(); either
        // way the error is one line, after any warning.
        assert_eq!(status.code(), Some(1));
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains(": warning: "))
            .collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].starts_with("lesson-03: error: "), "{stderr}");
        assert!(
            errors[0].contains("reset") || errors[0].contains("broken pipe"),
            "{stderr}"
        );
    }
}

#[test]
fn listens_on_ipv6_too() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let mut server = Process::start_server(server(&["--host", "::1", "--port", "0"])).unwrap();
    assert!(server.addr().is_ipv6());
    let (client_addr, reply) = converse(server.addr(), MESSAGE_GBK);
    assert_eq!(reply, REPLY_GBK);
    assert!(server.wait(TIMEOUT).unwrap().success());
    let expected = format!("client address: ('::1', {}, 0, 0)", client_addr.port());
    assert!(contains(server.stdout(), expected.as_bytes()));
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["--port", "70000"][..],
        &["--port", "abc"],
        &["--encoding", "latin9"],
        &["--bogus"],
    ] {
        let mut process = Process::spawn(server(args)).unwrap();
        let status = process.wait(TIMEOUT).unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(process.stderr()).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("lesson-03: error: "), "{stderr}");
    }
}

#[test]
fn reads_at_most_1024_bytes_as_the_tutorial_does() {
    // The simple server's limit, shown in the walkthrough: one recv(1024).
    let mut server = start(0);
    let mut client = connect(server.addr());
    client.write_all(&[b'a'; 1024]).unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, REPLY_GBK);
    assert!(server.wait(TIMEOUT).unwrap().success());
    let decoded = format!("decoded: {}\n", "a".repeat(1024));
    assert!(contains(server.stdout(), decoded.as_bytes()));
}

/// `--lang zh` (or a Chinese locale) prints the tutorial's own lines,
/// byte for byte, after the `listening on` line (a protocol line, English in
/// both languages).
#[test]
fn lang_zh_prints_the_tutorials_lines() {
    let lines = |client: SocketAddr| {
        format!(
            concat!(
                "接收到客户端的ip地址和端口号: ('127.0.0.1', {port})\n",
                r"接收到的字节: b'\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!'",
                "\n接收客户端的数据为: 你好服务端，我是客户端小黑!\n",
                r"将要发送已编码成gbk的数据： b'ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0...'",
                "\n已关闭与客户端的连接和监听套接字\n",
            ),
            port = client.port()
        )
    };
    let mut flag = server(&["--host", "127.0.0.1", "--port", "0", "--lang", "zh"]);
    let mut locale = server(&["--host", "127.0.0.1", "--port", "0"]);
    // Process::spawn removes the locale variables; a wrapper sets one again.
    locale = {
        let mut sh = Command::new("env");
        sh.arg("LANG=zh_CN.UTF-8")
            .arg(locale.get_program())
            .args(locale.get_args());
        sh
    };
    for command in [flag, locale] {
        let mut server = Process::start_server(command).unwrap_or_else(|err| panic!("{err}"));
        let (client_addr, reply) = converse(server.addr(), MESSAGE_GBK);
        assert_eq!(reply, REPLY_GBK);
        assert!(server.wait(TIMEOUT).unwrap().success());
        let stdout = String::from_utf8(server.stdout().to_vec()).unwrap();
        let (first, rest) = stdout.split_once('\n').unwrap();
        assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
        assert_eq!(rest, lines(client_addr));
    }
    flag = server(&["--lang", "zh", "--port", "70000"]);
    let output = flag.output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .starts_with("lesson-03: 错误: --port 的值 '70000' 无效"),
    );
}
