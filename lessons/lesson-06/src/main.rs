//! Lesson 06: send and recv, and the kernel's buffers (tutorial section 6,
//! "socket send 和 recv").
//!
//! The tutorial draws the pipeline
//!
//! ```text
//! application -> send buffer -> NIC ... NIC -> receive buffer -> application
//! ```
//!
//! and says that `send` only writes into the send buffer and `recv` only
//! reads from the receive buffer. These experiments measure it over
//! loopback, with the real numbers of this machine:
//!
//! 1. the buffers' sizes, and what the kernel makes of a size you set;
//! 2. `send` returns before the peer has read anything;
//! 3. a peer that never reads: fill both buffers until `send` would block;
//! 4. a byte stream has no message boundaries;
//! 5. a non-blocking `send` takes only what fits: why `write_all` exists;
//! 6. the application's read size and throughput.
//!
//! `cargo run -p lesson-06` runs them all, `cargo run -p lesson-06 -- 3`
//! one. Two more modes are the course's exercise, which the grader checks:
//! `sink` is a server that counts every byte of one client's stream and
//! replies with the count, `source` a client that sends a known pattern.
//! The walkthrough is `lessons/lesson-06/README.md`.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use netcore::chart::{Bar, bar_chart};
use netcore::cli::{Command, DEFAULT_PORT, Matches, resolve};
use netcore::error::{bind_failed, connect_failed, describe};
use netcore::pyrepr::{PyAddr, PyBytes};
use netcore::sys::{unread_bytes, unsent_bytes};
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

const NAME: &str = "lesson-06";
const ABOUT: &str = "send and recv and the kernel's buffers, measured over loopback; `sink` and `source` are the exercise";
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
/// No experiment waits longer than this for the kernel to move bytes.
const PATIENCE: Duration = Duration::from_secs(10);
/// What experiment 6 transfers per run unless `--bytes` says otherwise.
const TRANSFER_BYTES: u64 = 128 * MIB as u64;
/// What `source` sends unless `--bytes` (or the `BYTES` variable) says
/// otherwise: 8 MiB.
const SOURCE_BYTES: u64 = 8 * MIB as u64;
/// The most `--bytes` may ask for: 16 GiB.
const MAX_BYTES: u64 = 16 * 1024 * MIB as u64;

/// Settings of experiment 6.
struct Transfer {
    bytes: u64,
    runs: u64,
    /// `--svg`: the chart's file name, and the file, created before
    /// anything is measured so that a bad name fails at once.
    svg: Option<(String, File)>,
}

fn main() -> ExitCode {
    let command = Command::new(NAME, ABOUT)
        .positional(
            "WHAT",
            "1 to 6 runs one experiment; nothing runs all six; `sink` or `source` is the exercise (see the walkthrough)",
        )
        .count_in(
            "bytes",
            "N",
            "experiment 6: bytes to transfer per run [default: 134217728]; source: bytes to send [default: $BYTES, else 8388608]",
            None,
            1..=MAX_BYTES,
        )
        .count_in(
            "read-size",
            "N",
            "sink: bytes asked for per recv() [default: 65536]",
            None,
            1..=16 * MIB as u64,
        )
        .count_in(
            "runs",
            "N",
            "experiment 6: runs per read size (the median is shown)",
            Some(3),
            1..=100,
        )
        .text(
            "svg",
            "FILE",
            "experiment 6: also write the throughput chart to FILE",
            "",
        )
        .host(
            "",
            "sink: address to listen on [0.0.0.0]; source: the sink to connect to [127.0.0.1]",
        )
        .port(
            DEFAULT_PORT,
            "sink: port to listen on (0: any free port); source: the sink's port",
        );
    let matches = command.parse_or_exit();
    let host = matches.text("host");
    let port = matches.port("port");
    let result = match matches.positional() {
        Some("sink") => {
            refuse(&command, &matches, &["bytes", "runs", "svg"], "sink mode");
            let read_size = matches.count("read-size").unwrap_or(64 * KIB as u64) as usize;
            sink(host, port, read_size)
        }
        Some("source") => {
            refuse(
                &command,
                &matches,
                &["runs", "svg", "read-size"],
                "source mode",
            );
            if port == 0 {
                command.exit_usage(
                    "--port 0: a client cannot connect to port 0; give the port the sink listens on",
                );
            }
            let host = if host.is_empty() { "127.0.0.1" } else { host };
            // The grader says how many bytes to send in BYTES (a different
            // count every run); --bytes wins.
            let bytes = matches
                .count("bytes")
                .or_else(|| bytes_from_env(&command))
                .unwrap_or(SOURCE_BYTES);
            source(host, port, bytes)
        }
        which => {
            let experiments = match which.map(str::parse::<u8>) {
                None => 1..=6,
                Some(Ok(n @ 1..=6)) => n..=n,
                Some(_) => command.exit_usage(format!(
                    "unknown experiment '{}': expected 1 to 6, sink or source",
                    which.unwrap_or_default()
                )),
            };
            refuse(
                &command,
                &matches,
                &["host", "port", "read-size"],
                "the experiments",
            );
            if !experiments.contains(&6) {
                refuse(
                    &command,
                    &matches,
                    &["bytes", "runs", "svg"],
                    &format!("experiment {}", experiments.start()),
                );
            }
            transfer_settings(&matches).and_then(|transfer| {
                experiments
                    .into_iter()
                    .try_for_each(|n| experiment(n, &transfer))
            })
        }
    };
    netcore::report(NAME, result)
}

/// Refuses, as a usage error, any of `flags` given on the command line:
/// `what` (a mode, or an experiment) would silently ignore them.
fn refuse(command: &Command, matches: &Matches, flags: &[&str], what: &str) {
    for flag in flags {
        if matches.given(flag) {
            let applies = match *flag {
                "bytes" => "experiment 6 and source mode",
                "runs" | "svg" => "experiment 6",
                "read-size" => "sink mode",
                _ => "sink and source modes",
            };
            command.exit_usage(format!("--{flag} only applies to {applies}, not to {what}"));
        }
    }
}

/// Experiment 6's settings. The chart's file is created now, before
/// anything is measured: a name that cannot be written fails at once,
/// not after minutes of benchmark.
fn transfer_settings(matches: &Matches) -> Result<Transfer, Error> {
    let svg = if matches.given("svg") {
        let path = matches.text("svg").to_owned();
        let file = File::create(&path).context(|| format!("cannot create {path}"))?;
        Some((path, file))
    } else {
        None
    };
    Ok(Transfer {
        bytes: matches.count("bytes").unwrap_or(TRANSFER_BYTES),
        runs: matches.count("runs").unwrap_or(3),
        svg,
    })
}

fn experiment(n: u8, transfer: &Transfer) -> Result<(), Error> {
    match n {
        1 => buffer_sizes(),
        2 => send_returns_early(),
        3 => fill_until_blocked(),
        4 => no_message_boundaries(),
        5 => partial_send(),
        _ => read_size_and_throughput(transfer),
    }?;
    println!();
    Ok(())
}

// ANCHOR: pair
/// A connected pair over loopback: the client's socket and the server's
/// accepted one (socket, bind, listen, connect, accept, as in lessons 02-03).
fn connected_pair() -> Result<(Socket, Socket), Error> {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    listener.bind(&any_port.into()).context(|| "cannot bind")?;
    listener.listen(1).context(|| "cannot listen")?;
    let addr = listener.local_addr().context(|| "getsockname")?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    client.connect(&addr).context(|| "cannot connect")?;
    let (conn, _) = listener.accept().context(|| "accept failed")?;
    for socket in [&client, &conn] {
        socket
            .set_read_timeout(Some(PATIENCE))
            .context(|| "timeout")?;
        socket
            .set_write_timeout(Some(PATIENCE))
            .context(|| "timeout")?;
    }
    Ok((client, conn))
}
// ANCHOR_END: pair

// ANCHOR: sizes
/// Experiment 1: The two buffers exist, per socket, and have sizes you can ask for.
fn buffer_sizes() -> Result<(), Error> {
    println!("1. Every TCP socket has a send buffer and a receive buffer in the kernel.");
    let (client, _conn) = connected_pair()?;
    println!(
        "   a connected socket starts with SO_SNDBUF = {} bytes, SO_RCVBUF = {} bytes",
        client.send_buffer_size().context(|| "SO_SNDBUF")?,
        client.recv_buffer_size().context(|| "SO_RCVBUF")?
    );
    println!("   setsockopt(SO_SNDBUF / SO_RCVBUF, asked) on a new socket, then getsockopt:");
    println!(
        "   {:>12}  {:>14}  {:>14}",
        "asked", "SO_SNDBUF now", "SO_RCVBUF now"
    );
    for asked in [1, 4 * KIB, 64 * KIB, MIB] {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .context(|| "cannot create a socket")?;
        socket
            .set_send_buffer_size(asked)
            .context(|| "set SO_SNDBUF")?;
        socket
            .set_recv_buffer_size(asked)
            .context(|| "set SO_RCVBUF")?;
        println!(
            "   {asked:>12}  {:>14}  {:>14}",
            socket.send_buffer_size().context(|| "SO_SNDBUF")?,
            socket.recv_buffer_size().context(|| "SO_RCVBUF")?
        );
    }
    if cfg!(target_os = "linux") {
        println!(
            "   Linux doubles what you ask (half is for its own bookkeeping), enforces a minimum,"
        );
        println!(
            "   and caps the request at net.core.wmem_max = {} / rmem_max = {} bytes.",
            sysctl("net/core/wmem_max"),
            sysctl("net/core/rmem_max")
        );
        println!(
            "   Sockets you leave alone grow on demand, up to tcp_wmem = [{}] and tcp_rmem = [{}].",
            sysctl("net/ipv4/tcp_wmem"),
            sysctl("net/ipv4/tcp_rmem")
        );
    }
    Ok(())
}
// ANCHOR_END: sizes

// ANCHOR: early
/// Experiment 2: `send` copies into the send buffer and returns: nobody has read yet.
fn send_returns_early() -> Result<(), Error> {
    println!("2. send() returns as soon as the bytes are in the kernel's buffers.");
    let (client, conn) = connected_pair()?;
    let n = client.send(&[b'x'; 1000]).context(|| "send failed")?;
    println!("   client.send(1000 bytes) -> {n}; the server has not called recv()");
    wait_for(|| queue(unread_bytes(&conn)) >= 1000);
    println!(
        "   the server's receive buffer holds {} unread bytes (SIOCINQ)",
        show(unread_bytes(&conn))
    );
    println!(
        "   the client's send buffer holds {} bytes not yet acknowledged (SIOCOUTQ)",
        show(unsent_bytes(&client))
    );
    let mut buffer = [0u8; 1024];
    let got = (&conn).read(&mut buffer).context(|| "recv failed")?;
    println!("   conn.recv(1024) -> {got} bytes, taken from the receive buffer");
    println!(
        "   the receive buffer now holds {} bytes",
        show(unread_bytes(&conn))
    );
    Ok(())
}
// ANCHOR_END: early

// ANCHOR: fill
/// Experiment 3: A peer that never reads: the sender fills its send buffer and the
/// peer's receive buffer, then `send` would block.
fn fill_until_blocked() -> Result<(), Error> {
    println!("3. The server never reads: how much can the client send before send() blocks?");
    let (client, conn) = connected_pair()?;
    // Non-blocking, so that "would block" comes back as an error instead
    // of stopping the program.
    client.set_nonblocking(true).context(|| "set_nonblocking")?;
    let live = std::io::stdout().is_terminal();
    let chunk = vec![b'x'; 64 * KIB];
    let mut total = 0usize;
    let mut chunks = 0u32;
    let deadline = Instant::now() + PATIENCE;
    let mut stalled = false;
    while Instant::now() < deadline && chunks < 100_000 {
        match client.send(&chunk) {
            Ok(n) => {
                total += n;
                chunks += 1;
                stalled = false;
                if live || chunks.is_multiple_of(16) {
                    progress(live, total, &client, &conn);
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                // Give the kernel a moment to move bytes along; two would-
                // blocks in a row with nothing sent between them means full.
                if stalled {
                    break;
                }
                stalled = true;
                thread::sleep(Duration::from_millis(50));
            }
            Err(err) => return Err(Error::io("send failed", &err)),
        }
    }
    progress(live, total, &client, &conn);
    if live {
        println!();
    }
    println!("   send() would block after {total} bytes:");
    println!(
        "     {} bytes wait in the client's send buffer (SIOCOUTQ); its SO_SNDBUF is now {}",
        show(unsent_bytes(&client)),
        show(client.send_buffer_size())
    );
    println!(
        "     {} bytes wait in the server's receive buffer (SIOCINQ); its SO_RCVBUF is now {}",
        show(unread_bytes(&conn)),
        show(conn.recv_buffer_size())
    );
    println!("   A blocking send() would now wait until the server reads; a server that never");
    println!("   reads stalls its client, and a client that never reads stalls its server.");
    Ok(())
}
// ANCHOR_END: fill

/// One line of experiment 3's progress: each queue, and a bar showing how
/// full its own buffer is. The sizes are read anew for every line: the
/// kernel grows an autotuned buffer while it fills.
fn progress(live: bool, total: usize, client: &Socket, conn: &Socket) {
    let out = queue(unsent_bytes(client));
    let inq = queue(unread_bytes(conn));
    let sndbuf = client.send_buffer_size().unwrap_or(0);
    let rcvbuf = conn.recv_buffer_size().unwrap_or(0);
    // In KiB, so that the line fits 80 columns and a live line does not
    // wrap (and scroll) on a terminal.
    let kib = |bytes: usize| bytes / 1024;
    let shown = |bytes: usize| format!("{}K", kib(bytes));
    let line = format!(
        "   sent {:>6}  send {} {:>6}/{:<6}  recv {} {:>6}/{}",
        shown(total),
        bar(kib(out), kib(sndbuf)),
        shown(out),
        shown(sndbuf),
        bar(kib(inq), kib(rcvbuf)),
        shown(inq),
        shown(rcvbuf)
    );
    if live {
        print!("\r{line}");
        let _ = std::io::stdout().flush();
    } else {
        println!("{line}");
    }
}

// ANCHOR: boundaries
/// Experiment 4: TCP carries a stream of bytes, not messages.
fn no_message_boundaries() -> Result<(), Error> {
    println!("4. A byte stream has no message boundaries.");
    let (client, conn) = connected_pair()?;
    client.send(b"hello").context(|| "send failed")?;
    client.send(b"world").context(|| "send failed")?;
    println!("   client.send(b'hello'); client.send(b'world')");
    wait_for(|| queue(unread_bytes(&conn)) >= 10);
    let mut buffer = vec![0u8; 1024];
    let n = (&conn).read(&mut buffer).context(|| "recv failed")?;
    println!(
        "   conn.recv(1024) -> {} ({n} bytes): two sends, one recv",
        PyBytes(&buffer[..n])
    );

    let big = vec![b'a'; 10_000];
    let mut sent = 0;
    while sent < big.len() {
        sent += client.send(&big[sent..]).context(|| "send failed")?;
    }
    println!("   client.send(10000 bytes)");
    let mut sizes = Vec::new();
    let mut received = 0;
    while received < big.len() {
        let n = (&conn).read(&mut buffer).context(|| "recv failed")?;
        if n == 0 {
            break;
        }
        sizes.push(n);
        received += n;
    }
    println!(
        "   conn.recv(1024) had to be called {} times: {sizes:?}",
        sizes.len()
    );
    println!(
        "   The receiver must find the messages itself: by length, by delimiter, or by close."
    );
    Ok(())
}
// ANCHOR_END: boundaries

// ANCHOR: partial
/// Experiment 5: A non-blocking `send` takes only what fits; a loop must send the rest.
fn partial_send() -> Result<(), Error> {
    println!("5. A non-blocking send() may take fewer bytes than offered.");
    let (client, conn) = connected_pair()?;
    client.set_nonblocking(true).context(|| "set_nonblocking")?;
    let data = vec![b'z'; 4 * MIB];
    let first = send_some(&client, &data)?;
    println!(
        "   client.send(4 MiB) -> {first} bytes: only what fit in the buffers (the server is not reading)"
    );

    // Now let the server read everything, and send the rest in a loop.
    let reader = thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * KIB];
        let mut total = 0usize;
        while let Ok(n) = (&conn).read(&mut buffer) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    });
    let mut sent = first;
    let mut calls = 1;
    let deadline = Instant::now() + PATIENCE;
    while sent < data.len() && Instant::now() < deadline {
        match client.send(&data[sent..]) {
            Ok(n) => {
                sent += n;
                calls += 1;
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(err) => return Err(Error::io("send failed", &err)),
        }
    }
    client
        .shutdown(Shutdown::Write)
        .context(|| "shutdown failed")?;
    let received = reader.join().unwrap_or(0);
    println!("   sending all 4 MiB took {calls} send() calls that each took what fit;");
    println!("   the server received {received} of {} bytes.", data.len());
    println!(
        "   That loop is Python's sendall() and Rust's write_all(); one send() can lose the rest."
    );
    Ok(())
}
// ANCHOR_END: partial

/// A non-blocking send that waits (boundedly) for the first bytes to fit.
fn send_some(client: &Socket, data: &[u8]) -> Result<usize, Error> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match client.send(data) {
            Ok(n) => return Ok(n),
            Err(err)
                if err.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(1));
            }
            Err(err) => return Err(Error::io("send failed", &err)),
        }
    }
}

// ANCHOR: throughput
/// Experiment 6: How much the application asks for per `recv` decides how many system
/// calls a transfer costs, and so its speed.
fn read_size_and_throughput(transfer: &Transfer) -> Result<(), Error> {
    println!(
        "6. Reading {} with different recv() sizes ({} run(s) each, median):",
        amount(transfer.bytes),
        transfer.runs
    );
    println!(
        "   {:>9}  {:>11}  {:>10}  {:>10}  {:>19}",
        "recv size", "recv calls", "time", "MB/s", "MB/s min-max"
    );
    let mut bars = Vec::new();
    for read_size in [KIB, 64 * KIB, MIB] {
        let mut rates = Vec::new();
        let mut calls = 0;
        let mut times = Vec::new();
        for _ in 0..transfer.runs {
            let (elapsed, n) = timed_transfer(transfer.bytes, read_size)?;
            calls = n;
            times.push(elapsed);
            rates.push(transfer.bytes as f64 / elapsed.as_secs_f64() / 1e6);
        }
        rates.sort_by(f64::total_cmp);
        times.sort();
        let median = rates[rates.len() / 2];
        let range = format!("{:.0}-{:.0}", rates[0], rates[rates.len() - 1]);
        println!(
            "   {:>9}  {calls:>11}  {:>10.3?}  {median:>10.0}  {range:>19}",
            size_name(read_size),
            times[times.len() / 2],
        );
        bars.push(Bar {
            label: format!("recv({})", size_name(read_size)),
            value: median,
        });
    }
    if let Some((path, file)) = &transfer.svg {
        let title = format!(
            "Loopback transfer of {} by recv size",
            amount(transfer.bytes)
        );
        (&*file)
            .write_all(bar_chart(&title, "MB/s", &bars).as_bytes())
            .context(|| format!("cannot write {path}"))?;
        println!("   chart written to {path}");
    }
    println!("   Each recv() is a system call; bigger reads mean fewer calls per byte.");
    Ok(())
}

/// Sends `bytes` from one thread and receives them with reads of
/// `read_size`; returns the time and the number of recv calls.
fn timed_transfer(bytes: u64, read_size: usize) -> Result<(Duration, u64), Error> {
    let (client, conn) = connected_pair()?;
    let started = Instant::now();
    let sender = thread::spawn(move || -> std::io::Result<()> {
        let chunk = vec![b's'; MIB];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(MIB as u64) as usize;
            (&client).write_all(&chunk[..n])?;
            left -= n as u64;
        }
        Ok(())
    });
    let mut buffer = vec![0u8; read_size];
    let mut received = 0u64;
    let mut calls = 0u64;
    while received < bytes {
        let n = (&conn).read(&mut buffer).context(|| "recv failed")?;
        if n == 0 {
            break;
        }
        received += n as u64;
        calls += 1;
    }
    let elapsed = started.elapsed();
    match sender.join() {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(Error::io("the sender failed", &err)),
        Err(_) => return Err(Error::msg("the sender thread panicked")),
    }
    if received != bytes {
        return Err(Error::msg(format!("received {received} of {bytes} bytes")));
    }
    Ok((elapsed, calls))
}
// ANCHOR_END: throughput

// ANCHOR: sink
/// The exercise, `sink` mode: a server that accepts one client, counts
/// every byte it sends until it closes its side, replies with the count in
/// ASCII digits, closes, and exits. Each `recv` asks for `read_size`
/// bytes (`--read-size`, 64 KiB unless told otherwise).
fn sink(host: &str, port: u16, read_size: usize) -> Result<(), Error> {
    // socket, SO_REUSEADDR, bind, listen: lesson 03's four calls.
    let addr = resolve(host, port)?;
    let listener = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    #[cfg(not(windows))]
    listener
        .set_reuse_address(true)
        .context(|| "cannot set SO_REUSEADDR")?;
    listener
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    listener
        .listen(128)
        .context(|| format!("cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .context(|| "cannot read the bound address")?;
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    let _ = std::io::stdout().flush();

    let (conn, peer) = listener.accept().context(|| "accept failed")?;
    let peer = peer.as_socket().unwrap_or(addr);
    println!("client connected: {}", PyAddr(peer));

    // recv() until it returns 0. Each call returns whatever has arrived,
    // up to the buffer's size, however the client cut its sends: only the
    // sum of all the calls is the client's data.
    let mut buffer = vec![0u8; read_size];
    let mut count: u64 = 0;
    let mut calls: u64 = 0;
    loop {
        let n = (&conn)
            .read(&mut buffer)
            .context(|| format!("cannot receive from {peer}"))?;
        if n == 0 {
            break;
        }
        count += n as u64;
        calls += 1;
    }
    println!("recv returned 0 after {count} bytes in {calls} recv() calls");

    // The reply: the count in ASCII digits, with a send loop as always.
    let reply = count.to_string();
    let mut sent = 0;
    while sent < reply.len() {
        sent += conn
            .send(&reply.as_bytes()[sent..])
            .context(|| format!("cannot reply to {peer}"))?;
    }
    println!("replied {}", PyBytes(reply.as_bytes()));
    drop(conn);
    drop(listener);
    println!("closed the connection and the listening socket");
    Ok(())
}
// ANCHOR_END: sink

// ANCHOR: source
/// The exercise, `source` mode: a client that connects, sends `bytes`
/// bytes in which byte i is `i % 251`, closes, and exits.
fn source(host: &str, port: u16, bytes: u64) -> Result<(), Error> {
    let addr = resolve(host, port)?;
    let client = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    client
        .connect(&addr.into())
        .map_err(|err| connect_failed(addr, &err, "cargo run -p lesson-06 -- sink"))?;
    println!("connected to {addr}; sending {bytes} bytes, byte i being i % 251");

    // The pattern repeats every 251 bytes (a prime, so that it never lines
    // up with a power-of-two chunk: a chunk lost or sent twice shows). One
    // buffer holds it from offset 0, a little longer than a chunk, and
    // `sent % 251` says where in it the next byte starts.
    const CHUNK: usize = 251 * 256;
    let pattern: Vec<u8> = (0..CHUNK + 251).map(|i| (i % 251) as u8).collect();
    let mut sent: u64 = 0;
    let mut calls: u64 = 0;
    while sent < bytes {
        let start = (sent % 251) as usize;
        let len = (bytes - sent).min(CHUNK as u64) as usize;
        // send() may take fewer bytes than offered: add up what it took and
        // go on from there.
        let n = client
            .send(&pattern[start..start + len])
            .context(|| format!("cannot send to {addr}"))?;
        sent += n as u64;
        calls += 1;
    }
    println!("sent {sent} bytes in {calls} send() calls");

    // close(): after the last byte the sink's recv() returns 0.
    drop(client);
    println!("closed the connection");
    Ok(())
}
// ANCHOR_END: source

/// Polls `done` until it holds, at most [`PATIENCE`]: the kernel moves bytes
/// between sockets asynchronously, even over loopback.
fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
}

/// A queue size, or 0 where it cannot be measured.
fn queue(size: std::io::Result<usize>) -> usize {
    size.unwrap_or(0)
}

/// A queue size for printing, or why it is unavailable.
fn show(size: std::io::Result<usize>) -> String {
    match size {
        Ok(n) => n.to_string(),
        Err(err) => format!("(unavailable: {})", describe(&err)),
    }
}

/// `[#####.....]`: `value` against `capacity`, never more than full (the
/// queue counts data bytes, the buffer's size the kernel's bookkeeping as
/// well, so the two are not exactly comparable).
fn bar(value: usize, capacity: usize) -> String {
    const WIDTH: usize = 10;
    let filled = (value * WIDTH)
        .checked_div(capacity)
        .unwrap_or(0)
        .min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled))
}

/// `128 MiB`, or `1000 bytes` for an amount that is not whole MiB.
fn amount(bytes: u64) -> String {
    if bytes.is_multiple_of(MIB as u64) {
        format!("{} MiB", bytes / MIB as u64)
    } else {
        format!("{bytes} bytes")
    }
}

fn size_name(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}

/// A value from /proc/sys, or "?" where there is none.
fn sysctl(path: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// The `BYTES` environment variable, where the grader puts the source's
/// byte count; a value that is not a count is a usage error.
fn bytes_from_env(command: &Command) -> Option<u64> {
    let value = std::env::var("BYTES").ok()?;
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_BYTES).contains(&n) => Some(n),
        _ => command.exit_usage(format!(
            "BYTES={value}: expected a number of bytes from 1 to {MAX_BYTES}"
        )),
    }
}
