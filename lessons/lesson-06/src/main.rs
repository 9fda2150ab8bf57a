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
//! one. The walkthrough is `lessons/lesson-06/README.md`.

use std::io::{IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use netcore::chart::{Bar, bar_chart};
use netcore::cli::Command;
use netcore::error::describe;
use netcore::pyrepr::PyBytes;
use netcore::sys::{unread_bytes, unsent_bytes};
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

const NAME: &str = "lesson-06";
const ABOUT: &str = "send and recv and the kernel's buffers, measured over loopback";
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
/// No experiment waits longer than this for the kernel to move bytes.
const PATIENCE: Duration = Duration::from_secs(10);

/// Settings of experiment 6.
struct Transfer {
    bytes: u64,
    runs: u64,
    svg: String,
}

fn main() -> ExitCode {
    let command = Command::new(NAME, ABOUT)
        .positional(
            "EXPERIMENT",
            "1 to 6 runs one experiment; nothing runs all six",
        )
        .count(
            "bytes",
            "N",
            "experiment 6: bytes to transfer per run",
            Some(128 * MIB as u64),
        )
        .count(
            "runs",
            "N",
            "experiment 6: runs per read size (the median is shown)",
            Some(3),
        )
        .text(
            "svg",
            "FILE",
            "experiment 6: also write the throughput chart to FILE",
            "",
        );
    let matches = command.parse_or_exit();
    let transfer = Transfer {
        bytes: matches.count("bytes").unwrap_or(0).max(1),
        runs: matches.count("runs").unwrap_or(1).clamp(1, 100),
        svg: matches.text("svg").to_owned(),
    };
    let result = match matches.positional() {
        None => (1..=6).try_for_each(|n| experiment(n, &transfer)),
        Some(which) => match which.parse::<u8>() {
            Ok(n @ 1..=6) => experiment(n, &transfer),
            _ => command.exit_usage(format!("unknown experiment '{which}': expected 1 to 6")),
        },
    };
    netcore::report(NAME, result)
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
    let capacity = client.send_buffer_size().unwrap_or(0) + conn.recv_buffer_size().unwrap_or(0);
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
                    progress(live, total, &client, &conn, capacity);
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
    progress(live, total, &client, &conn, capacity);
    if live {
        println!();
    }
    println!("   send() would block after {total} bytes:");
    println!(
        "     {} bytes wait in the client's send buffer (SIOCOUTQ)",
        show(unsent_bytes(&client))
    );
    println!(
        "     {} bytes wait in the server's receive buffer (SIOCINQ)",
        show(unread_bytes(&conn))
    );
    println!("   A blocking send() would now wait until the server reads; a server that never");
    println!("   reads stalls its client, and a client that never reads stalls its server.");
    Ok(())
}
// ANCHOR_END: fill

/// One line of experiment 3's progress: bars for both buffers.
fn progress(live: bool, total: usize, client: &Socket, conn: &Socket, capacity: usize) {
    let out = queue(unsent_bytes(client));
    let inq = queue(unread_bytes(conn));
    let line = format!(
        "   sent {:>9}  send buffer {} {:>8}  receive buffer {} {:>8}",
        total,
        bar(out, capacity),
        out,
        bar(inq, capacity),
        inq
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
        "6. Reading {} MiB with different recv() sizes ({} run(s) each, median):",
        transfer.bytes / MIB as u64,
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
    if !transfer.svg.is_empty() {
        let title = format!(
            "Loopback transfer of {} MiB by recv size",
            transfer.bytes / MIB as u64
        );
        std::fs::write(&transfer.svg, bar_chart(&title, "MB/s", &bars))
            .context(|| format!("cannot write {}", transfer.svg))?;
        println!("   chart written to {}", transfer.svg);
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

/// `[#####.....]`: `value` against `capacity`.
fn bar(value: usize, capacity: usize) -> String {
    const WIDTH: usize = 20;
    let filled = (value * WIDTH)
        .checked_div(capacity)
        .unwrap_or(0)
        .min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled))
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
