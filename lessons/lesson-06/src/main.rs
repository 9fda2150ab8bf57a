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
//! reads from the receive buffer. Six experiments measure it over loopback,
//! with this machine's real numbers, one file each in `src/experiments/`:
//!
//! 1. the buffers' sizes, and what the kernel makes of a size you set
//!    (`sizes.rs`);
//! 2. `send` returns before the peer has read anything (`early.rs`);
//! 3. a peer that never reads: fill both buffers until `send` would block
//!    (`fill.rs`);
//! 4. a byte stream has no message boundaries (`boundaries.rs`);
//! 5. a non-blocking `send` takes only what fits: why `write_all` exists
//!    (`partial.rs`);
//! 6. the application's read size and throughput (`read_size.rs`).
//!
//! `cargo run -p lesson-06` runs them all, `cargo run -p lesson-06 -- 3`
//! one. Two more modes are the course's exercise, which the grader checks:
//! `sink` (`src/sink.rs`) is a server that counts every byte of one
//! client's stream and replies with the count, `source` (`src/source.rs`)
//! a client that sends a known pattern. This file reads the flags and runs
//! what they ask for; the walkthrough, `lessons/lesson-06/README.md`,
//! quotes the rest where it teaches it.

mod experiments;
mod sink;
mod source;

use std::process::ExitCode;

use netcore::cli::{Command, DEFAULT_PORT, Matches};

const NAME: &str = "lesson-06";
const ABOUT: &str = "send and recv and the kernel's buffers, measured over loopback; `sink` and `source` are the exercise";
/// A KiB: sizes here are in the kernel's binary units.
const KIB: usize = 1024;
/// A MiB.
const MIB: usize = 1024 * KIB;
/// What `source` sends unless `--bytes` (or the `BYTES` variable) says
/// otherwise: 8 MiB.
const SOURCE_BYTES: u64 = 8 * MIB as u64;
/// The most `--bytes` may ask for: 16 GiB.
const MAX_BYTES: u64 = 16 * 1024 * MIB as u64;

fn main() -> ExitCode {
    let command = Command::new(NAME, ABOUT)
        .positional(
            "WHAT",
            "1 to 6 runs one experiment; nothing runs all six; `sink` or `source` is the exercise (see the walkthrough)",
        )
        .count_in(
            "bytes",
            "N",
            "source: bytes to send [default: $BYTES, else 8388608]",
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
            refuse(&command, &matches, &["bytes"], "sink mode");
            let read_size = matches.count("read-size").map_or(64 * KIB, |n| n as usize);
            sink::run(host, port, read_size)
        }
        Some("source") => {
            refuse(&command, &matches, &["read-size"], "source mode");
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
            source::run(host, port, bytes)
        }
        which => {
            let chosen = match which.map(str::parse::<usize>) {
                None => &experiments::ALL[..],
                Some(Ok(n @ 1..=6)) => &experiments::ALL[n - 1..n],
                Some(_) => command.exit_usage(format!(
                    "unknown experiment '{}': expected 1 to 6, sink or source",
                    which.unwrap_or_default()
                )),
            };
            let flags = ["host", "port", "read-size", "bytes"];
            refuse(&command, &matches, &flags, "the experiments");
            chosen.iter().try_for_each(|experiment| {
                experiment()?;
                println!();
                Ok(())
            })
        }
    };
    netcore::report(NAME, result)
}

/// Refuses, as a usage error, any of `flags` given on the command line:
/// `what` (a mode, or the experiments) would silently ignore them.
fn refuse(command: &Command, matches: &Matches, flags: &[&str], what: &str) {
    for flag in flags {
        if matches.given(flag) {
            let applies = match *flag {
                "bytes" => "source mode",
                "read-size" => "sink mode",
                _ => "sink and source modes",
            };
            command.exit_usage(format!("--{flag} only applies to {applies}, not to {what}"));
        }
    }
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
