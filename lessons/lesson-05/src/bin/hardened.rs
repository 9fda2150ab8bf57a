//! Lesson 05, hardened: the tutorial's threaded server (`src/main.rs`) with
//! what a deployed server needs on top: a summary at Ctrl+C, the open-file
//! limit raised, `--max-clients` and `--idle-timeout`, small thread stacks,
//! and output batched so that a hundred threads do not queue for stdout
//! (`--quiet` for benchmarks).
//!
//! Start it with `cargo run -p lesson-05 --bin hardened`. The walkthrough,
//! `lessons/lesson-05/README.md`, quotes it in "Where the tutorial's server
//! breaks".

use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use netcore::cli::ServerOptions;
use netcore::error::{bind_failed, describe};
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::Encoding;
use netcore::{Context, Error, logln, outln};
use socket2::{Domain, Protocol, Socket, Type};

const NAME: &str = "hardened";
const ABOUT: &str =
    "lesson 05's threaded server, hardened: limits, a summary at Ctrl+C, batched output";
/// The tutorial's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// What a client hears when `--max-clients` are already connected:
/// "the server is busy, please try again later".
const BUSY: &str = "服务器忙，请稍后再试";
/// How many connections the kernel may hold for `accept`, listen()'s
/// backlog. The tutorial's 128 lets a burst of clients overflow it: their
/// handshakes complete (SYN cookies), yet their first messages wait
/// seconds for a retransmission, or go unanswered (a trial: 984 of 5,000
/// within 20 s). 4096 answered all 5,000.
const BACKLOG: i32 = 4096;
/// Each client thread's stack. Rust's default is 2 MiB of address space;
/// a client thread needs far less, and thousands of them add up.
const CLIENT_STACK: usize = 256 * 1024;

/// The limits a real server needs; both off by default, as in the tutorial.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Refuse new clients while this many are connected.
    max_clients: Option<u64>,
    /// Close a client that sends nothing for this long.
    idle_timeout: Option<Duration>,
}

fn main() -> ExitCode {
    // Both limits are at least 1: no clients at all, or a timeout of no
    // time, would be a server that serves nobody.
    let matches = ServerOptions::command(NAME, ABOUT)
        .count_in(
            "max-clients",
            "N",
            "refuse new clients (with a busy reply) while N are connected [default: no limit]",
            None,
            1..=u64::MAX,
        )
        .count_in(
            "idle-timeout",
            "SECS",
            "close a client that sends nothing for SECS seconds [default: never]",
            None,
            1..=u64::MAX,
        )
        .switch(
            "quiet",
            "print no line per client or message (for benchmarks); start-up notes, warnings and the summary still appear",
        )
        .parse_or_exit();
    let options = ServerOptions::from_matches(&matches);
    let limits = Limits {
        max_clients: matches.count("max-clients"),
        idle_timeout: matches.count("idle-timeout").map(Duration::from_secs),
    };
    // ANCHOR: output
    // Every client's thread prints a line per message. netcore::out writes
    // them at once on a terminal, and otherwise collects them and writes
    // them together (within 50 ms), so that a hundred threads do not queue
    // for stdout and a write() per line; --quiet leaves them out.
    netcore::out::set_quiet(matches.switch("quiet"));
    // ANCHOR_END: output
    netcore::report(NAME, run(&options, limits))
}

/// What the server has done, for the summary line at shutdown.
#[derive(Debug, Default)]
struct Stats {
    clients: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    connected: AtomicUsize,
    /// Set at Ctrl+C: no message is taken on from then on.
    stopping: AtomicBool,
    /// Messages taken on and not yet printed and counted, which shutdown
    /// waits for.
    in_flight: AtomicUsize,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{} served, {}, {} received",
            count(self.clients.load(Ordering::Relaxed), "client", "clients"),
            count(self.messages.load(Ordering::Relaxed), "message", "messages"),
            count(self.bytes.load(Ordering::Relaxed), "byte", "bytes")
        )
    }
}

fn run(options: &ServerOptions, limits: Limits) -> Result<(), Error> {
    let addr = options.addr()?;
    let stats = Arc::new(Stats::default());

    // ANCHOR: shutdown
    // Ctrl+C (SIGINT) or `kill` (SIGTERM): print a summary and exit. The
    // tutorial marks its client threads as daemons so that they cannot keep
    // the process alive; Rust's threads are like that already: when the
    // process exits, every client thread ends with it and the kernel closes
    // their sockets.
    let summary = Arc::clone(&stats);
    netcore::sys::on_shutdown(move |signal| {
        // No client thread takes on another message, and those taken on
        // are printed and counted first (their replies follow, or not):
        // every message that gets a reply is in the output and in the
        // summary. Taking on is CPU work only, never a wait on a client;
        // the bound is for a machine too busy to run those threads.
        summary.stopping.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while summary.in_flight.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        // Write what is still buffered, then the summary, and keep the
        // output locked until the end, so the summary is the last line.
        netcore::out::finish(format_args!("{}: server stopped; {summary}", signal.name()));
        std::process::exit(0);
    })
    .context(|| "cannot set up Ctrl+C handling")?;
    // ANCHOR_END: shutdown

    // ANCHOR: open_files
    // Every connected client costs one file descriptor. Many systems start
    // programs with a soft limit of 1024; raise it as far as allowed.
    match netcore::sys::raise_open_file_limit() {
        Ok(limit) if limit.after > limit.before => outln!(
            "open-file limit raised from {} to {} (one per client)",
            limit.before,
            limit.after
        ),
        Ok(_) => {}
        Err(err) => eprintln!(
            "{NAME}: warning: cannot raise the open-file limit ({}); \
             clients beyond it will be refused",
            describe(&err)
        ),
    }
    // ANCHOR_END: open_files

    // socket, SO_REUSEADDR, bind, listen: the same four calls as the single
    // server of lesson 03, with a longer accept queue (below).
    let server = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    #[cfg(not(windows))]
    server
        .set_reuse_address(true)
        .context(|| "cannot set SO_REUSEADDR")?;
    server
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    server
        .listen(BACKLOG)
        .context(|| format!("cannot listen on {addr}"))?;
    let local = server
        .local_addr()
        .context(|| "cannot read the bound address")?;
    outln!("listening on {}", local.as_socket().unwrap_or(addr));
    // ANCHOR: backlog
    // Say which queue the kernel granted: it caps listen()'s number at
    // net.core.somaxconn.
    if let Some(cap) = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    {
        outln!(
            "accept queue: {} connections (listen({BACKLOG}), capped by net.core.somaxconn = {cap})",
            BACKLOG.min(cap)
        );
    }
    // ANCHOR_END: backlog
    netcore::out::flush();

    let reply: Arc<[u8]> = options.encoding.encode(REPLY)?.into();
    let busy = options.encoding.encode(BUSY)?;

    // while True: accept() ... The main thread does nothing but accept, so
    // a new client is taken at once however busy the others are.
    loop {
        let (conn, ip_port) = match server.accept() {
            Ok((conn, addr)) => (conn, addr.as_socket().unwrap_or(addr_unknown())),
            Err(err) => {
                // Out of file descriptors (EMFILE), or a client that gave up
                // before we accepted it: say so and keep serving. A short
                // pause stops a full descriptor table from spinning the loop.
                eprintln!("{NAME}: warning: accept failed: {}", describe(&err));
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        logln!("client connected: {}", PyAddr(ip_port));

        // ANCHOR: max_clients
        // --max-clients: over the limit, say "busy" and close at once.
        // (The tutorial has no limit: every client costs a thread.)
        if let Some(max) = limits.max_clients {
            let connected = stats.connected.load(Ordering::SeqCst) as u64;
            if connected >= max {
                let _ = conn.send(&busy);
                logln!(
                    "server busy: refused {} ({connected} clients connected, --max-clients {max})",
                    PyAddr(ip_port)
                );
                continue;
            }
        }
        // ANCHOR_END: max_clients

        // threading.Thread(target=handle_request, args=(conn, ip_port)):
        // one thread per client, named after it so that a debugger or
        // `top -H` shows who is who.
        stats.connected.fetch_add(1, Ordering::SeqCst);
        stats.clients.fetch_add(1, Ordering::Relaxed);
        let (thread_stats, reply) = (Arc::clone(&stats), Arc::clone(&reply));
        let encoding = options.encoding;
        let spawned = thread::Builder::new()
            .name(format!("client {ip_port}"))
            .stack_size(CLIENT_STACK)
            .spawn(move || {
                handle_request(conn, ip_port, encoding, &reply, limits, &thread_stats);
                thread_stats.connected.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(err) = spawned {
            // Out of threads or memory: this client's socket is closed
            // (it was moved into the closure), everyone else goes on.
            stats.connected.fetch_sub(1, Ordering::SeqCst);
            eprintln!(
                "{NAME}: warning: cannot start a thread for {}: {}",
                PyAddr(ip_port),
                describe(&err)
            );
        }
    }
}

/// Serves one client until it goes offline: the tutorial's
/// `handle_request`, run on the client's own thread.
fn handle_request(
    conn: Socket,
    ip_port: SocketAddr,
    encoding: Encoding,
    reply: &[u8],
    limits: Limits,
    stats: &Stats,
) {
    // ANCHOR: idle
    // --idle-timeout: a recv that waits longer than this fails, and the
    // server closes the connection; sends get the same bound, so a client
    // that never reads cannot hold its thread forever either.
    if let Some(timeout) = limits.idle_timeout {
        let _ = conn.set_read_timeout(Some(timeout));
        let _ = conn.set_write_timeout(Some(timeout));
    }
    // ANCHOR_END: idle

    // One decoder per connection: it keeps half a character from one recv
    // until the rest arrives in the next.
    let mut decoder = encoding.decoder();
    let mut buffer = [0u8; 1024];
    loop {
        // recv(1024): whatever has arrived, at most 1024 bytes.
        let n = match (&conn).read(&mut buffer) {
            Ok(n) => n,
            Err(err) if is_timeout(&err) => {
                logln!("client idle, closing: {}", PyAddr(ip_port));
                break;
            }
            Err(err) => {
                // Reset by the peer, or another error: end this client only,
                // saying so if it left half a character behind, as a clean
                // close does.
                if decoder.finish().has_invalid() {
                    eprintln!(
                        "{NAME}: warning: {} was dropped in the middle of a character",
                        PyAddr(ip_port)
                    );
                }
                logln!("client dropped: {} ({})", PyAddr(ip_port), describe(&err));
                break;
            }
        };
        if n == 0 {
            // recv returned 0: the client closed its side. 客户端下线.
            let tail = decoder.finish();
            if tail.has_invalid() {
                eprintln!(
                    "{NAME}: warning: {} closed in the middle of a character",
                    PyAddr(ip_port)
                );
            }
            logln!("client offline: {}", PyAddr(ip_port));
            break;
        }
        // Taken on only while the server is not stopping (see the
        // shutdown above): counted, printed and answered, or none of these.
        stats.in_flight.fetch_add(1, Ordering::SeqCst);
        if stats.stopping.load(Ordering::SeqCst) {
            stats.in_flight.fetch_sub(1, Ordering::SeqCst);
            break;
        }
        take_on(ip_port, encoding, stats, &mut decoder, &buffer[..n]);
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !send_reply(&conn, ip_port, reply) {
            return;
        }
    }
    // close(): end the conversation with this client. (Dropping `conn`
    // would do the same when the function returns.)
    drop(conn);
}

/// Counts and prints one message: the first half of the tutorial's loop.
fn take_on(
    ip_port: SocketAddr,
    encoding: Encoding,
    stats: &Stats,
    decoder: &mut netcore::text::StreamDecoder,
    data: &[u8],
) {
    stats.messages.fetch_add(1, Ordering::Relaxed);
    stats.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);

    let message = decoder.feed(data);
    if message.text.is_empty() {
        // Only the first byte of a two-byte character has come: the
        // decoder keeps it until the rest arrives, in a later recv.
        logln!(
            "received: (half a character, waiting for the rest) {}",
            PyAddr(ip_port)
        );
    } else {
        logln!("received: {} {}", PyText(&message.text), PyAddr(ip_port));
    }
    if message.has_invalid() {
        eprintln!(
            "{NAME}: warning: {} sent {} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {}",
            PyAddr(ip_port),
            message.invalid,
            PyBytes(data)
        );
    }
}

/// send('ok, 收到了'), all of it: send() may take only part. `false` when
/// it could not be sent.
fn send_reply(conn: &Socket, ip_port: SocketAddr, reply: &[u8]) -> bool {
    let mut sent = 0;
    while sent < reply.len() {
        match conn.send(&reply[sent..]) {
            Ok(n) => sent += n,
            Err(err) => {
                logln!("cannot reply to {}: {}", PyAddr(ip_port), describe(&err));
                return false;
            }
        }
    }
    true
}

/// Whether a recv failed because the read timeout expired (Unix says
/// "would block", Windows "timed out").
fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Stands in for a peer address that is not an IP address (it cannot happen
/// on a TCP socket, but the type system does not know that).
fn addr_unknown() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}
