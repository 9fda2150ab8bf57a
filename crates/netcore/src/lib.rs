//! `netcore`: the lessons' helpers, and only those.
//!
//! Everything here is what a lesson needs but does not teach. The socket
//! calls themselves (`socket`, `bind`, `listen`, `accept`, `connect`, `send`,
//! `recv`, `close`) stay in each lesson's `main.rs`, in the tutorial's order;
//! this crate only keeps the noise out of the way:
//!
//! - [`text`]: GBK / UTF-8 encoding that refuses what it cannot represent,
//!   and a streaming decoder that survives a character split across two
//!   `recv` calls;
//! - [`pyrepr`]: bytes and addresses printed the way Python prints them
//!   (`b'\xc4\xe3'`, `('127.0.0.1', 8080)`), so output can be held side by
//!   side with the tutorial's;
//! - [`cli`]: the course's common flags (`--host`, `--port`, `--message`,
//!   `--encoding`) and their checks for each lesson's `lexopt` loop,
//!   `--help` laid out in 80 columns, and one-line usage errors with exit
//!   code 2;
//! - [`error`]: one-line errors with a hint, for the failures a learner meets
//!   (connection refused, port in use, ...);
//! - [`listener`]: a listener builder on socket2 for the places where
//!   listening is *not* the lesson (experiments, fake peers in tests);
//! - [`lang`]: English or the tutorial's Chinese (`--lang`, or the
//!   locale), and [`tr!`] to print a label in either;
//! - [`sys`]: the few OS calls neither `std` nor socket2 offers: shutdown
//!   signals, the open-file limit, the bytes queued in a socket's buffers.
//!
//! Every lesson's first build compiles this crate, so it holds nothing else.
//! The tests' harness (spawn a lesson binary, wait for its
//! `listening on IP:PORT` line, kill it in `Drop`; fake servers) is the
//! `testkit` crate, a dev-dependency; what the tools share about other
//! processes (`/proc`, a guarded child) is the `proctools` crate.

pub mod cli;
pub mod error;
pub mod lang;
pub mod listener;
pub mod pyrepr;
pub mod sys;
pub mod text;

pub use error::{Context, Error};

use std::process::ExitCode;

/// Turns a lesson's result into its exit code, printing an error as one line
/// on stderr, prefixed with the program's name (`lesson-03: error: ...`, or
/// `lesson-03: 错误: ...` in Chinese).
///
/// Exit code 1 means "the program ran but something failed" (a refused
/// connection, a port in use); usage errors exit with 2 earlier, in [`cli`].
pub fn report(program: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program}: {} {err}", lang::tr("error:", "错误:"));
            ExitCode::FAILURE
        }
    }
}
