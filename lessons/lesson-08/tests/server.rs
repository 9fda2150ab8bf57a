//! lesson-08's event loop, the real binary, driven over loopback by test
//! clients: lesson 05's conversation in GBK (and in the tutorial's Chinese
//! lines), a character split over two sends, a thousand clients at once,
//! echo of megabytes to a slow reader, a client that never reads (served
//! around, memory bounded), one thread, no CPU while idle; and the
//! readiness experiment's stall.
//!
//! Nothing here is timed: every wait is bounded, and the bounds are far
//! beyond what a passing run needs.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use proctools::process::{SchedStat, Status, cpu_times};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use testkit::{Process, REPLY_GBK, TIMEOUT, ask, connect, contains, gbk};

const SERVER: &str = env!("CARGO_BIN_EXE_lesson-08");
const READINESS: &str = env!("CARGO_BIN_EXE_readiness");
/// The server's limit on output waiting for one client (connection.rs).
const OUTPUT_LIMIT: usize = 256 * 1024;

fn start(extra: &[&str]) -> Process {
    Process::start_on_loopback(SERVER, extra)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kills the server and returns everything it printed on stdout.
fn stop(mut server: Process) -> Vec<u8> {
    server.signal("KILL").unwrap();
    server.wait(TIMEOUT).unwrap();
    let stderr = text(&server.stderr());
    assert!(!stderr.contains("panicked"), "{stderr}");
    server.stdout().to_vec()
}

/// `len` bytes that no two offsets share by accident (xorshift).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Asserts two byte strings are equal, naming the first difference rather
/// than printing megabytes.
fn assert_same(got: &[u8], expected: &[u8], what: &str) {
    if got != expected {
        let at = got.iter().zip(expected).position(|(a, b)| a != b);
        panic!(
            "{what}: got {} bytes, expected {}; first difference at {at:?}",
            got.len(),
            expected.len()
        );
    }
}

/// Resident memory of `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    Status::read(pid).unwrap().rss_bytes.unwrap()
}

/// A client whose receive buffer is small (`recv_buffer` bytes, set before
/// connecting so that TCP's window follows it): the server's sends to it
/// fill up fast and come back partial.
fn connect_small_window(addr: SocketAddr, recv_buffer: usize) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    socket.set_recv_buffer_size(recv_buffer).unwrap();
    socket.connect_timeout(&addr.into(), TIMEOUT).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Sends `data` from a thread of its own, then ends its side; reads the
/// echo until the server closes, pausing `pause` every 16 KiB (a slow
/// reader). Returns what came back.
fn echo(mut client: TcpStream, data: Arc<Vec<u8>>, pause: Option<Duration>) -> Vec<u8> {
    let mut writer = client.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&data).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = client.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buffer[..n]);
        if let Some(pause) = pause {
            thread::sleep(pause);
        }
    }
    sender.join().unwrap();
    got
}

/// A client that sends up to `total` bytes and reads nothing, from a
/// thread of its own. Returns the socket (to end it with `shutdown`) and
/// the count of bytes sent so far.
fn flood(addr: SocketAddr, total: usize) -> (TcpStream, Arc<AtomicUsize>, thread::JoinHandle<()>) {
    let client = connect(addr);
    let mut writer = client.try_clone().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let handle = thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        while counter.load(Ordering::SeqCst) < total {
            match writer.write(&chunk) {
                Ok(n) => drop(counter.fetch_add(n, Ordering::SeqCst)),
                // Shut down by the test, or blocked past the write timeout.
                Err(_) => break,
            }
        }
    });
    (client, sent, handle)
}

/// Waits until the flood has sent `total` bytes, or has sent nothing more
/// for half a second (the server stopped reading it); meanwhile samples
/// the server's memory. Returns the bytes sent and the largest RSS seen.
fn wait_for_flood(sent: &AtomicUsize, total: usize, pid: u32) -> (usize, u64) {
    let deadline = Instant::now() + TIMEOUT;
    let (mut last, mut still, mut peak) = (usize::MAX, 0, 0);
    while Instant::now() < deadline && still < 10 {
        let now = sent.load(Ordering::SeqCst);
        if now >= total {
            break;
        }
        still = if now == last { still + 1 } else { 0 };
        last = now;
        peak = peak.max(rss(pid));
        thread::sleep(Duration::from_millis(50));
    }
    (sent.load(Ordering::SeqCst), peak.max(rss(pid)))
}

#[test]
fn the_reply_conversation_in_gbk() {
    let mut server = start(&[]);
    let mut client = connect(server.addr());
    assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
    assert_eq!(
        ask(&mut client, &gbk("我是客户端1，测试第一轮发送")),
        REPLY_GBK
    );
    let port = client.local_addr().unwrap().port();
    drop(client);
    server.expect_line("client offline", TIMEOUT).unwrap();
    let stdout = text(&stop(server));
    let client = format!("('127.0.0.1', {port})");
    let lines = format!(
        "client connected: {client}\nreceived: 我是客户端1 {client}\nreceived: 我是客户端1，测试第一轮发送 {client}\nclient offline: {client}\n"
    );
    let (first, rest) = stdout.split_once('\n').unwrap();
    assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
    assert_eq!(rest, lines);
}

/// `--lang zh`, or a Chinese locale, prints the tutorial's three lines,
/// byte for byte; `listening on` (read by tools) stays English.
#[test]
fn lang_zh_prints_the_tutorials_lines() {
    let flag = start(&["--lang", "zh"]);
    let mut locale = Command::new("env");
    locale
        .args(["LANG=zh_CN.UTF-8", SERVER])
        .args(["--host", "127.0.0.1", "--port", "0"]);
    let locale = Process::start_server(locale).unwrap_or_else(|err| panic!("{err}"));
    for mut server in [flag, locale] {
        let mut client = connect(server.addr());
        assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
        let port = client.local_addr().unwrap().port();
        drop(client);
        server.expect_line("客户端下线", TIMEOUT).unwrap();
        let stdout = String::from_utf8(stop(server)).unwrap();
        let (first, rest) = stdout.split_once('\n').unwrap();
        assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
        let client = format!("('127.0.0.1', {port})");
        assert_eq!(
            rest,
            format!(
                "客户端连接成功: {client}\n接收的数据： 我是客户端1 {client}\n客户端下线 {client}\n"
            )
        );
    }
}

/// 你好 split after its first byte, in two sends: one decoder per
/// connection prints it whole, and each recv is answered.
#[test]
fn a_gbk_character_split_over_two_sends_is_printed_whole() {
    let mut server = start(&[]);
    let mut client = connect(server.addr());
    let port = client.local_addr().unwrap().port();
    assert_eq!(ask(&mut client, b"\xc4"), REPLY_GBK);
    let half = server
        .expect_line("received: (half a character", TIMEOUT)
        .unwrap();
    assert!(contains(&half, format!("{port})").as_bytes()));
    assert_eq!(ask(&mut client, b"\xe3\xba\xc3"), REPLY_GBK);
    let whole = server.expect_line("received: 你好", TIMEOUT).unwrap();
    assert_eq!(
        text(&whole),
        format!("received: 你好 ('127.0.0.1', {port})")
    );
    let stderr = text(&server.stderr());
    assert!(!stderr.contains("not valid"), "{stderr}");
}

/// 250 clients talking at once, 20 messages each: every reply checked
/// byte for byte, every message printed once with its own client's address.
#[test]
fn two_hundred_and_fifty_clients_at_once_every_reply_checked() {
    const CLIENTS: usize = 250;
    const MESSAGES: usize = 20;
    let mut server = start(&[]);
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
    let stdout = text(&stop(server));
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

/// A thousand clients connected at once, then each asks once: one thread
/// holds them all, and answers every one.
#[test]
fn a_thousand_clients_at_once_on_one_thread() {
    const CLIENTS: usize = 1000;
    let server = start(&["--quiet"]);
    let addr = server.addr();
    let mut clients: Vec<TcpStream> = (0..CLIENTS).map(|_| connect(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("{i}").as_bytes()).unwrap();
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let mut reply = vec![0; REPLY_GBK.len()];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(reply, REPLY_GBK, "client {i}");
    }
    // Every client still connected: the server is one thread all the same.
    let status = Status::read(server.id()).unwrap();
    assert_eq!(status.threads, Some(1), "{status:?}");
    drop(clients);
    stop(server);
}

/// Echo mode: 8 MiB to a reader with a 32 KiB window that reads slowly.
/// The server's sends come back partial and its output passes the
/// backpressure limit; what arrives is every byte, in order.
#[test]
fn echo_of_megabytes_to_a_slow_reader_arrives_whole() {
    const SIZE: usize = 8 << 20;
    let mut server = start(&["echo"]);
    let data = Arc::new(pattern(SIZE, 8));
    let client = connect_small_window(server.addr(), 32 * 1024);
    let got = echo(client, Arc::clone(&data), Some(Duration::from_millis(1)));
    assert_same(&got, &data, "echo to a slow reader");
    // Echo mode prints a line when a client comes and goes, nothing per
    // message.
    server.expect_line("client offline", TIMEOUT).unwrap();
    let stdout = text(&stop(server));
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("client connected: "), "{stdout}");
    assert!(lines[1].starts_with("client offline: "), "{stdout}");
}

/// Echo mode: a client sends 64 MiB and reads nothing. The server stops
/// reading it once 256 KiB wait for it (backpressure), so its memory stays
/// bounded, and the other clients are served all along.
#[test]
fn a_client_that_never_reads_neither_blocks_others_nor_grows_memory() {
    const FLOOD: usize = 64 << 20;
    let server = start(&["echo", "--quiet"]);
    let (addr, pid) = (server.addr(), server.id());
    let before = rss(pid);
    let (flooder, sent, handle) = flood(addr, FLOOD);
    let (flooded, peak) = wait_for_flood(&sent, FLOOD, pid);
    // Another client is served while the flood waits: 1 MiB echoed whole.
    let data = Arc::new(pattern(1 << 20, 9));
    let got = echo(connect(addr), Arc::clone(&data), None);
    assert_same(&got, &data, "echo beside a client that never reads");
    let peak = peak.max(rss(pid));
    eprintln!("flood: {flooded} bytes sent, server RSS {before} bytes before, {peak} at most");
    // What the flood got the kernel to take: both sockets' buffers and the
    // server's limit. Not the 64 MiB.
    assert!(
        flooded < FLOOD,
        "the server took all {FLOOD} bytes from a client that reads nothing"
    );
    assert!(
        peak < before + 24 * 1024 * 1024,
        "server memory grew from {before} to {peak} bytes while a client sent {flooded} bytes and read nothing"
    );
    flooder.shutdown(Shutdown::Both).unwrap();
    handle.join().unwrap();
    stop(server);
}

/// Reply mode: a client that sends megabytes and never reads its replies
/// does not stop another client's conversation.
#[test]
fn reply_mode_serves_others_beside_a_client_that_never_reads() {
    const FLOOD: usize = 32 << 20;
    let mut server = start(&[]);
    let (addr, pid) = (server.addr(), server.id());
    let (flooder, sent, handle) = flood(addr, FLOOD);
    wait_for_flood(&sent, FLOOD, pid);
    let mut client = connect(addr);
    assert_eq!(ask(&mut client, &gbk("我是客户端2")), REPLY_GBK);
    server
        .expect_line("received: 我是客户端2", TIMEOUT)
        .unwrap();
    flooder.shutdown(Shutdown::Both).unwrap();
    handle.join().unwrap();
    stop(server);
}

/// Bytes that are not GBK, and a client that resets the connection in the
/// middle of a character: each is that client's business only.
#[test]
fn misbehaving_clients_do_not_stop_anyone_else() {
    let mut server = start(&[]);
    let addr = server.addr();
    let mut garbage = connect(addr);
    assert_eq!(ask(&mut garbage, b"\xff\xfe bad"), REPLY_GBK);
    let mut reset = connect(addr);
    assert_eq!(ask(&mut reset, b"\xc4"), REPLY_GBK);
    let reset_port = reset.local_addr().unwrap().port();
    // SO_LINGER 0: close() sends a reset (RST) instead of an end of stream.
    SockRef::from(&reset)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(reset);
    let line = server.expect_line("client dropped", TIMEOUT).unwrap();
    assert!(contains(&line, format!("{reset_port})").as_bytes()));
    let mut next = connect(addr);
    assert_eq!(ask(&mut next, &gbk("我是客户端3")), REPLY_GBK);
    server
        .expect_line("received: 我是客户端3", TIMEOUT)
        .unwrap();
    let stderr = text(&server.stderr());
    assert!(stderr.contains(r"b'\xff\xfe bad'"), "{stderr}");
}

/// One thread serves everyone, whatever the clients do: talking, silent,
/// or sending without reading.
#[test]
fn the_server_is_one_thread() {
    let server = start(&["echo", "--quiet"]);
    let (addr, pid) = (server.addr(), server.id());
    let silent: Vec<TcpStream> = (0..50).map(|_| connect(addr)).collect();
    let (flooder, sent, handle) = flood(addr, 64 << 20);
    wait_for_flood(&sent, 64 << 20, pid);
    let data = Arc::new(pattern(256 * 1024, 10));
    assert_same(&echo(connect(addr), Arc::clone(&data), None), &data, "echo");
    let status = Status::read(pid).unwrap();
    assert_eq!(status.threads, Some(1), "{status:?}");
    flooder.shutdown(Shutdown::Both).unwrap();
    handle.join().unwrap();
    drop(silent);
    stop(server);
}

/// Idle, the loop sleeps in epoll_wait: over 1.5 s with silent clients and
/// one whose output waits (it reads nothing), the server uses under 20% of
/// the window in CPU time, and its thread wants a CPU for under half of it.
/// A loop that spins would use, and want, about all of it.
#[test]
fn an_idle_server_uses_no_cpu() {
    let server = start(&["echo", "--quiet"]);
    let (addr, pid) = (server.addr(), server.id());
    let mut talked = connect(addr);
    talked.write_all(b"hello").unwrap();
    let mut back = [0u8; 5];
    talked.read_exact(&mut back).unwrap();
    let _silent: Vec<TcpStream> = (0..20).map(|_| connect(addr)).collect();
    let (flooder, sent, handle) = flood(addr, 64 << 20);
    // Stalled for half a second, twice: the server is surely done with it.
    wait_for_flood(&sent, 64 << 20, pid);
    let (flooded, _) = wait_for_flood(&sent, 64 << 20, pid);
    assert!(
        flooded > OUTPUT_LIMIT,
        "the flood sent only {flooded} bytes"
    );
    let window = Duration::from_millis(1500);
    // The thread's schedstat too: the time it ran plus the time it waited
    // for a CPU. On a machine busy with other tests, a spinning loop gets
    // little CPU time, but it wants the whole window (the bound is half of
    // it: on such a machine a little work left over may wait long for a
    // CPU).
    let wanted = || SchedStat::read_thread(pid, pid).ok().map(|s| s.wanted());
    let (before, wanted_before) = (cpu_times(pid).unwrap().total(), wanted());
    thread::sleep(window);
    let used = cpu_times(pid).unwrap().total() - before;
    let wanted = wanted_before
        .zip(wanted())
        .map(|(a, b)| b.saturating_sub(a));
    eprintln!("idle: {used:?} of CPU time in {window:?}, {wanted:?} wanted");
    assert!(
        used < window / 5,
        "the server used {used:?} of CPU time in {window:?} with nothing to do"
    );
    if let Some(wanted) = wanted {
        assert!(
            wanted < window / 2,
            "the server wanted {wanted:?} of CPU time (running or waiting to run) in {window:?} with nothing to do"
        );
    }
    flooder.shutdown(Shutdown::Both).unwrap();
    handle.join().unwrap();
    stop(server);
}

/// --quiet: served, and nothing printed but `listening on`.
#[test]
fn quiet_prints_no_line_per_client_or_message() {
    let server = start(&["--quiet"]);
    let mut client = connect(server.addr());
    assert_eq!(ask(&mut client, &gbk("我是客户端1")), REPLY_GBK);
    drop(client);
    let stdout = text(&stop(server));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("listening on 127.0.0.1:"), "{stdout}");
}

/// The experiment: level-triggered reads everything, one recv per wakeup;
/// edge-triggered with one recv per wakeup stalls with bytes unread;
/// edge-triggered reading until WouldBlock needs one wakeup; EPOLLOUT with
/// nothing to send is a busy loop when level-triggered.
#[test]
fn the_readiness_experiment_shows_the_stall() {
    let mut process = Process::spawn(Command::new(READINESS)).unwrap();
    let status = process.wait(TIMEOUT).unwrap();
    let stdout = text(process.stdout());
    assert!(status.success(), "{status}: {stdout}");
    let part = |n: usize| {
        let start = stdout
            .find(&format!("\n{n}. "))
            .unwrap_or_else(|| panic!("{stdout}"));
        let rest = &stdout[start + 1..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        rest[..end].to_owned()
    };
    let level = part(1);
    assert!(
        level.contains("wakeup 4: EPOLLIN; recv 16 bytes; 0 unread"),
        "{level}"
    );
    assert!(
        level.contains("=> all 64 bytes read, in 4 wakeups"),
        "{level}"
    );
    let edge = part(2);
    assert!(
        edge.contains("wakeup 1: EPOLLIN; recv 16 bytes; 48 unread"),
        "{edge}"
    );
    assert!(
        edge.contains("no wakeup within 200 ms; 48 bytes unread"),
        "{edge}"
    );
    assert!(
        edge.contains("=> stalled: 48 bytes wait in the socket"),
        "{edge}"
    );
    assert!(edge.contains("=> 96 bytes unread"), "{edge}");
    assert!(!edge.contains("wakeup 3"), "{edge}");
    let drain = part(3);
    assert!(
        drain
            .contains("wakeup 1: EPOLLIN; recv 16 + 16 + 16 + 16 bytes, then WouldBlock; 0 unread"),
        "{drain}"
    );
    assert!(!drain.contains("wakeup 2"), "{drain}");
    let writable = part(4);
    assert!(
        writable.contains("level-triggered: 1000 wakeups in a row"),
        "{writable}"
    );
    assert!(
        writable.contains("edge-triggered: 1 wakeup, then none"),
        "{writable}"
    );
}

#[test]
fn the_readiness_experiment_speaks_chinese() {
    let mut command = Command::new(READINESS);
    command.args(["--lang", "zh"]);
    let mut process = Process::spawn(command).unwrap();
    assert!(process.wait(TIMEOUT).unwrap().success());
    let stdout = text(process.stdout());
    assert!(
        stdout.contains("2. 边缘触发（EPOLLIN | EPOLLET），每次唤醒 recv 一次"),
        "{stdout}"
    );
    assert!(
        stdout.contains("卡住了：套接字里还有 48 字节没读"),
        "{stdout}"
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    for (binary, name, args) in [
        (SERVER, "lesson-08", &["--port", "70000"][..]),
        (SERVER, "lesson-08", &["shout"]),
        (SERVER, "lesson-08", &["echo", "reply"]),
        (SERVER, "lesson-08", &["--encoding", "latin-1"]),
        (SERVER, "lesson-08", &["--quiet=yes"]),
        (READINESS, "readiness", &["--port", "8080"]),
        (READINESS, "readiness", &["2"]),
    ] {
        let mut command = Command::new(binary);
        command.args(args);
        let mut process = Process::spawn(command).unwrap();
        assert_eq!(process.wait(TIMEOUT).unwrap().code(), Some(2), "{args:?}");
        let stderr = text(&process.stderr());
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(&format!("{name}: error: ")), "{stderr}");
    }
}
