//! The lessons talk to each other, and to Python peers written as the
//! tutorial writes them, across processes over loopback. Each side must see
//! the other's exact bytes and text.
//!
//! The Python tests need `python3`. Without it they say so and skip, except
//! where `SOCKET_LESSONS_REQUIRE_PYTHON` is set (`.ci/run` sets it), where a
//! missing `python3` fails them.

use std::path::PathBuf;
use std::process::Command;

use testkit::{Process, TIMEOUT, cargo_bin, contains, python3_or_skip};

const TUTORIAL_MESSAGE_REPR: &[u8] = br"b'\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!'";
const TUTORIAL_REPLY_REPR: &[u8] =
    br"b'ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0...'";

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

fn python(python: PathBuf, script_name: &str, args: &[String]) -> Command {
    let mut command = Command::new(python);
    command.arg(script(script_name)).args(args);
    // Print Chinese text as UTF-8 whatever the machine's locale.
    command.env("PYTHONIOENCODING", "utf-8");
    command
}

fn lesson_03() -> Process {
    let mut command = Command::new(cargo_bin("lesson-03"));
    command.args(["--host", "127.0.0.1", "--port", "0"]);
    Process::start_server(command).unwrap_or_else(|err| panic!("{err}"))
}

fn lesson_02(port: u16) -> Process {
    let mut command = Command::new(cargo_bin("lesson-02"));
    command.args(["--port", &port.to_string()]);
    Process::spawn(command).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn lesson_02_talks_to_lesson_03() {
    let mut server = lesson_03();
    let mut client = lesson_02(server.addr().port());
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    assert!(
        server.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&server.stderr())
    );

    let client_out = client.stdout().to_vec();
    let server_out = server.stdout().to_vec();
    // What the client sent is what the server received, byte for byte.
    assert!(contains(
        &client_out,
        &[b"sending (gbk): ", TUTORIAL_MESSAGE_REPR].concat()
    ));
    assert!(contains(
        &server_out,
        &[b"received: ", TUTORIAL_MESSAGE_REPR].concat()
    ));
    assert!(contains(
        &server_out,
        "decoded: 你好服务端，我是客户端小黑!\n".as_bytes()
    ));
    // And the other way.
    assert!(contains(
        &server_out,
        &[b"sending (gbk): ", TUTORIAL_REPLY_REPR].concat()
    ));
    assert!(contains(
        &client_out,
        &[b"received: ", TUTORIAL_REPLY_REPR].concat()
    ));
    assert!(contains(
        &client_out,
        "decoded: ok, 问题正在处理中...\n".as_bytes()
    ));
}

#[test]
fn rust_client_talks_to_the_tutorials_python_server() {
    let Some(py) = python3_or_skip("rust_client_talks_to_the_tutorials_python_server") else {
        return;
    };
    let mut server = Process::start_server(python(
        py,
        "tutorial_server.py",
        &["0".into(), "127.0.0.1".into()],
    ))
    .unwrap_or_else(|err| panic!("{err}"));
    let mut client = lesson_02(server.addr().port());
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    assert!(
        server.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&server.stderr())
    );

    let client_out = client.stdout().to_vec();
    let server_out = server.stdout().to_vec();
    assert!(
        contains(
            &server_out,
            "接收客户端的数据为: 你好服务端，我是客户端小黑!\n".as_bytes()
        ),
        "{}",
        text(&server_out)
    );
    assert!(contains(
        &client_out,
        &[b"received: ", TUTORIAL_REPLY_REPR].concat()
    ));
    assert!(contains(
        &client_out,
        "decoded: ok, 问题正在处理中...\n".as_bytes()
    ));
}

#[test]
fn the_tutorials_python_client_talks_to_the_rust_server() {
    let Some(py) = python3_or_skip("the_tutorials_python_client_talks_to_the_rust_server") else {
        return;
    };
    let mut server = lesson_03();
    let port = server.addr().port().to_string();
    let mut client = Process::spawn(python(
        py,
        "tutorial_client.py",
        &["127.0.0.1".into(), port],
    ))
    .unwrap();
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    assert!(
        server.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&server.stderr())
    );

    let client_out = client.stdout().to_vec();
    let server_out = server.stdout().to_vec();
    // Python's own repr of what it sent matches the b'...' the Rust side
    // printed for what it received: the printers agree.
    let python_sent = [
        "将要发送已编码成gbk的数据： ".as_bytes(),
        TUTORIAL_MESSAGE_REPR,
    ]
    .concat();
    assert!(contains(&client_out, &python_sent), "{}", text(&client_out));
    assert!(contains(
        &server_out,
        &[b"received: ", TUTORIAL_MESSAGE_REPR].concat()
    ));
    assert!(contains(
        &server_out,
        "decoded: 你好服务端，我是客户端小黑!\n".as_bytes()
    ));
    let python_received = ["服务端返回的数据 ".as_bytes(), TUTORIAL_REPLY_REPR].concat();
    assert!(
        contains(&client_out, &python_received),
        "{}",
        text(&client_out)
    );
    assert!(contains(
        &client_out,
        "接收服务端解码后的数据为: ok, 问题正在处理中...\n".as_bytes()
    ));
}

/// "ok, 收到了" in GBK, the threaded servers' reply.
const THREADED_REPLY_REPR: &[u8] = br"b'ok, \xca\xd5\xb5\xbd\xc1\xcb'";

fn lesson_05() -> Process {
    let mut command = Command::new(cargo_bin("lesson-05"));
    command.args(["--host", "127.0.0.1", "--port", "0"]);
    Process::start_server(command).unwrap_or_else(|err| panic!("{err}"))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
fn lesson_02_repeats_its_message_to_lesson_05_on_one_connection() {
    let mut server = lesson_05();
    let mut command = Command::new(cargo_bin("lesson-02"));
    command.args(["--port", &server.addr().port().to_string(), "--repeat", "3"]);
    let mut client = Process::spawn(command).unwrap();
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    let client_out = client.stdout().to_vec();
    assert_eq!(
        count(&client_out, &[b"received: ", THREADED_REPLY_REPR].concat()),
        3
    );
    assert_eq!(count(&client_out, "decoded: ok, 收到了\n".as_bytes()), 3);

    server.expect_line("client offline", TIMEOUT).unwrap();
    let server_out = server.stdout().to_vec();
    // One connection: one "connected" line, three messages from the same port.
    assert_eq!(count(&server_out, b"client connected: "), 1);
    let line = "received: 你好服务端，我是客户端小黑! ('127.0.0.1', ";
    assert_eq!(
        count(&server_out, line.as_bytes()),
        3,
        "{}",
        text(&server_out)
    );
}

#[test]
fn lesson_02_interactive_sends_each_line_and_refuses_what_gbk_cannot_encode() {
    let mut server = lesson_05();
    // Ctrl+D, the end of input, comes after the last line and closes the
    // connection.
    let mut lesson_02 = assert_cmd::Command::new(cargo_bin("lesson-02"));
    for var in testkit::LOCALE_VARS {
        lesson_02.env_remove(var);
    }
    let output = lesson_02
        .args(["--port", &server.addr().port().to_string(), "--interactive"])
        .write_stdin("我是客户端1\n表情😀\n第二轮\n")
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(count(&output.stdout, "decoded: ok, 收到了\n".as_bytes()), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("not sent") && stderr.contains("U+1F600"),
        "{stderr}"
    );

    server
        .expect_line("received: 我是客户端1 ", TIMEOUT)
        .unwrap();
    server.expect_line("received: 第二轮 ", TIMEOUT).unwrap();
    server.expect_line("client offline", TIMEOUT).unwrap();
}

#[test]
fn the_tutorials_python_client_talks_to_lesson_05() {
    let Some(py) = python3_or_skip("the_tutorials_python_client_talks_to_lesson_05") else {
        return;
    };
    let mut server = lesson_05();
    let port = server.addr().port().to_string();
    let mut client = Process::spawn(python(
        py,
        "tutorial_client.py",
        &["127.0.0.1".into(), port],
    ))
    .unwrap();
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    let python_received = ["服务端返回的数据 ".as_bytes(), THREADED_REPLY_REPR].concat();
    assert!(contains(client.stdout(), &python_received));
    server
        .expect_line("received: 你好服务端，我是客户端小黑! ", TIMEOUT)
        .unwrap();
    server.expect_line("client offline", TIMEOUT).unwrap();
}

#[test]
fn lesson_02_talks_to_the_tutorials_python_threaded_server() {
    let Some(py) = python3_or_skip("lesson_02_talks_to_the_tutorials_python_threaded_server")
    else {
        return;
    };
    let mut server = Process::start_server(python(
        py,
        "tutorial_threaded_server.py",
        &["0".into(), "127.0.0.1".into()],
    ))
    .unwrap_or_else(|err| panic!("{err}"));
    let mut command = Command::new(cargo_bin("lesson-02"));
    command.args(["--port", &server.addr().port().to_string(), "--repeat", "2"]);
    let mut client = Process::spawn(command).unwrap();
    assert!(
        client.wait(TIMEOUT).unwrap().success(),
        "{}",
        text(&client.stderr())
    );
    assert_eq!(
        count(client.stdout(), "decoded: ok, 收到了\n".as_bytes()),
        2
    );
    // The Python server block-buffers its stdout into the pipe: SIGINT makes
    // it exit (KeyboardInterrupt) and flush what it printed.
    server.signal("INT").unwrap();
    let _ = server.wait(TIMEOUT);
    let server_out = server.stdout().to_vec();
    let line = "接收的数据： 你好服务端，我是客户端小黑! ('127.0.0.1', ";
    assert_eq!(
        count(&server_out, line.as_bytes()),
        2,
        "{}",
        text(&server_out)
    );
}
