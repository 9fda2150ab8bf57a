//! `loadgen`: the course's client engine.
//!
//! Code that plays many clients against a server over loopback: connect,
//! send, verify every reply byte for byte, time each round trip; and bulk
//! transfers verified by byte count or SHA-256 ([`bulk`]); silent
//! connections held open ([`idle`]), with the server's memory, threads and
//! CPU time read from `/proc` (by `proctools::process`, which the grader
//! shares). The grader uses it to check
//! students' servers, and the benchmarks to measure the lessons: one engine,
//! so that both measure the same thing.
//!
//! Every operation is bounded: sockets have read and write timeouts, every
//! loop has a count and a deadline, and only loopback addresses are
//! accepted ([`require_loopback`]): this engine never sends traffic to
//! another machine.
//!
//! [`cli`] is what the `loadgen` command and the grader's share: clap, with
//! one-line usage errors and a help that fits 80 columns.

pub mod bulk;
pub mod cli;
pub mod idle;
pub mod pingpong;
pub mod stats;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// Refuses any address that is not loopback (127.0.0.0/8 or ::1).
///
/// ```
/// assert!(loadgen::require_loopback("127.0.0.1:80".parse().unwrap()).is_ok());
/// assert!(loadgen::require_loopback("10.0.0.1:80".parse().unwrap()).is_err());
/// ```
pub fn require_loopback(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} is not a loopback address: this tool only talks to 127.0.0.1 or ::1"),
        ))
    }
}

/// Connects to a loopback `addr` within `timeout`, with read and write
/// timeouts of `io_timeout` on the stream and Nagle's algorithm off (each
/// small message goes out at once, as a round-trip measurement needs).
pub fn connect(addr: SocketAddr, timeout: Duration, io_timeout: Duration) -> io::Result<TcpStream> {
    require_loopback(addr)?;
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(io_timeout))?;
    stream.set_write_timeout(Some(io_timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// How many connections are opened between two looks at the server's
/// accept queue, when connections are paced ([`wait_for_accepts`]).
pub const PACE_EVERY: usize = 32;

/// Waits (until `deadline`, and at most 5 s) until fewer than
/// [`PACE_EVERY`] connections wait in the accept queue of the server on
/// `port`, so that the next [`PACE_EVERY`] fit in it even with the
/// tutorial's `listen(128)`. A full queue does not refuse: Linux drops the
/// handshake, and the client retries a second or more later. Without
/// `/proc` it returns at once.
pub fn wait_for_accepts(port: u16, deadline: Instant) {
    let until = deadline.min(Instant::now() + Duration::from_secs(5));
    while let Some(queued) = proctools::tcp::accept_queue(port) {
        if queued < PACE_EVERY as u64 || Instant::now() >= until {
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
}
