//! Exercise 06: a sink server and a source client (lesson 06).
//!
//! `exercise-06 sink --port P` and `exercise-06 source --port P`. Fill in
//! the TODO steps of `sink` and `source`; `lessons/lesson-06/README.md`
//! explains why each one matters. Check your work with
//! `cargo run -p grader -- check lesson-06`.
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).

use std::process::ExitCode;

use lexopt::prelude::*;
use netcore::Error;
use netcore::cli::{self, DEFAULT_PORT, Help, resolve};

const NAME: &str = "exercise-06";
const ABOUT: &str = "exercise 06: a sink server and a source client";
/// What the source sends, in bytes, unless told otherwise.
const DEFAULT_BYTES: u64 = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let help = Help::new(NAME, ABOUT)
        .positional("MODE", "sink or source")
        .option(
            "--port PORT",
            "sink: port to listen on; source: the sink's port",
        )
        .default(DEFAULT_PORT)
        .option(
            "--bytes N",
            "source: bytes to send [default: $BYTES, else 8388608]",
        );
    let (mode, port, bytes) = cli::parse_or_exit(NAME, |parser| {
        let (mut mode, mut port, mut bytes) = (None, DEFAULT_PORT, None);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if mode.is_none() => mode = Some(value.string()?),
                Long("port") => port = cli::port("--port", parser.value()?)?,
                Long("bytes") => {
                    bytes = Some(cli::count("--bytes", parser.value()?, 0..=u64::MAX)?)
                }
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok((mode, port, bytes))
    });
    // The grader says how many bytes to send in BYTES (a different count
    // every run); --bytes wins.
    let bytes = bytes
        .or_else(|| std::env::var("BYTES").ok()?.trim().parse().ok())
        .unwrap_or(DEFAULT_BYTES);
    let result = match mode.as_deref() {
        Some("sink") => sink(port),
        Some("source") => source(port, bytes),
        _ => cli::exit_usage(NAME, "say which side to play: sink or source"),
    };
    netcore::report(NAME, result)
}

/// Counts every byte of one connection and replies with the count.
fn sink(port: u16) -> Result<(), Error> {
    let addr = resolve("0.0.0.0", port)?;
    // TODO 1 (sink): socket, SO_REUSEADDR, bind(addr), listen(128); print `listening on IP:PORT`.
    // TODO 2 (sink): accept ONE connection. recv in a loop, adding up the lengths, until recv
    //     returns 0 (the sender has closed its side). One recv(1024) is not enough: the
    //     grader sends 3 to 9 MiB (a different amount every run) in uneven pieces.
    // TODO 3 (sink): reply with the count as decimal digits (e.g. b"8388608"), then close.
    // Then delete these two lines.
    let _ = addr;
    Err(Error::msg(
        "sink mode is not written yet: follow the TODO steps in exercises/lesson-06/src/main.rs",
    ))
}

/// Sends `bytes` bytes of the course's pattern: byte i is i % 251.
fn source(port: u16, bytes: u64) -> Result<(), Error> {
    let addr = resolve("127.0.0.1", port)?;
    // The data to send, written for you.
    let data: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    // TODO 4 (source): socket and connect to `addr`.
    // TODO 5 (source): send ALL of `data`: send() returns how many bytes it took, which may be fewer
    //     than offered (the grader does not read at first, so the buffers fill). Loop.
    // TODO 6 (source): close the socket and return Ok(()).
    // Then delete these two lines.
    let _ = (addr, data);
    Err(Error::msg(
        "source mode is not written yet: follow the TODO steps in exercises/lesson-06/src/main.rs",
    ))
}
