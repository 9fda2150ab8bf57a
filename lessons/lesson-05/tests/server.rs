//! lesson-05's two servers driven by many test clients at once, over
//! loopback: the real binaries (the tutorial's, `lesson-05`, and
//! `hardened`), on a port the OS chose, found from their `listening on`
//! line. What both must do is tested on both; the hardened one's limits,
//! summary and flags on it alone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use testkit::{Process, REPLY_GBK, TIMEOUT, ask, connect, contains, fake_server, gbk, read_to_end};

/// "服务器忙，请稍后再试" in GBK.
const BUSY_GBK: &[u8] =
    b"\xb7\xfe\xce\xf1\xc6\xf7\xc3\xa6\xa3\xac\xc7\xeb\xc9\xd4\xba\xf3\xd4\xd9\xca\xd4";

/// The tutorial's server.
const TUTORIAL: &str = env!("CARGO_BIN_EXE_lesson-05");
/// The hardened server.
const HARDENED: &str = env!("CARGO_BIN_EXE_hardened");

fn start(extra: &[&str]) -> Process {
    start_bin(HARDENED, extra)
}

fn start_bin(binary: &str, extra: &[&str]) -> Process {
    Process::start_on_loopback(binary, extra)
}

/// Reads one reply, or the busy reply and the end of stream.
fn read_to_end_or_reply(client: &mut TcpStream) -> Vec<u8> {
    let mut answer = vec![0; REPLY_GBK.len()];
    client.read_exact(&mut answer).unwrap();
    if answer != REPLY_GBK {
        client.read_to_end(&mut answer).unwrap();
    }
    answer
}

/// Stops the server with SIGINT and returns everything it printed. The
/// hardened server exits 0 with a summary; the tutorial's dies of the
/// signal, as the tutorial's does.
fn stop(mut server: Process) -> (Vec<u8>, String) {
    server.signal("INT").unwrap();
    let status = server.wait(TIMEOUT).unwrap();
    let stderr = String::from_utf8_lossy(&server.stderr()).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stdout = server.stdout().to_vec();
    if contains(&stdout, b"server stopped") {
        assert!(status.success(), "{status}: {stderr}");
    }
    (stdout, stderr)
}

#[test]
fn a_silent_client_does_not_block_the_next_one() {
    for binary in [TUTORIAL, HARDENED] {
        silent_client_does_not_block(binary);
    }
}

fn silent_client_does_not_block(binary: &str) {
    let server = start_bin(binary, &[]);
    // The first client connects and says nothing. A server that serves one
    // client at a time would now wait for it forever.
    let _silent = connect(server.addr());
    let mut second = connect(server.addr());
    assert_eq!(ask(&mut second, &gbk("我是客户端2")), REPLY_GBK);
    let (stdout, _) = stop(server);
    let port = second.local_addr().unwrap().port();
    let line = format!("received: 我是客户端2 ('127.0.0.1', {port})\n");
    assert!(
        contains(&stdout, line.as_bytes()),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
}

#[test]
fn two_hundred_clients_fifty_messages_each_nothing_lost_or_mixed() {
    for binary in [TUTORIAL, HARDENED] {
        two_hundred_clients(binary);
    }
}

fn two_hundred_clients(binary: &str) {
    const CLIENTS: usize = 200;
    const MESSAGES: usize = 50;
    let mut server = start_bin(binary, &[]);
    let addr = server.addr();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let mut client = connect(addr);
                for m in 0..MESSAGES {
                    let reply = ask(&mut client, &gbk(&format!("客户端{c}消息{m}")));
                    assert_eq!(reply, REPLY_GBK, "client {c} message {m}");
                }
                client.local_addr().unwrap().port()
            })
        })
        .collect();
    let ports: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for _ in 0..CLIENTS {
        server.expect_line("client offline", TIMEOUT).unwrap();
    }
    let (stdout, _) = stop(server);
    // Every message was printed once, with the address of the client that
    // sent it.
    let text = String::from_utf8_lossy(&stdout);
    let received: std::collections::HashSet<&str> = text
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
    if binary == HARDENED {
        let summary = format!("{CLIENTS} clients served, {} messages", CLIENTS * MESSAGES);
        assert!(
            contains(&stdout, summary.as_bytes()),
            "{}",
            String::from_utf8_lossy(&stdout)
        );
    }
}

#[test]
fn holds_a_thousand_clients_at_once() {
    const CLIENTS: usize = 1000;
    let mut server = start(&[]);
    let addr = server.addr();
    // All connected before any speaks: a thousand threads wait in recv().
    // Connect in batches smaller than the backlog of 128, each accepted
    // before the next, so that no handshake is dropped and retried.
    let mut clients: Vec<TcpStream> = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS / 100 {
        clients.extend((0..100).map(|_| connect(addr)));
        for _ in 0..100 {
            server.expect_line("client connected: ", TIMEOUT).unwrap();
        }
    }
    for (i, client) in clients.iter_mut().enumerate() {
        assert_eq!(
            ask(client, format!("{i}").as_bytes()),
            REPLY_GBK,
            "client {i}"
        );
    }
    drop(clients);
    let (stdout, _) = stop(server);
    let summary = format!("{CLIENTS} clients served, {CLIENTS} messages");
    assert!(contains(&stdout, summary.as_bytes()));
}

#[test]
fn misbehaving_clients_do_not_stop_anyone_else() {
    for binary in [TUTORIAL, HARDENED] {
        misbehaving_clients(binary);
    }
}

fn misbehaving_clients(binary: &str) {
    let mut server = start_bin(binary, &[]);
    let addr = server.addr();

    // Sends bytes that are not GBK.
    let mut garbage = connect(addr);
    assert_eq!(ask(&mut garbage, b"\xff\xfe bad"), REPLY_GBK);

    // Splits 你好 after its first byte, in two writes.
    let mut split = connect(addr);
    split.write_all(b"\xc4").unwrap();
    let split_port = split.local_addr().unwrap().port();
    let line = server
        .expect_line("received: (half a character", TIMEOUT)
        .unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!("received: (half a character, waiting for the rest) ('127.0.0.1', {split_port})")
    );
    // It is replied to like any other recv.
    let mut reply = [0u8; REPLY_GBK.len()];
    split.read_exact(&mut reply).unwrap();
    assert_eq!(reply, REPLY_GBK);
    split.write_all(b"\xe3\xba\xc3").unwrap();
    server.expect_line("received: 你好", TIMEOUT).unwrap();

    // Resets in the middle of a character.
    let reset = socket2::Socket::from(connect(addr));
    let reset_port = reset.local_addr().unwrap().as_socket().unwrap().port();
    reset.send(b"\xc4\xe3\xba").unwrap();
    reset.set_linger(Some(Duration::ZERO)).unwrap();
    drop(reset);

    // Sends 8 MiB without reading a single reply, then closes its side.
    let flood = thread::spawn(move || {
        let mut flood = connect(addr);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..128 {
            flood.write_all(&chunk).unwrap();
        }
        flood.shutdown(std::net::Shutdown::Write).unwrap();
        flood
    });

    // Never sends anything.
    let _silent = connect(addr);

    // Meanwhile a well-behaved client is served as usual, repeatedly.
    let mut good = connect(addr);
    for round in 0..20 {
        assert_eq!(ask(&mut good, &gbk(&format!("第{round}轮"))), REPLY_GBK);
    }
    let flood = flood.join().unwrap();
    // The server read all 8 MiB (its replies wait unread in the flooder's
    // receive buffer) and saw the end of the stream.
    let offline = format!(
        "client offline: ('127.0.0.1', {})",
        flood.local_addr().unwrap().port()
    );
    server.expect_line(&offline, TIMEOUT).unwrap();
    assert_eq!(ask(&mut good, &gbk("最后一轮")), REPLY_GBK);
    drop(flood);

    let (stdout, stderr) = stop(server);
    let text = String::from_utf8_lossy(&stdout);
    let port = |s: &TcpStream| s.local_addr().unwrap().port();
    assert!(
        text.contains(&format!(
            "received: \u{FFFD}\u{FFFD} bad ('127.0.0.1', {})",
            port(&garbage)
        )),
        "{text}"
    );
    assert!(stderr.contains("not valid gbk"), "{stderr}");
    // And the bytes themselves, so that nothing is lost.
    assert!(stderr.contains(r"the bytes: b'\xff\xfe bad'"), "{stderr}");
    assert!(
        text.contains(&format!("received: 你好 ('127.0.0.1', {})", port(&split))),
        "{text}"
    );
    // The client that reset: its thread ended with a one-line account,
    // whether the reset reached recv() or the reply's send().
    let reset_port = format!("('127.0.0.1', {reset_port})");
    assert!(
        text.lines().any(|l| l.contains(&reset_port)
            && (l.starts_with("client dropped: ") || l.starts_with("cannot reply to "))),
        "{text}"
    );
    assert!(text.contains("received: 最后一轮"), "{text}");
    if binary == TUTORIAL {
        return;
    }
    // The hardened server says the reset client left half a character
    // behind, as it does for a clean close in the middle of one (when the
    // reset reached recv(), not the reply's send()).
    if text.contains(&format!("client dropped: {reset_port}")) {
        assert!(
            stderr.contains(&format!(
                "{reset_port} was dropped in the middle of a character"
            )),
            "{stderr}"
        );
    }
    let bytes: u64 = text
        .lines()
        .last()
        .and_then(|l| l.split(" messages, ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(bytes >= 8 * 1024 * 1024, "{bytes} bytes received");
}

#[test]
fn a_message_cannot_forge_a_line_or_steer_the_terminal() {
    for binary in [TUTORIAL, HARDENED] {
        let mut server = start_bin(binary, &[]);
        let mut client = connect(server.addr());
        let forged = "hi\nreceived: forged ('10.9.8.7', 31337)\x1b]0;owned\x07\r";
        assert_eq!(ask(&mut client, &gbk(forged)), REPLY_GBK);
        let port = client.local_addr().unwrap().port();
        drop(client);
        server.expect_line("client offline", TIMEOUT).unwrap();
        let (stdout, _) = stop(server);
        let text = String::from_utf8_lossy(&stdout);
        let line = format!(
            r"received: hi\nreceived: forged ('10.9.8.7', 31337)\x1b]0;owned\x07\r ('127.0.0.1', {port})"
        );
        assert!(text.lines().any(|l| l == line), "{binary}: {text}");
        assert!(
            !text.lines().any(|l| l.starts_with("received: forged")),
            "{binary}: {text}"
        );
        assert!(!stdout.contains(&0x1b), "{binary}: {text}");
    }
}

#[test]
fn max_clients_turns_the_third_away_and_leaves_the_first_two_alone() {
    // All three come from 127.0.0.1: let one address take both places
    // (tests/hardened.rs shows the default, half of them).
    let mut server = start(&["--max-clients", "2", "--max-per-address", "2"]);
    let addr = server.addr();
    let mut first = connect(addr);
    let mut second = connect(addr);
    assert_eq!(ask(&mut first, b"1"), REPLY_GBK);
    assert_eq!(ask(&mut second, b"2"), REPLY_GBK);

    let mut third = connect(addr);
    assert_eq!(read_to_end(&mut third), BUSY_GBK);
    server.expect_line("server busy: refused", TIMEOUT).unwrap();

    assert_eq!(ask(&mut first, b"1 again"), REPLY_GBK);
    assert_eq!(ask(&mut second, b"2 again"), REPLY_GBK);

    // When one leaves, there is room again.
    drop(first);
    server.expect_line("client offline", TIMEOUT).unwrap();
    // (The place is given back right after that line: try until it is.)
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut fourth = connect(addr);
        fourth.write_all(b"4").unwrap();
        let answer = read_to_end_or_reply(&mut fourth);
        if answer == REPLY_GBK {
            break;
        }
        assert_eq!(answer, BUSY_GBK);
        assert!(Instant::now() < deadline, "no place after a client left");
        thread::sleep(Duration::from_millis(20));
    }
    stop(server);
}

#[test]
fn idle_timeout_closes_a_silent_client() {
    let mut server = start(&["--idle-timeout", "1"]);
    let mut silent = connect(server.addr());
    let started = Instant::now();
    assert_eq!(
        read_to_end(&mut silent),
        b"",
        "the server should close, not reply"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    server.expect_line("client idle, closing", TIMEOUT).unwrap();
    stop(server);
}

#[test]
fn sigint_under_load_exits_cleanly_with_a_summary() {
    let mut server = start(&[]);
    let addr = server.addr();
    let deadline = Instant::now() + TIMEOUT;
    let load: Vec<_> = (0..20)
        .map(|_| {
            thread::spawn(move || {
                let mut client = connect(addr);
                // Bounded: stops at the deadline, or when the server is gone.
                for _ in 0..100_000 {
                    if Instant::now() > deadline || client.write_all(b"load").is_err() {
                        break;
                    }
                    let mut reply = [0; REPLY_GBK.len()];
                    if client.read_exact(&mut reply).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    // Wait until every one of the twenty has been served at least once
    // (its thread printed a message with its address), so that the summary
    // must count all of them; then a few more messages, under load.
    let mut served = std::collections::HashSet::new();
    let mut messages = 0;
    while served.len() < 20 || messages < 50 {
        let line = server.expect_line("received: load", TIMEOUT).unwrap();
        served.insert(String::from_utf8_lossy(&line).into_owned());
        messages += 1;
    }
    let (stdout, _) = stop(server);
    for client in load {
        client.join().unwrap();
    }
    let text = String::from_utf8_lossy(&stdout);
    let last = text.lines().last().unwrap_or("");
    assert!(
        last.starts_with("SIGINT: server stopped; 20 clients served, "),
        "{last}"
    );
    assert!(last.ends_with(" bytes received"), "{last}");
}

#[test]
fn sigint_under_load_loses_no_message_that_was_answered() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    const CLIENTS: usize = 60;
    // Bounded: each client stops after this many messages, or at the
    // server's end.
    const MOST: usize = 5_000;
    for round in 0..3 {
        let mut server = start(&[]);
        let addr = server.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    // A client that starts only after the server stopped
                    // (a busy machine) connects to nothing: it got no reply.
                    let Ok(mut client) = TcpStream::connect(addr) else {
                        return (0, 0);
                    };
                    let _ = client.set_read_timeout(Some(TIMEOUT));
                    let Ok(local) = client.local_addr() else {
                        return (0, 0);
                    };
                    let port = local.port();
                    let mut answered = 0;
                    for m in 0..MOST {
                        if stop.load(Ordering::Relaxed)
                            || client
                                .write_all(format!("r{round}c{c}m{m}").as_bytes())
                                .is_err()
                        {
                            break;
                        }
                        let mut reply = [0u8; REPLY_GBK.len()];
                        if client.read_exact(&mut reply).is_err() {
                            break;
                        }
                        answered += 1;
                    }
                    (port, answered)
                })
            })
            .collect();
        // Let every client talk a while, then SIGINT in the middle of it.
        for _ in 0..300 {
            server.expect_line("received: r", TIMEOUT).unwrap();
        }
        server.signal("INT").unwrap();
        assert!(server.wait(TIMEOUT).unwrap().success());
        stop.store(true, Ordering::Relaxed);
        let answered: Vec<(u16, usize)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        let text = String::from_utf8_lossy(server.stdout()).into_owned();
        let printed = |port: u16| {
            let tail = format!(" ('127.0.0.1', {port})");
            text.lines()
                .filter(|l| l.starts_with("received: r") && l.ends_with(&tail))
                .count()
        };
        // Every message a client got an answer to was printed.
        for (port, got) in &answered {
            assert!(
                printed(*port) >= *got,
                "round {round}: client {port} got {got} replies, {} lines were printed",
                printed(*port)
            );
        }
        // And the summary counts exactly the messages printed.
        let lines = text
            .lines()
            .filter(|l| l.starts_with("received: r"))
            .count();
        let last = text.lines().last().unwrap_or("");
        assert!(
            last.contains(&format!(", {lines} messages,"))
                || last.contains(&format!(", {lines} message,")),
            "round {round}: {lines} lines printed, summary: {last}"
        );
    }
}

/// The accept queue the kernel granted a listener on `port` (the Send-Q
/// that `ss` shows for a listening socket), where `ss` is installed.
fn accept_queue(port: u16) -> Option<u64> {
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2)?.parse().ok()
}

#[test]
fn the_hardened_server_asks_for_an_accept_queue_a_burst_does_not_overflow() {
    let somaxconn: u64 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(4096);
    // The tutorial's server keeps the tutorial's listen(128); the hardened
    // one asks for 4096, which the kernel caps at somaxconn, and says so.
    for (binary, asked) in [(TUTORIAL, 128), (HARDENED, 4096)] {
        let mut server = start_bin(binary, &[]);
        let port = server.addr().port();
        let Some(queue) = accept_queue(port) else {
            assert!(
                std::env::var_os("SOCKET_LESSONS_REQUIRE_RUNTIMES").is_none(),
                "`ss` (iproute2) is required to read the accept queue"
            );
            eprintln!("skipped: `ss` (iproute2) is not installed");
            return;
        };
        assert_eq!(queue, asked.min(somaxconn), "{binary}");
        if binary == HARDENED {
            let line = server.expect_line("accept queue: ", TIMEOUT).unwrap();
            assert_eq!(
                String::from_utf8(line).unwrap(),
                format!(
                    "accept queue: {} connections (listen(4096), capped by net.core.somaxconn = {somaxconn})",
                    asked.min(somaxconn)
                )
            );
        }
    }
}

#[test]
fn sigterm_ends_it_too() {
    let mut server = start(&[]);
    let mut client = connect(server.addr());
    assert_eq!(ask(&mut client, b"hi"), REPLY_GBK);
    server.signal("TERM").unwrap();
    assert!(server.wait(TIMEOUT).unwrap().success());
    assert!(contains(
        server.stdout(),
        b"SIGTERM: server stopped; 1 client served, 1 message, 2 bytes received\n"
    ));
}

#[test]
fn a_port_in_use_is_named_with_a_hint() {
    let holder = fake_server();
    let port = holder.local_addr().unwrap().port().to_string();
    for binary in [TUTORIAL, HARDENED] {
        let mut command = Command::new(binary);
        command.args(["--host", "127.0.0.1", "--port", &port]);
        let mut server = Process::spawn(command).unwrap();
        assert_eq!(server.wait(TIMEOUT).unwrap().code(), Some(1));
        let stderr = String::from_utf8(server.stderr()).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("port {port} is already in use")),
            "{stderr}"
        );
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["--max-clients", "many"][..],
        &["--idle-timeout", "-1"],
        &["--port", "70000"],
        // A limit of 0 would serve nobody: out of range, not "no limit".
        &["--max-clients", "0"],
        &["--idle-timeout", "0"],
    ] {
        let mut process = Process::spawn({
            let mut c = Command::new(HARDENED);
            c.args(args);
            c
        })
        .unwrap();
        assert_eq!(process.wait(TIMEOUT).unwrap().code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(process.stderr()).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("hardened: error: "), "{stderr}");
        if args[1] == "0" {
            assert!(
                stderr.contains("at least 1") || stderr.contains("from 1 to"),
                "{stderr}"
            );
        }
    }
    // The tutorial's server has no limits to set: a limit is an unknown
    // option there.
    let mut process = Process::spawn({
        let mut c = Command::new(TUTORIAL);
        c.args(["--max-clients", "2"]);
        c
    })
    .unwrap();
    assert_eq!(process.wait(TIMEOUT).unwrap().code(), Some(2));
    let stderr = String::from_utf8(process.stderr()).unwrap();
    assert!(stderr.starts_with("lesson-05: error: "), "{stderr}");
}

#[test]
fn quiet_prints_no_line_per_message_but_still_serves_and_sums_up() {
    let server = start(&["--quiet"]);
    let mut client = connect(server.addr());
    assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
    assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
    drop(client);
    let (stdout, _) = stop(server);
    let text = String::from_utf8_lossy(&stdout);
    assert!(text.starts_with("listening on 127.0.0.1:"), "{text}");
    assert!(text.contains("1 client served, 2 messages"), "{text}");
    for line in ["client connected", "received:", "client offline"] {
        assert!(
            !text.contains(line),
            "{line:?} printed with --quiet: {text}"
        );
    }
}

/// `--lang zh`, or a Chinese locale, prints the tutorial's three lines for
/// a client that connects, sends 我是客户端1 and leaves, byte for byte;
/// `listening on` (a protocol line) stays English.
#[test]
fn lang_zh_prints_the_tutorials_lines() {
    for binary in [TUTORIAL, HARDENED] {
        let flag = start_bin(binary, &["--lang", "zh"]);
        let mut locale = Command::new("env");
        locale
            .args(["LANG=zh_CN.UTF-8", binary])
            .args(["--host", "127.0.0.1", "--port", "0"]);
        let locale = Process::start_server(locale).unwrap_or_else(|err| panic!("{err}"));
        for mut server in [flag, locale] {
            let mut client = connect(server.addr());
            assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
            let port = client.local_addr().unwrap().port();
            drop(client);
            server.expect_line("客户端下线", TIMEOUT).unwrap();
            let stdout = String::from_utf8(server.stdout().to_vec()).unwrap();
            let (first, rest) = stdout.split_once('\n').unwrap();
            assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
            let client = format!("('127.0.0.1', {port})");
            let lines = format!(
                "客户端连接成功: {client}\n接收的数据： 我是客户端1 {client}\n客户端下线 {client}\n"
            );
            if binary == TUTORIAL {
                assert_eq!(rest, lines);
            } else {
                // After the hardened server's start-up note on its accept
                // queue, where /proc tells it.
                let notes = rest
                    .strip_suffix(&lines)
                    .unwrap_or_else(|| panic!("{rest}"));
                assert!(
                    notes.is_empty() || notes.starts_with("全连接队列: "),
                    "{rest}"
                );
            }
            stop(server);
        }
    }
}
