//! Hundreds of clients at once, from one thread of the grader, and what
//! they cost the program: lessons 07 (a thread pool), 08 (an event loop)
//! and 09 (tokio) are graded with a crowd.
//!
//! - **Pacing.** Clients connect one after another, and before each the
//!   grader looks at the server's accept queue (the connections the kernel
//!   holds for it until `accept`: `rx_queue` of its listening socket in
//!   `/proc/net/tcp`) and waits while a few wait there. A queue that
//!   overflows does not refuse: Linux drops the handshake, and the client
//!   retries a second or more later, or believes it is connected while the
//!   server never heard of it (`docs/grading.md`); a server with a
//!   `listen(5)` is then slow for no fault of its own. Paced, a crowd of a
//!   thousand never overflows even such a queue.
//! - **One thread.** A crowd's sockets are read one after another, each with
//!   the time left until a deadline: replies wait in the kernel meanwhile.
//! - **Open files.** The grader raises its own limit on open files first
//!   ([`open_file_room`]): a thousand connections are a thousand
//!   descriptors.
//! - **Threads and memory** are read from `/proc/PID/status` of every
//!   process of the program (its interpreter, its shell), added up.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use loadgen::pingpong::{Fault, is_timeout};

use crate::run::Ctx;
use crate::sandbox::{Program, describe_status};
use crate::tr;

/// The accept queue the pacing lets build up: a server's `listen(5)` holds
/// six.
const PACE_QUEUE: u64 = 4;
/// How long the pacing waits for a server to accept before it stops
/// waiting (the server stopped accepting; what happens next is the
/// check's to say).
const PACE_WAIT: Duration = Duration::from_secs(1);

/// Keeps the server's accept queue short while clients connect.
pub(crate) struct Pacer {
    port: u16,
    /// The server stopped accepting: the pacing no longer waits.
    pub(crate) stalled: bool,
}

impl Pacer {
    /// For the server listening on `port`.
    pub(crate) fn new(port: u16) -> Self {
        Pacer {
            port,
            stalled: !proctools::tcp::available(),
        }
    }

    /// Waits while [`PACE_QUEUE`] connections or more wait to be accepted,
    /// up to [`PACE_WAIT`]; after that once, never again.
    fn wait(&mut self) {
        if self.stalled {
            return;
        }
        let deadline = Instant::now() + PACE_WAIT;
        while proctools::tcp::accept_queue(self.port).is_some_and(|q| q >= PACE_QUEUE) {
            if Instant::now() >= deadline {
                self.stalled = true;
                return;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Connects one more client, once the accept queue is short, within
    /// `timeout`.
    pub(crate) fn connect(&mut self, ctx: &Ctx, timeout: Duration) -> Result<TcpStream, String> {
        self.wait();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        loadgen::connect(addr, timeout, ctx.timeout(Duration::from_secs(5))).map_err(|err| {
            let waited = timeout.as_secs_f64();
            if is_timeout(&err) {
                tr!(
                    "it could not connect within {waited:.1} s",
                    "它没能在 {waited:.1} 秒内连接上"
                )
            } else {
                tr!("it could not connect: {err}", "它无法连接：{err}")
            }
        })
    }
}

/// Raises the grader's limit on open files as far as it goes and says how
/// many clients a crowd may have, at most `wanted`: a hundred descriptors
/// are kept for everything else. A limit too low for `wanted` is said on
/// stderr: the check then runs with fewer clients than it says.
pub(crate) fn open_file_room(wanted: usize) -> usize {
    let limit = netcore::sys::raise_open_file_limit()
        .map(|l| l.after)
        .unwrap_or(1024);
    let room = usize::try_from(limit.saturating_sub(100)).unwrap_or(usize::MAX);
    if room < wanted {
        eprintln!(
            "grader: {}",
            tr!(
                "warning: the grader's open-file limit is {limit} (ulimit -n): {room} clients at once instead of {wanted}",
                "警告：评分程序的打开文件数上限是 {limit}（ulimit -n）：同时只用 {room} 个客户端，而不是 {wanted} 个"
            )
        );
    }
    wanted.min(room).max(1)
}

/// Reads one reply of `expected.len()` bytes from `conn` within `timeout`:
/// `Ok` when it is `expected`, else what came instead (when `whole`, a
/// wrong reply's bytes after the first `expected.len()` too, read for a
/// moment more).
pub(crate) fn read_reply(
    conn: &mut TcpStream,
    expected: &[u8],
    timeout: Duration,
    whole: bool,
) -> Result<(), Fault> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::with_capacity(expected.len());
    let mut buffer = [0u8; 1024];
    while got.len() < expected.len() {
        // At least one look, even past the deadline: a reply that waits in
        // the kernel has come.
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = conn.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match conn.read(&mut buffer[..expected.len() - got.len()]) {
            Ok(0) => {
                return Err(Fault::Closed {
                    got: got.len(),
                    expected: expected.len(),
                });
            }
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(err) if is_timeout(&err) || err.kind() == ErrorKind::Interrupted => {
                if Instant::now() >= deadline {
                    return Err(if got.is_empty() {
                        Fault::NoReply
                    } else {
                        Fault::Partial {
                            got,
                            expected: expected.to_vec(),
                        }
                    });
                }
            }
            Err(err) => return Err(Fault::Receive(err.to_string())),
        }
    }
    if got == expected {
        return Ok(());
    }
    if !whole {
        return Err(Fault::Wrong {
            got,
            expected: expected.to_vec(),
        });
    }
    // A reply of another length: take the rest of it, to show it whole.
    let (more, _) = crate::run::read_message(
        conn,
        Duration::from_millis(100),
        Duration::from_millis(50),
        256,
    );
    got.extend_from_slice(&more);
    Err(Fault::Wrong {
        got,
        expected: expected.to_vec(),
    })
}

/// A fault of one client, in the grading's language.
pub(crate) fn fault_text(fault: &Fault) -> String {
    if crate::i18n::current() == crate::i18n::Lang::En {
        return fault.to_string();
    }
    super::l05::fault_zh(fault)
}

/// Every client of `clients` sends `message(i)` (all of them first), then
/// every reply is read, each with the time left until `timeout` from the
/// start: `Ok` when each is `reply`; else how many failed and the first
/// failure (its client, from 1).
pub(crate) fn ask_all(
    clients: &mut [TcpStream],
    message: impl Fn(usize) -> Vec<u8>,
    reply: &[u8],
    timeout: Duration,
) -> Result<(), (usize, usize, Fault)> {
    let deadline = Instant::now() + timeout;
    let mut failures: Vec<(usize, Fault)> = Vec::new();
    let mut sent = vec![false; clients.len()];
    for (i, conn) in clients.iter_mut().enumerate() {
        let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
        match conn.write_all(&message(i)) {
            Ok(()) => sent[i] = true,
            Err(err) => failures.push((i, Fault::Send(err.to_string()))),
        }
    }
    for (i, conn) in clients.iter_mut().enumerate() {
        if !sent[i] {
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        // The first failure is shown whole; the others are counted.
        if let Err(fault) = read_reply(conn, reply, left, failures.is_empty()) {
            failures.push((i, fault));
        }
    }
    let count = failures.len();
    failures.sort_by_key(|(i, _)| *i);
    match failures.into_iter().next() {
        None => Ok(()),
        Some((i, fault)) => Err((count, i + 1, fault)),
    }
}

/// How long clients wait, after their last reply, for bytes they did not
/// ask for: a reply sent twice comes right after the first.
pub(crate) const EXTRA_WAIT: Duration = Duration::from_millis(300);

/// What waits to be read on `conn` now, without waiting for more: up to
/// `limit` bytes (fewer when the stream ended or failed).
pub(crate) fn waiting_bytes(conn: &mut TcpStream, limit: usize) -> Vec<u8> {
    let mut got = Vec::new();
    if conn.set_nonblocking(true).is_err() {
        return got;
    }
    let mut buffer = [0u8; 4096];
    while got.len() < limit {
        let room = buffer.len().min(limit - got.len());
        match conn.read(&mut buffer[..room]) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = conn.set_nonblocking(false);
    got
}

/// Once every client of `clients` has read its last reply: waits
/// [`EXTRA_WAIT`], then looks at each. `Ok` when none was sent anything
/// more (a reply sent twice, a second reply to one message); else how many
/// were, and the first of them (its client, from 1, and up to 80 of those
/// bytes).
pub(crate) fn nothing_more(clients: &mut [TcpStream]) -> Result<(), (usize, usize, Vec<u8>)> {
    thread::sleep(EXTRA_WAIT);
    let mut first = None;
    let mut count = 0;
    for (i, conn) in clients.iter_mut().enumerate() {
        let extra = waiting_bytes(conn, 80);
        if !extra.is_empty() {
            count += 1;
            first.get_or_insert((i + 1, extra));
        }
    }
    match first {
        None => Ok(()),
        Some((client, extra)) => Err((count, client, extra)),
    }
}

/// Clients connected when the threads are counted with clients the first
/// time (after a count before any client), and in all: a thread per client
/// shows as dozens, then hundreds of threads more, while a pool, an event
/// loop or a runtime (whose threads start with the program, or with its
/// first clients) stays where it was.
pub(crate) const FIRST_COUNT: usize = 50;
/// See [`FIRST_COUNT`].
pub(crate) const SECOND_COUNT: usize = 300;
/// The threads a program may gain over its count before any client: a
/// runtime's own (a JVM's compiler and collector threads start as they are
/// needed), not one per client.
pub(crate) const THREAD_GROWTH: u64 = 16;

/// Clients connect (paced) and stay, saying nothing. The program's threads
/// are counted before the first ([`threads_at_rest`]), after
/// [`FIRST_COUNT`] clients, every 50 after, and after [`SECOND_COUNT`]
/// (fewer where the grader's open files do not allow so many, or where the
/// server stops accepting): `Err` when a count exceeds the first by more
/// than [`THREAD_GROWTH`], or when the program ended meanwhile. `keeps` ends the
/// reason: what the lesson's design keeps instead, in the grading's
/// language. A pool's workers, started once, are there before any client; a runtime's threads
/// that start as they are needed (a JVM's) and a pool that starts its few
/// workers with its first clients fit in the allowance; a thread per
/// client does not, whatever its cap above that.
pub(crate) fn thread_growth(
    ctx: &Ctx,
    port: u16,
    program: &mut Program,
    keeps: &str,
) -> Result<(), String> {
    let ended_with = |status: ExitStatus, clients: usize| {
        let status = describe_status(status);
        tr!(
            "the program ended ({status}) with {clients} clients connected",
            "有 {clients} 个客户端连着时，程序结束了（{status}）"
        )
    };
    let before = threads_at_rest(program).map_err(|status| ended_with(status, 0))?;
    let total = open_file_room(SECOND_COUNT);
    let first = FIRST_COUNT.min(total / 2).max(1);
    let mut pacer = Pacer::new(port);
    let mut clients: Vec<TcpStream> = Vec::with_capacity(total);
    // The most threads seen, and the clients connected then.
    let mut peak = (0, before);
    let mut ended = None;
    let mut stage = first;
    loop {
        let mut stopped = false;
        while clients.len() < stage {
            match pacer.connect(ctx, ctx.timeout(Duration::from_secs(3))) {
                Ok(conn) => clients.push(conn),
                Err(_) => {
                    // The server stopped accepting (or ended): what it
                    // holds is counted; the other checks say why.
                    stopped = true;
                    break;
                }
            }
        }
        // The first and the last count wait for threads that start a
        // moment after their client's accept; those between look once.
        let looks = if stage == first || stage == total || stopped {
            6
        } else {
            1
        };
        match count_threads(program, looks) {
            Ok(threads) if threads > peak.1 => peak = (clients.len(), threads),
            Ok(_) => {}
            Err(status) => {
                ended = Some(ended_with(status, clients.len()));
                break;
            }
        }
        if stopped || stage == total {
            break;
        }
        stage = (stage + 50).min(total);
    }
    let (many, at) = peak;
    let grown = at.saturating_sub(before);
    if grown > THREAD_GROWTH {
        let then = ended
            .map(|ended| tr!("; then {ended}", "；后来{ended}"))
            .unwrap_or_default();
        return Err(tr!(
            "before any client connected the program had {before} threads; with {many} clients connected and silent it had {at}: {grown} more threads for {many} clients (at most {THREAD_GROWTH} more are allowed); {keeps}{then}",
            "还没有客户端连上来时，程序有 {before} 个线程；有 {many} 个客户端连着、不说话时，它有 {at} 个：{many} 个客户端多出了 {grown} 个线程（最多允许多 {THREAD_GROWTH} 个）；{keeps}{then}"
        ));
    }
    match ended {
        Some(ended) => Err(ended),
        None => Ok(()),
    }
}

/// The program's threads before any client: counted every 50 ms until the
/// count has stayed the same for 300 ms (a pool that starts its workers
/// after it listens has started them), for 2 s at most; the most seen.
/// `Err` with its status when the program has ended.
pub(crate) fn threads_at_rest(program: &mut Program) -> Result<u64, ExitStatus> {
    let until = Instant::now() + Duration::from_secs(2);
    let (mut most, mut last, mut same) = (0, None, 0);
    loop {
        thread::sleep(Duration::from_millis(50));
        if let Some(status) = program.exited() {
            return Err(status);
        }
        let now = program.threads().unwrap_or(0);
        most = most.max(now);
        if last == Some(now) {
            same += 1;
        } else {
            (last, same) = (Some(now), 0);
        }
        if same >= 6 || Instant::now() >= until {
            return Ok(most);
        }
    }
}

/// The program's threads, counted `looks` times 50 ms apart (threads
/// started for the last clients may come a moment after their `accept`):
/// the most seen. `Err` with its status when the program has ended.
fn count_threads(program: &mut Program, looks: usize) -> Result<u64, ExitStatus> {
    let mut most = 0;
    for _ in 0..looks {
        thread::sleep(Duration::from_millis(50));
        if let Some(status) = program.exited() {
            return Err(status);
        }
        most = most.max(program.threads().unwrap_or(0));
    }
    Ok(most)
}

/// The share of a window one thread may want a CPU for (running or
/// waiting to run) while the program has nothing to do: a thread that
/// spins wants all of it, however busy the machine (its CPU time then
/// shrinks, the time it wants does not); work left over from a moment ago,
/// waiting for a CPU on a busy machine, wants a little.
const RUNNABLE_SHARE: f64 = 0.5;
/// The share of a window the program may spend in CPU time, all its
/// threads together, with nothing to do.
const CPU_SHARE: f64 = 0.25;

/// Watches an idle program for `window`: `Some(what was seen)` when it
/// used, or wanted, a CPU as a busy loop does.
pub(crate) fn busy_loop(program: &Program, window: Duration) -> Option<String> {
    let started = Instant::now();
    let (cpu_before, wanted_before) = (program.cpu_time(), program.runnable_times());
    thread::sleep(window);
    let cpu = program
        .cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let wanted = program
        .runnable_times()
        .zip(wanted_before)
        .map(|(after, before)| {
            after
                .iter()
                .map(|(tid, total)| {
                    let was = before
                        .iter()
                        .find(|(t, _)| t == tid)
                        .map_or(Duration::ZERO, |(_, d)| *d);
                    total.saturating_sub(was)
                })
                .max()
                .unwrap_or_default()
        });
    let window = started.elapsed().as_secs_f64();
    let spins = wanted.is_some_and(|w| w.as_secs_f64() > window * RUNNABLE_SHARE)
        || cpu.is_some_and(|c| c.as_secs_f64() > window * CPU_SHARE);
    if !spins {
        return None;
    }
    let cpu = cpu.map_or(0.0, |c| c.as_secs_f64());
    Some(match wanted {
        Some(wanted) => {
            let wanted = wanted.as_secs_f64();
            tr!(
                "over {window:.1} s a thread of the server wanted a CPU (running or waiting to run) for {wanted:.2} s, and the server used {cpu:.2} s of CPU time",
                "在 {window:.1} 秒里，服务端的一个线程有 {wanted:.2} 秒想要占用 CPU（正在运行或等待运行），服务端一共用了 {cpu:.2} 秒的 CPU 时间"
            )
        }
        None => tr!(
            "over {window:.1} s the server used {cpu:.2} s of CPU time",
            "在 {window:.1} 秒里，服务端用了 {cpu:.2} 秒的 CPU 时间"
        ),
    })
}

/// `n` bytes, said as MiB with two decimals.
pub(crate) fn mib(n: u64) -> String {
    format!("{:.2} MiB", n as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_of_another_length_is_shown_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.write_all("ok, 收到了".as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(300));
        });
        let mut conn = TcpStream::connect(addr).unwrap();
        let expected = super::super::gbk("ok, 收到了");
        let fault = read_reply(&mut conn, &expected, Duration::from_secs(5), true).unwrap_err();
        match fault {
            Fault::Wrong { got, .. } => assert_eq!(got, "ok, 收到了".as_bytes()),
            other => panic!("{other:?}"),
        }
        server.join().unwrap();
    }

    #[test]
    fn a_reply_sent_twice_is_found_and_one_sent_once_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut once, _) = listener.accept().unwrap();
            let (mut twice, _) = listener.accept().unwrap();
            once.write_all(b"ok").unwrap();
            twice.write_all(b"ok").unwrap();
            twice.write_all(b"ok").unwrap();
            thread::sleep(Duration::from_millis(800));
        });
        let mut clients = vec![
            TcpStream::connect(addr).unwrap(),
            TcpStream::connect(addr).unwrap(),
        ];
        for conn in &mut clients {
            read_reply(conn, b"ok", Duration::from_secs(5), true).unwrap();
        }
        assert_eq!(nothing_more(&mut clients), Err((1, 2, b"ok".to_vec())));
        assert_eq!(nothing_more(&mut clients), Ok(()));
        server.join().unwrap();
    }

    #[test]
    fn a_missing_reply_is_no_reply_and_a_short_one_partial() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut first, _) = listener.accept().unwrap();
            let (mut second, _) = listener.accept().unwrap();
            second.write_all(b"ok").unwrap();
            thread::sleep(Duration::from_millis(500));
            first.write_all(b"").unwrap();
        });
        let mut first = TcpStream::connect(addr).unwrap();
        let mut second = TcpStream::connect(addr).unwrap();
        let timeout = Duration::from_millis(200);
        assert_eq!(
            read_reply(&mut first, b"ok, yes", timeout, true).unwrap_err(),
            Fault::NoReply
        );
        assert!(matches!(
            read_reply(&mut second, b"ok, yes", timeout, true).unwrap_err(),
            Fault::Partial { .. }
        ));
        server.join().unwrap();
    }
}
