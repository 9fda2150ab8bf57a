//! lesson-04's experiments print what the OS answered; these tests check
//! that each experiment shows what its note says, and drive the `server`
//! and `client` modes over loopback. They run the program in English (the
//! default, whatever the machine's locale); the last ones check its Chinese
//! (`--lang zh`, or a Chinese locale): the tutorial's notes word for word.

use std::io::{ErrorKind, Read, Write};
use std::process::{Child, ChildStdin, Command as StdCommand, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use testkit::{LOCALE_VARS, Process, TIMEOUT, accept, connect, contains, fake_server, read_to_end};

/// lesson-04 without the locale variables: it speaks English unless the
/// test says otherwise.
fn lesson_04() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lesson-04"));
    for var in LOCALE_VARS {
        command.env_remove(var);
    }
    command.timeout(TIMEOUT);
    command
}

fn run(args: &[&str]) -> (String, i32) {
    run_with(lesson_04().args(args))
}

fn run_with(command: &mut Command) -> (String, i32) {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        String::from_utf8(output.stdout).unwrap(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn note_1_the_listening_socket_cannot_send_or_receive() {
    let (out, code) = run(&["1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("listener.send(b'hello')  -> error: "), "{out}");
    assert!(out.contains("listener.recv(1024)      -> error: "), "{out}");
    if cfg!(target_os = "linux") {
        assert!(out.contains("Transport endpoint is not connected"), "{out}");
    }
    assert!(!out.contains("Note 2"), "one experiment only: {out}");
}

#[test]
fn note_2_messages_go_through_the_accepted_socket() {
    let (out, code) = run(&["2"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("conn.recv(1024)      -> b'ping' (4 bytes)"),
        "{out}"
    );
    assert!(
        out.contains("client.recv(1024)    -> b'pong' (4 bytes)"),
        "{out}"
    );
    // Both accepted sockets share the server's (IP, port).
    let local_of = |label: &str| {
        let line = out.lines().find(|l| l.contains(label)).unwrap();
        line.split(": ")
            .nth(1)
            .unwrap()
            .split(" <-> ")
            .next()
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(local_of("returned a new socket"), local_of("second socket"));
}

#[test]
fn note_3_recv_returns_zero_when_the_client_closes() {
    let (out, code) = run(&["3"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("client.close()\n    conn.recv(1024)      -> b'' (0 bytes)"),
        "{out}"
    );
    assert!(out.contains("is offline (客户端下线)"), "{out}");
    assert!(
        out.contains("conn.recv(1024) again -> b'' (0 bytes)"),
        "{out}"
    );
}

#[test]
fn note_4_recv_returns_zero_when_the_server_closes() {
    let (out, code) = run(&["4"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("conn.close()\n    client.recv(1024)    -> b'' (0 bytes)"),
        "{out}"
    );
}

#[test]
fn note_5_half_close_still_receives_and_close_meets_a_reset() {
    let (out, code) = run(&["5"]);
    assert_eq!(code, 0, "{out}");
    let (half, full) = out.split_once("With close():").unwrap();
    assert!(
        half.contains("client.recv(1024)           -> b'reply' (5 bytes)"),
        "{out}"
    );
    assert!(full.contains("#1    -> 5 bytes"), "{out}");
    assert!(
        full.contains("Broken pipe") || full.contains("reset"),
        "the second send should fail: {out}"
    );
}

#[test]
fn without_an_argument_every_note_runs() {
    let (out, code) = run(&[]);
    assert_eq!(code, 0, "{out}");
    for note in ["Note 1", "Note 2", "Note 3", "Note 4", "Note 5"] {
        assert!(out.contains(note), "{note} missing");
    }
}

#[test]
fn an_unknown_experiment_is_a_usage_error() {
    for arg in ["9", "0", "servr"] {
        let output = lesson_04().arg(arg).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("'{arg}'")), "{stderr}");
    }
}

fn server() -> Process {
    server_with(&[])
}

/// The `server` mode on a free port, with `extra` flags (`--lang zh`).
fn server_with(extra: &[&str]) -> Process {
    let mut command = StdCommand::new(env!("CARGO_BIN_EXE_lesson-04"));
    command
        .args(["server", "--host", "127.0.0.1", "--port", "0"])
        .args(extra);
    Process::start_server(command).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn server_mode_reports_a_client_offline_and_takes_the_next() {
    let mut server = server();
    for round in 0..2 {
        let mut client = connect(server.addr());
        client.write_all(b"hi").unwrap();
        let mut reply = [0u8; 10];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"ok, \xca\xd5\xb5\xbd\xc1\xcb");
        let port = client.local_addr().unwrap().port();
        drop(client);
        let line = server
            .expect_line("recv returned 0", TIMEOUT)
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        assert!(contains(
            &line,
            format!("('127.0.0.1', {port}) is offline").as_bytes()
        ));
    }
}

#[test]
fn server_mode_closes_on_request_and_the_client_reads_end_of_stream() {
    let mut server = server();
    let mut client = connect(server.addr());
    client.write_all(b"close").unwrap();
    assert_eq!(read_to_end(&mut client), b"");
    server
        .expect_line("closing the connection", TIMEOUT)
        .unwrap();
}

/// lesson-04's `client` mode with its stdin left open, as a user who has
/// typed a line and then types nothing more: the test, not the end of input,
/// decides when the conversation ends. Killed and reaped on drop.
struct Client {
    child: Child,
    /// Held, never written to again: the client's input stays open.
    _stdin: ChildStdin,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<thread::JoinHandle<()>>,
}

impl Client {
    fn start(port: u16, typed: &str) -> Client {
        let mut child = testkit::in_english(&mut StdCommand::new(env!("CARGO_BIN_EXE_lesson-04")))
            .args(["client", "--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(typed.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), Arc::clone(&stdout)),
            collect(child.stderr.take().unwrap(), Arc::clone(&stderr)),
        ];
        Client {
            child,
            _stdin: stdin,
            stdout,
            stderr,
            readers,
        }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits up to `timeout` for the client to exit by itself; then reads
    /// the rest of its output.
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipes close with the process: the readers finish.
                self.readers.drain(..).for_each(|r| r.join().unwrap());
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// What it printed so far, stdout and stderr, for assertions and
    /// failure messages.
    fn output(&self) -> (String, String) {
        let text =
            |buf: &Mutex<Vec<u8>>| String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
        (text(&self.stdout), text(&self.stderr))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(
    mut pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

/// Whether the peer of `conn` is still connected and silent: no data and no
/// end of stream waiting to be read.
fn quiet_and_open(conn: &std::net::TcpStream) -> bool {
    conn.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let result = conn.peek(&mut byte);
    conn.set_nonblocking(false).unwrap();
    matches!(result, Err(err) if err.kind() == ErrorKind::WouldBlock)
}

#[test]
fn client_mode_notices_the_server_closing() {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port();
    // One line typed, and the input left open: the client waits for more.
    let mut client = Client::start(port, "hello\n");
    let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
    let mut message = [0u8; 5];
    conn.read_exact(&mut message).unwrap();
    assert_eq!(&message, b"hello");
    // The server closes without replying.
    drop(conn);
    let status = client.wait(TIMEOUT).unwrap_or_else(|| {
        panic!(
            "the client was still running {TIMEOUT:?} after the server closed: {:?}",
            client.output()
        )
    });
    let (stdout, stderr) = client.output();
    assert!(status.success(), "{status}: {stdout}{stderr}");
    assert!(
        stdout.contains("recv returned 0: the server closed the connection"),
        "{stdout}"
    );
    assert!(!stdout.contains("received:"), "{stdout}");
}

/// The course's grader plays this: the client must notice a server that
/// closes while the client waits for its user, not only while it waits for
/// a reply.
#[test]
fn client_mode_exits_when_the_server_closes_while_its_input_is_still_open() {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port();
    let mut client = Client::start(port, "你好\n");
    let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
    let mut message = [0u8; 4];
    conn.read_exact(&mut message).unwrap();
    assert_eq!(&message, b"\xc4\xe3\xba\xc3", "你好 in GBK");
    conn.write_all(b"ok").unwrap();
    // The server holds its close back. The client has nothing to say and
    // nothing to read: it must stay, connected, with its input open.
    thread::sleep(Duration::from_millis(1500));
    assert!(
        client.running(),
        "the client exited before the server closed: {:?}",
        client.output()
    );
    assert!(
        quiet_and_open(&conn),
        "the client closed its side or sent more before the server closed: {:?}",
        client.output()
    );
    drop(conn);
    // A client that reads a line before each recv waits here for a line
    // that never comes, and fails.
    let status = client.wait(TIMEOUT).unwrap_or_else(|| {
        panic!(
            "the client was still running {TIMEOUT:?} after the server closed: {:?}",
            client.output()
        )
    });
    let (stdout, stderr) = client.output();
    assert!(status.success(), "{status}: {stdout}{stderr}");
    assert!(stdout.contains("received: ok\n"), "{stdout}");
    assert!(
        stdout.contains("recv returned 0: the server closed the connection"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("end of input"),
        "its input was never closed: {stdout}"
    );
}

#[test]
fn client_mode_closes_at_end_of_input() {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut message = [0u8; 2];
        conn.read_exact(&mut message).unwrap();
        conn.write_all(b"ok").unwrap();
        let rest = read_to_end(&mut conn);
        // The client closed only its sending half: it still receives.
        conn.write_all(b"bye").unwrap();
        rest
    });
    let output = lesson_04()
        .args(["client", "--port", &port])
        .write_stdin("hi\n")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The server's read ended with end of stream: the client shut down its
    // sending half at end of input.
    assert_eq!(server.join().unwrap(), b"");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("received: ok"), "{stdout}");
    assert!(
        stdout.contains("end of input: shutdown(Write); the server's recv will return 0"),
        "{stdout}"
    );
    // What the server said after the client's end of input still came,
    // and the client exited when the server closed, not at end of input.
    assert!(stdout.contains("bye"), "{stdout}");
    assert!(
        stdout.ends_with("recv returned 0: the server closed the connection\n"),
        "{stdout}"
    );
}

#[test]
fn flags_the_experiments_would_ignore_are_usage_errors() {
    for args in [
        &["--port", "9000"][..],
        &["3", "--host", "127.0.0.1"],
        &["1", "--encoding", "utf-8"],
        &["5", "--port=8080"],
    ] {
        let output = lesson_04().args(args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("only applies to the server and client modes"),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}: nothing should run");
    }
}

#[test]
fn client_mode_refuses_port_zero() {
    let output = lesson_04()
        .args(["client", "--port", "0"])
        .write_stdin("hi\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot connect to port 0"), "{stderr}");
}

#[test]
fn server_mode_warns_about_invalid_gbk_and_waits_for_half_a_character() {
    let mut server = server();
    let mut client = connect(server.addr());
    let port = client.local_addr().unwrap().port();
    client.write_all(b"ok \xff\xff!").unwrap();
    let mut reply = [0u8; 10];
    client.read_exact(&mut reply).unwrap();
    // 你 (c4 e3), its first byte alone: nothing to print yet but a note.
    client.write_all(b"\xc4").unwrap();
    let line = server.expect_line("waiting for the rest", TIMEOUT).unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!("received: (half a character, waiting for the rest) ('127.0.0.1', {port})")
    );
    client.read_exact(&mut reply).unwrap();
    client.write_all(b"\xe3").unwrap();
    server
        .expect_line(&format!("received: 你 ('127.0.0.1', {port})"), TIMEOUT)
        .unwrap();
    client.read_exact(&mut reply).unwrap();
    // The warning was printed before the replies were sent.
    server.signal("TERM").unwrap();
    server.wait(TIMEOUT).unwrap();
    let stdout = String::from_utf8_lossy(server.stdout()).into_owned();
    assert!(
        stdout.contains(&format!(
            "received: ok \u{FFFD}\u{FFFD}! ('127.0.0.1', {port})"
        )),
        "{stdout}"
    );
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "lesson-04: warning: ('127.0.0.1', {port}) sent 2 byte sequence(s) that are not valid gbk, shown as �; the bytes: b'ok \\xff\\xff!'\n"
        )
    );
}

#[test]
fn server_mode_prints_a_message_on_one_line_with_control_characters_escaped() {
    let mut server = server();
    let mut client = connect(server.addr());
    let port = client.local_addr().unwrap().port();
    client
        .write_all(b"hi\nrecv returned 0: forged\x1b[2J\r")
        .unwrap();
    let mut reply = [0u8; 10];
    client.read_exact(&mut reply).unwrap();
    server
        .expect_line(
            &format!(r"received: hi\nrecv returned 0: forged\x1b[2J\r ('127.0.0.1', {port})"),
            TIMEOUT,
        )
        .unwrap();
    server.signal("TERM").unwrap();
    server.wait(TIMEOUT).unwrap();
    let stdout = server.stdout().to_vec();
    assert!(!stdout.contains(&0x1b));
    assert!(
        !String::from_utf8_lossy(&stdout)
            .lines()
            .any(|l| l.starts_with("recv returned 0: forged")),
    );
}

#[test]
fn client_mode_skips_empty_and_non_utf8_lines_and_warns_about_an_invalid_reply() {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut message = [0u8; 2];
        conn.read_exact(&mut message).unwrap();
        conn.write_all(b"ok \xff!").unwrap();
        // Until the client's end of input (its shutdown(Write)); then the
        // server closes, and the client's recv returns 0.
        let mut rest = read_to_end(&mut conn);
        rest.splice(0..0, message);
        rest
    });
    let output = lesson_04()
        .args(["client", "--port", &port])
        .write_stdin(&b"\nhi\n\xc4\xe3\n"[..])
        .output()
        .unwrap();
    // Exactly "hi" went out; the empty line and the GBK (not UTF-8) line
    // were skipped instead of sent or ending the program.
    assert_eq!(server.join().unwrap(), b"hi");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("lesson-04: empty line, nothing sent"),
        "{stderr}"
    );
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(
        stderr.contains(
            "lesson-04: warning: the reply held 1 byte sequence(s) that are not valid gbk, shown as �"
        ),
        "{stderr}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("received: ok \u{FFFD}!\n"), "{stdout}");
    assert!(
        stdout.ends_with("recv returned 0: the server closed the connection\n"),
        "{stdout}"
    );
}

/// `--lang zh`: each note's heading is the tutorial's own sentence (section
/// 4, "TCP网络应用程序的注意点"), word for word, and the lines under it speak
/// its terms.
#[test]
fn lang_zh_prints_the_tutorials_notes_word_for_word() {
    let (out, code) = run(&["--lang", "zh"]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    for note in [
        "注意点 1: 调用listen的套接字对象属于被动套接字，只负责接收新的客户端的连接请求，不能收发消息",
        "注意点 2: 收发信息交由accept返回的新的套接字对象",
        "注意点 3: 客户端那边调用close，服务端的recv会解阻塞，返回的数据长度为0",
        "注意点 4: 服务端关闭套接字，客户端的 recv 也会解阻塞，返回的数据长度也为0",
        "注意点 5（教程之外）: close() 与 shutdown(Write)（半关闭）的区别",
        "    conn.recv(1024)      -> b'ping' (4 字节)",
        "  client.close()",
        "    conn.recv(1024)      -> b'' (0 字节)",
        "    再次 conn.recv(1024) -> b'' (0 字节)",
        "  conn.close()",
        "    client.recv(1024)    -> b'' (0 字节)",
        "  返回的数据长度也为0: 服务端已经关闭了连接。",
        "  使用 shutdown(Write):",
        "    client.recv(1024)           -> b'reply' (5 字节)",
        "  使用 close():",
    ] {
        assert!(lines.contains(&note), "{note:?} in\n{out}");
    }
    // print('客户端下线', ip_port), after the 0 bytes of note 3.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  返回的数据长度为0: 客户端下线 ('127.0.0.1', ")),
        "{out}"
    );
    // What the OS says stays as the OS says it.
    if cfg!(target_os = "linux") {
        assert!(
            out.contains("listener.recv(1024)      -> 错误: Transport endpoint is not connected"),
            "{out}"
        );
    }
    assert!(!out.contains("Note "), "{out}");
    assert!(!out.contains("bytes"), "{out}");
}

#[test]
fn a_chinese_locale_chooses_chinese_and_lang_en_overrides_it() {
    let chinese = |command: &mut Command| run_with(command.env("LANG", "zh_CN.UTF-8"));
    let (out, code) = chinese(lesson_04().arg("4"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(
            "注意点 4: 服务端关闭套接字，客户端的 recv 也会解阻塞，返回的数据长度也为0\n"
        ),
        "{out}"
    );
    let (out, code) = chinese(lesson_04().args(["4", "--lang", "en"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("Note 4: the server closes; the client's recv() returns 0 bytes.\n"),
        "{out}"
    );
}

#[test]
fn usage_errors_are_in_chinese_too() {
    for (args, expected) in [
        (
            &["--lang", "zh", "9"][..],
            "lesson-04: 错误: 未知的实验 '9'：应为 1 到 5、server 或 client（见 lesson-04 --help）\n",
        ),
        (
            &["--lang", "zh", "3", "--port", "9000"],
            "lesson-04: 错误: --port 只用于 server 和 client 模式，不用于实验（见 lesson-04 --help）\n",
        ),
        (
            &["--lang", "zh", "client", "--port", "0"],
            "lesson-04: 错误: --port 0：客户端不能连接端口 0；请给出服务端监听的端口（见 lesson-04 --help）\n",
        ),
    ] {
        let output = lesson_04().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8(output.stderr).unwrap(), expected);
        assert!(output.stdout.is_empty(), "{args:?}: nothing should run");
    }
}

/// The `server` mode in Chinese prints the tutorial's lines: section 5's
/// `客户端连接成功:` and `接收的数据：` with the client's address, and
/// `客户端下线` when recv returns 0. `listening on` stays English: the
/// tests and the grader read it.
#[test]
fn server_mode_in_chinese_prints_the_tutorials_lines() {
    let mut server = server_with(&["--lang", "zh"]);
    let mut client = connect(server.addr());
    let port = client.local_addr().unwrap().port();
    let mut reply = [0u8; 10];
    for message in [&b"\xc4\xe3\xba\xc3"[..], b"ok \xff!"] {
        client.write_all(message).unwrap();
        client.read_exact(&mut reply).unwrap();
    }
    drop(client);
    server
        .expect_line("recv 返回 0", TIMEOUT)
        .unwrap_or_else(|err| panic!("{err}"));
    server.signal("TERM").unwrap();
    server.wait(TIMEOUT).unwrap();
    let stdout = String::from_utf8_lossy(server.stdout()).into_owned();
    let client = format!("('127.0.0.1', {port})");
    assert!(stdout.starts_with("listening on 127.0.0.1:"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            format!("客户端连接成功: {client}"),
            format!("接收的数据： 你好 {client}"),
            format!("接收的数据： ok \u{FFFD}! {client}"),
            format!("recv 返回 0: 客户端下线 {client}"),
        ]
    );
    // The warning about bytes that are not GBK is in Chinese as well.
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "lesson-04: 警告: {client} 发来 1 处不是有效 gbk 的字节，显示为 �；这些字节: b'ok \\xff!'\n"
        )
    );
}

/// The `client` mode in Chinese: the tutorial's client prints
/// `接收服务端解码后的数据为:` before each reply.
#[test]
fn client_mode_in_chinese_prints_the_tutorials_lines() {
    let listener = fake_server();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut conn, _) = accept(&listener, TIMEOUT).unwrap();
        let mut message = [0u8; 4];
        conn.read_exact(&mut message).unwrap();
        // "ok, 收到了" in GBK, then the server closes.
        conn.write_all(b"ok, \xca\xd5\xb5\xbd\xc1\xcb").unwrap();
        read_to_end(&mut conn);
        message
    });
    let output = lesson_04()
        .args(["--lang", "zh", "client", "--port", &port])
        .write_stdin("你好\n")
        .output()
        .unwrap();
    assert_eq!(&server.join().unwrap(), b"\xc4\xe3\xba\xc3", "你好 in GBK");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("已连接到 127.0.0.1:{port}；输入一条消息后按回车发送，输入 `close` 请服务端关闭连接，按 Ctrl+D 结束输入").as_str())
    );
    assert_eq!(lines.last().copied(), Some("recv 返回 0: 服务端关闭了连接"));
    // The reply and the end of input come in either order: two threads.
    assert_eq!(lines.len(), 4, "{stdout}");
    lines[1..3].sort();
    assert_eq!(
        lines[1..3],
        [
            "接收服务端解码后的数据为: ok, 收到了",
            "输入结束: shutdown(Write)；服务端的 recv 将返回 0",
        ],
        "{stdout}"
    );
}
