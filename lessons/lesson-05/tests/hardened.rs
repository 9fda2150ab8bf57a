//! What the hardened server must hold against clients and readers that
//! misbehave, each shown failing on the server before it was hardened
//! (issue 11): a stdout nobody reads, a stdout that fails, stdout and stderr
//! in one file, one address taking every place, a trickle, a refused client
//! that had sent data, no thread for a client, floods of warnings.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use testkit::{Process, TIMEOUT, connect, contains};

const HARDENED: &str = env!("CARGO_BIN_EXE_hardened");
/// "ok, 收到了" in GBK.
const REPLY_GBK: &[u8] = b"ok, \xca\xd5\xb5\xbd\xc1\xcb";
/// "服务器忙，请稍后再试" in GBK.
const BUSY_GBK: &[u8] =
    b"\xb7\xfe\xce\xf1\xc6\xf7\xc3\xa6\xa3\xac\xc7\xeb\xc9\xd4\xba\xf3\xd4\xd9\xca\xd4";

/// The hardened server, in English whatever the machine's locale.
fn hardened(extra: &[&str]) -> Command {
    let mut command = Command::new(HARDENED);
    testkit::in_english(&mut command)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(extra);
    command
}

fn start(extra: &[&str]) -> Process {
    Process::start_server(hardened(extra)).unwrap_or_else(|err| panic!("{err}"))
}

/// Sends `message` and reads one reply.
fn ask(client: &mut TcpStream, message: &[u8]) -> std::io::Result<Vec<u8>> {
    client.write_all(message)?;
    let mut reply = vec![0; REPLY_GBK.len()];
    client.read_exact(&mut reply)?;
    Ok(reply)
}

/// Reads until end of stream: `Err` when the stream ends with an error (a
/// reset) instead.
fn read_until_closed(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    client.read_to_end(&mut out).map(|_| out)
}

/// A client connecting from `local` (any 127.x.y.z is loopback on Linux).
fn connect_from(local: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from((local, 0)).into())
        .unwrap_or_else(|err| panic!("bind to {local:?}: {err}"));
    socket
        .connect_timeout(&server.into(), TIMEOUT)
        .unwrap_or_else(|err| panic!("connect to {server}: {err}"));
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Lines of `text` that contain `needle`.
fn count_lines(text: &str, needle: &str) -> usize {
    text.lines().filter(|line| line.contains(needle)).count()
}

/// The hardened server with stdout given to the test as is, for tests of
/// what it does when stdout is not read, or fails; stderr is collected.
/// Killed and reaped on drop.
struct Raw {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Raw {
    fn spawn(mut command: Command, stdout: Stdio) -> Raw {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Raw { child, stderr }
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits at most `timeout` for the exit.
    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {timeout:?} after the signal; stderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until stderr holds `needle`.
    fn expect_stderr(&self, needle: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.stderr().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on stderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads stdout up to the `listening on` line; the address.
fn read_listening(stdout: &mut BufReader<ChildStdout>) -> SocketAddr {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no listening line"
        );
        if let Some(addr) = line.trim().strip_prefix("listening on ") {
            return addr.parse().unwrap();
        }
    }
}

/// The port a process listens on, read from /proc (for a server whose
/// stdout cannot say it).
fn listening_port(pid: u32) -> Option<u16> {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()?
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter_map(|link| {
                let link = link.to_string_lossy().into_owned();
                Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
            })
            .collect();
        let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
        for row in table.lines().skip(1) {
            let fields: Vec<&str> = row.split_whitespace().collect();
            // local_address, st (0A is LISTEN), inode.
            if fields.len() > 9 && fields[3] == "0A" && inodes.iter().any(|i| i == fields[9]) {
                let port = fields[1].split(':').nth(1)?;
                return u16::from_str_radix(port, 16).ok();
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `clients` clients at once, each sending `messages` messages and checking
/// every reply (a reply slower than 10 s fails the test).
fn flood(addr: SocketAddr, clients: usize, messages: usize) {
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            thread::spawn(move || {
                let mut client = connect(addr);
                client
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                for n in 0..messages {
                    let reply = ask(&mut client, format!("{i}:{n}").as_bytes())
                        .unwrap_or_else(|err| panic!("client {i}, message {n}: {err}"));
                    assert_eq!(reply, REPLY_GBK);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("every client is answered");
    }
}

/// The number in `text` right after `before`.
fn number_after(text: &str, before: &str) -> u64 {
    let at = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in {text}"))
        + before.len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {before:?} in {text}"))
}

/// Complete lines of output that are not a marker of dropped lines, and
/// the lines the markers say were dropped.
fn tally(output: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(output);
    let mut lines = 0;
    let mut marked = 0;
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        if line.starts_with("output: ") && line.contains("line(s) dropped here") {
            marked += number_after(line, "output: ");
        } else {
            lines += 1;
        }
    }
    (lines, marked)
}

#[test]
fn a_stdout_nobody_reads_stops_no_client_and_not_the_shutdown() {
    // Before: after about 128 KiB of output every client thread, the accept
    // loop and the Ctrl+C handler waited for the pipe; only SIGKILL ended it.
    let mut server = Raw::spawn(hardened(&[]), Stdio::piped());
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let addr = read_listening(&mut stdout);
    // From now on nobody reads stdout: the pipe and the server's queue fill.
    flood(addr, 20, 5000);
    server.expect_stderr("stdout is not read fast enough");
    // Let the threads print their clients' "offline" before the signal.
    thread::sleep(Duration::from_millis(300));
    server.signal("INT");
    let status = server.wait(TIMEOUT);
    assert_eq!(status.code(), Some(1), "{}", server.stderr());
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Every line is either in the pipe or counted as lost: the "accept
    // queue" line, and for each client "connected", 5000 "received" and
    // (unless it came after the signal) "offline".
    let lost = number_after(
        &stderr,
        "hardened: error: stdout was not read fast enough: the summary and ",
    );
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let (written, _) = tally(&rest);
    let accounted = written + lost;
    assert!(
        (1 + 20 * 5001..=1 + 20 * 5002).contains(&accounted),
        "{written} lines written and {lost} lost: {accounted}, not about {}",
        1 + 20 * 5002
    );
}

#[test]
fn a_slow_reader_is_shown_where_lines_were_dropped() {
    let mut server = Raw::spawn(hardened(&[]), Stdio::piped());
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let addr = read_listening(&mut stdout);
    flood(addr, 20, 3000);
    // The reader comes back: what fits again is written, with a marker
    // where lines are missing.
    let reader = thread::spawn(move || {
        let mut all = Vec::new();
        stdout.read_to_end(&mut all).unwrap();
        all
    });
    flood(addr, 5, 200);
    thread::sleep(Duration::from_millis(300));
    server.signal("INT");
    assert_eq!(server.wait(TIMEOUT).code(), Some(1));
    let stderr = server.stderr();
    let dropped = number_after(&stderr, "hardened: error: ");
    assert!(
        stderr.contains("line(s) of output dropped: stdout was not read fast enough"),
        "{stderr}"
    );
    let output = reader.join().unwrap();
    let (written, marked) = tally(&output);
    assert!(marked > 0, "no marker of dropped lines");
    assert_eq!(marked, dropped, "the markers and stderr disagree");
    // accept queue + 20 × (3000 + 2) + 5 × (200 + 2) + the summary, less
    // the "offline" lines that came after the signal, if any.
    let total = 1 + 20 * 3002 + 5 * 202 + 1;
    assert!(
        (total - 25..=total).contains(&(written + dropped)),
        "{written} written + {dropped} dropped, not {total}"
    );
}

#[test]
fn a_reader_that_goes_away_does_not_end_the_server() {
    // Before: `hardened | head -1`, or a pager that quit, killed it with
    // SIGPIPE at its next line; so did a closed stderr at a warning.
    let mut server = Raw::spawn(hardened(&[]), Stdio::piped());
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let addr = read_listening(&mut stdout);
    drop(stdout);
    for message in [&b"one"[..], b"two", b"\xff"] {
        let mut client = connect(addr);
        assert_eq!(ask(&mut client, message).unwrap(), REPLY_GBK);
    }
    server.expect_stderr("hardened: error: cannot write to stdout (broken pipe");
    server.signal("INT");
    assert_eq!(server.wait(TIMEOUT).code(), Some(1), "{}", server.stderr());
    assert!(server.stderr().contains("line(s) of output lost"));

    // stderr's reader gone: a warning must not end it either.
    let mut command = hardened(&[]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let guard = Killed(&mut child);
    let addr = read_listening(&mut stdout);
    for message in [&b"\xff"[..], b"\xfe", b"after"] {
        let mut client = connect(addr);
        assert_eq!(ask(&mut client, message).unwrap(), REPLY_GBK);
    }
    let guard = guard.interrupt();
    assert_eq!(guard.0.try_wait().unwrap().and_then(|s| s.code()), Some(1));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("received: after"), "{rest}");
    assert!(
        rest.contains("; stderr could not be written (broken pipe"),
        "{rest}"
    );
}

#[test]
fn a_start_up_that_fails_keeps_its_earlier_lines_in_order() {
    // Before: the error was printed at once and the queued start-up note
    // ("open-file limit raised") was lost.
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(!required(), "prlimit (util-linux) is needed");
        eprintln!("skipped: no prlimit (util-linux)");
        return;
    }
    let taken = testkit::fake_server();
    let port = taken.local_addr().unwrap().port().to_string();
    let path = temp_file("start-up.log");
    let file = File::create(&path).unwrap();
    let status = testkit::in_english(&mut Command::new("prlimit"))
        .args([
            "--nofile=64:1024",
            HARDENED,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&path).unwrap();
    let raised = text.find("open-file limit raised from 64 to 1024");
    let error = text.find("hardened: error: ");
    assert!(
        matches!((raised, error), (Some(r), Some(e)) if r < e),
        "{text}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_stdout_that_fails_is_reported_and_sets_the_exit_status() {
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut server = Raw::spawn(hardened(&[]), Stdio::from(full));
    server.expect_stderr("hardened: error: cannot write to stdout (");
    // It still serves: the output is lost, not the clients.
    let port = listening_port(server.child.id()).expect("a listening socket");
    let mut client = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(ask(&mut client, b"hello").unwrap(), REPLY_GBK);
    drop(client);
    server.signal("INT");
    assert_eq!(server.wait(TIMEOUT).code(), Some(1));
    let stderr = server.stderr();
    assert!(
        stderr.contains("line(s) of output lost") && stderr.contains("no space left on device"),
        "{stderr}"
    );
}

/// A file under the test's own temporary folder.
fn temp_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{name}-{}", std::process::id()))
}

#[test]
fn stdout_and_stderr_in_one_file_stay_in_order() {
    // Before: stdout was written in batches and stderr at once, so in
    // `> log 2>&1` a warning came before the lines printed ahead of it.
    let path = temp_file("one-file.log");
    let file = File::create(&path).unwrap();
    // stdout and stderr are one open file, as after `> log 2>&1`.
    let mut child = hardened(&[])
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let guard = Killed(&mut child);
    let deadline = Instant::now() + TIMEOUT;
    let addr: SocketAddr = loop {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(line) = text.lines().find(|l| l.starts_with("listening on ")) {
            break line["listening on ".len()..].parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no listening line: {text}");
        thread::sleep(Duration::from_millis(10));
    };
    let mut client = connect(addr);
    for message in [&b"first"[..], b"\xff", b"last"] {
        assert_eq!(ask(&mut client, message).unwrap(), REPLY_GBK);
    }
    drop(client);
    drop(guard.interrupt());
    let text = std::fs::read_to_string(&path).unwrap();
    let at = |needle: &str| {
        text.lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
    };
    let first = at("received: first");
    let warning = at("hardened: warning:");
    let last = at("received: last");
    assert!(first < warning && warning < last, "out of order:\n{text}");
    let _ = std::fs::remove_file(&path);
}

/// Kills and reaps a child on drop, unless it was stopped with SIGINT.
struct Killed<'a>(&'a mut Child);

impl Killed<'_> {
    /// Sends SIGINT and waits (bounded) for the exit.
    fn interrupt(self) -> Self {
        let status = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + TIMEOUT;
        while self.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no exit after SIGINT");
            thread::sleep(Duration::from_millis(10));
        }
        self
    }
}

impl Drop for Killed<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn one_address_cannot_take_every_place() {
    // Before: ten sockets from one address filled --max-clients 10.
    let mut server = start(&["--max-clients", "4"]);
    let addr = server.addr();
    let mut crowd: Vec<TcpStream> = (0..2).map(|_| connect_from([127, 0, 0, 2], addr)).collect();
    for client in &mut crowd {
        assert_eq!(ask(client, b"hi").unwrap(), REPLY_GBK);
    }
    let mut third = connect_from([127, 0, 0, 2], addr);
    assert_eq!(read_until_closed(&mut third).unwrap(), BUSY_GBK);
    server
        .expect_line("2 clients from its address, --max-per-address 2", TIMEOUT)
        .unwrap();
    // Another address still finds a place.
    let mut other = connect_from([127, 0, 0, 1], addr);
    assert_eq!(ask(&mut other, b"me too").unwrap(), REPLY_GBK);
}

#[test]
fn a_trickle_cannot_keep_its_place() {
    // Before: a byte every 1.5 s restarted --idle-timeout 2 each time, and
    // two such sockets held --max-clients 2 for as long as they liked.
    let mut server = start(&[
        "--max-clients",
        "2",
        "--max-per-address",
        "2",
        "--idle-timeout",
        "2",
    ]);
    let addr = server.addr();
    let started = Instant::now();
    let (answered, first_replies) = std::sync::mpsc::channel();
    let tricklers: Vec<_> = (0..2)
        .map(|_| {
            let mut client = connect(addr);
            let answered = answered.clone();
            thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    match ask(&mut client, b"x") {
                        Ok(reply) => assert_eq!(reply, REPLY_GBK),
                        Err(_) => return true,
                    }
                    let _ = answered.send(());
                    thread::sleep(Duration::from_millis(1500));
                }
                false
            })
        })
        .collect();
    // While they trickle, they hold both places.
    for _ in 0..2 {
        first_replies.recv_timeout(TIMEOUT).unwrap();
    }
    let mut turned_away = connect(addr);
    assert_eq!(read_until_closed(&mut turned_away).unwrap(), BUSY_GBK);
    for trickler in tricklers {
        assert!(
            trickler.join().unwrap(),
            "a trickle kept its place for 20 s"
        );
    }
    // At 1 byte per 1.5 s against --min-rate 1, each byte earns 1 s: the
    // time runs out after about 4 s, never before the 2 s of idle time.
    assert!(started.elapsed() >= Duration::from_secs(2));
    server
        .expect_line("client too slow, closing", TIMEOUT)
        .unwrap();
    // A place is given back just before the close the trickler saw.
    assert_eq!(served_soon(addr), REPLY_GBK);
}

/// Connects until a place is free (bounded), and asks once: the reply.
fn served_soon(addr: SocketAddr) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut client = connect(addr);
        // A busy reply is longer than ok, 收到了: its first bytes differ.
        match ask(&mut client, b"my turn") {
            Ok(reply) if reply == REPLY_GBK => return reply,
            other if Instant::now() >= deadline => panic!("no place within {TIMEOUT:?}: {other:?}"),
            _ => thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn a_refused_client_that_sent_data_gets_the_busy_reply_and_an_end_of_stream() {
    // Before: the server closed a refused socket with the client's message
    // unread, which sends a reset: the client got an error, not the reply.
    let server = start(&["--max-clients", "1"]);
    let addr = server.addr();
    let mut first = connect(addr);
    assert_eq!(ask(&mut first, b"1").unwrap(), REPLY_GBK);
    // Stop the server so that the second client's message is surely there
    // before the server accepts it.
    server.signal("STOP").unwrap();
    let mut second = connect(addr);
    second.write_all(b"let me in").unwrap();
    thread::sleep(Duration::from_millis(200));
    server.signal("CONT").unwrap();
    assert_eq!(
        read_until_closed(&mut second).expect("an end of stream, not a reset"),
        BUSY_GBK
    );
}

/// Whether a test that needs root (a pids cgroup) must run: in CI, where
/// `.ci/run` runs as root and sets `SOCKET_LESSONS_REQUIRE_SANDBOX`.
fn required() -> bool {
    std::env::var_os("SOCKET_LESSONS_REQUIRE_SANDBOX").is_some()
}

/// A pids cgroup (v1) that holds a process; removed on drop.
struct PidsLimit(PathBuf);

impl PidsLimit {
    fn new(pid: u32, max: usize) -> Result<Self, String> {
        let root = PathBuf::from("/sys/fs/cgroup/pids");
        if !root.join("cgroup.procs").exists() {
            return Err("no cgroup v1 pids controller at /sys/fs/cgroup/pids".into());
        }
        let dir = root.join(format!("socket-lessons-test-{pid}"));
        std::fs::create_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        let limit = PidsLimit(dir);
        std::fs::write(limit.0.join("pids.max"), max.to_string())
            .map_err(|err| format!("pids.max: {err}"))?;
        std::fs::write(limit.0.join("cgroup.procs"), pid.to_string())
            .map_err(|err| format!("cgroup.procs: {err}"))?;
        Ok(limit)
    }
}

impl Drop for PidsLimit {
    fn drop(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        while std::fs::remove_dir(&self.0).is_err() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn a_client_without_a_thread_is_refused_as_busy_and_not_counted_as_served() {
    // Before: it was closed without a word, and counted as served.
    let mut server = start(&[]);
    let pid = server.id();
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    // Room for one more thread: the first client's.
    let limit = match PidsLimit::new(pid, threads + 1) {
        Ok(limit) => limit,
        Err(why) if !required() => {
            eprintln!("skipped: cannot limit the server's threads ({why}); run as root");
            return;
        }
        Err(why) => panic!("cannot limit the server's threads: {why}"),
    };
    let addr = server.addr();
    let mut first = connect(addr);
    assert_eq!(ask(&mut first, b"1").unwrap(), REPLY_GBK);
    let mut second = connect(addr);
    second.write_all(b"2").unwrap();
    assert_eq!(read_until_closed(&mut second).unwrap(), BUSY_GBK);
    drop(first);
    server.expect_line("client offline", TIMEOUT).unwrap();
    server.signal("INT").unwrap();
    assert!(server.wait(TIMEOUT).unwrap().success());
    let stdout = String::from_utf8_lossy(server.stdout()).into_owned();
    let stderr = String::from_utf8_lossy(&server.stderr()).into_owned();
    assert!(
        stderr.contains("cannot start a thread for ('127.0.0.1', "),
        "{stderr}"
    );
    assert!(
        stdout.contains("1 client served, 1 message, 1 byte received; 1 refused as busy"),
        "{stdout}"
    );
    drop(limit);
}

/// One client sends `count` invalid one-byte messages; stdout, stderr and
/// how long it took.
fn invalid_bytes(extra: &[&str], count: usize) -> (String, String, Duration) {
    let mut server = start(extra);
    let started = Instant::now();
    let mut client = connect(server.addr());
    for _ in 0..count {
        assert_eq!(ask(&mut client, b"\xff").unwrap(), REPLY_GBK);
    }
    // Every message was answered, so it is counted: no need to wait for
    // the close (which --quiet does not print).
    drop(client);
    server.signal("INT").unwrap();
    assert!(server.wait(TIMEOUT).unwrap().success());
    let stdout = String::from_utf8_lossy(server.stdout()).into_owned();
    let stderr = String::from_utf8_lossy(&server.stderr()).into_owned();
    (stdout, stderr, started.elapsed())
}

#[test]
fn warnings_are_rate_limited_and_quiet_silences_those_about_a_message() {
    // Before: a warning per invalid byte (137 bytes of log for 1 byte), and
    // --quiet still printed every one.
    let (stdout, stderr, took) = invalid_bytes(&[], 300);
    let warnings = count_lines(&stderr, "that are not valid gbk");
    // At most 5 in each window of 5 s (a slow machine may take several).
    let most = 5 * (took.as_secs() as usize / 5 + 1);
    assert!(
        (1..=most).contains(&warnings),
        "{warnings} warnings:\n{stderr}"
    );
    assert!(stdout.contains("300 messages"), "{stdout}");
    assert!(stdout.contains("warning(s) held back"), "{stdout}");

    let (stdout, stderr, _) = invalid_bytes(&["--quiet"], 300);
    assert_eq!(stderr, "", "--quiet");
    assert!(stdout.contains("300 messages"), "{stdout}");
}

#[test]
fn an_exhausted_descriptor_table_does_not_flood_stderr() {
    // Before: a warning every 20 ms, 49 a second, for as long as it lasted.
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(!required(), "prlimit (util-linux) is needed");
        eprintln!("skipped: no prlimit (util-linux)");
        return;
    }
    let mut command = Command::new("prlimit");
    command.args([
        "--nofile=32:32",
        HARDENED,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]);
    let mut server = Process::start_server(command).unwrap_or_else(|err| panic!("{err}"));
    let addr = server.addr();
    let started = Instant::now();
    let crowd: Vec<TcpStream> = (0..40).map(|_| connect(addr)).collect();
    thread::sleep(Duration::from_secs(3));
    let stderr = String::from_utf8_lossy(&server.stderr()).into_owned();
    let warnings = count_lines(&stderr, "accept failed");
    // At most 5 in each window of 5 s; before, 50 a second.
    let most = 5 * (started.elapsed().as_secs() as usize / 5 + 1);
    assert!(
        (1..=most).contains(&warnings),
        "{warnings} warnings:\n{stderr}"
    );
    drop(crowd);
    server.signal("INT").unwrap();
    assert!(server.wait(TIMEOUT).unwrap().success());
    assert!(contains(server.stdout(), b"warning(s) held back"));
}

#[test]
fn bad_limit_flags_are_usage_errors() {
    let output = hardened(&["--min-rate", "5"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--min-rate only applies with --idle-timeout"),
        "{stderr}"
    );
    let output = hardened(&["--max-per-address", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    // A deadline a year away at most: beyond, the clock overflowed. (A
    // server that accepted it would run: waited for, bounded.)
    let mut server = Raw::spawn(
        hardened(&["--idle-timeout", "18446744073709551615"]),
        Stdio::null(),
    );
    assert_eq!(server.wait(TIMEOUT).code(), Some(2), "{}", server.stderr());
    let output = hardened(&["--min-rate", "-1", "--idle-timeout", "3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        hardened(&["--help"]).output().unwrap().status.code(),
        Some(0)
    );
    let help = String::from_utf8(hardened(&["--help"]).output().unwrap().stdout).unwrap();
    for flag in ["--max-per-address", "--min-rate"] {
        assert!(help.contains(flag), "{help}");
    }
}
