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
//! a client that sends a known pattern. `src/args.rs` reads the flags and
//! this file runs what they ask for; the walkthrough,
//! `lessons/lesson-06/README.md`, quotes the rest where it teaches it.

mod args;
mod experiments;
mod sink;
mod source;

use std::process::ExitCode;

use args::What;

const NAME: &str = "lesson-06";
const ABOUT: &str = "send and recv and the kernel's buffers, measured over loopback; `sink` and `source` are the exercise";
/// A KiB: sizes here are in the kernel's binary units.
const KIB: usize = 1024;
/// A MiB.
const MIB: usize = 1024 * KIB;

fn main() -> ExitCode {
    let result = match args::parse() {
        What::Sink {
            host,
            port,
            read_size,
        } => sink::run(&host, port, read_size),
        What::Source { host, port, bytes } => source::run(&host, port, bytes),
        What::Experiments(chosen) => experiments::ALL[chosen].iter().try_for_each(|experiment| {
            experiment()?;
            println!();
            Ok(())
        }),
    };
    netcore::report(NAME, result)
}
