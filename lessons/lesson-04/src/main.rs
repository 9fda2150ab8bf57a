//! Lesson 04: the tutorial's notes (section 4, "TCP网络应用程序的注意点"),
//! as experiments you can run.
//!
//! Each note becomes a small experiment over loopback that makes the calls
//! and prints what the operating system really answered:
//!
//! 1. the listening socket is passive: it cannot send or receive;
//! 2. sending and receiving happen on the socket that `accept` returns;
//! 3. when the client closes, the server's `recv` returns 0 bytes;
//! 4. when the server closes, the client's `recv` returns 0 bytes;
//! 5. (beyond the tutorial) `close` against `shutdown(Write)`.
//!
//! `cargo run -p lesson-04` runs them all, `cargo run -p lesson-04 -- 3`
//! one of them, and `server` / `client` let you play one side by hand in
//! two terminals. The walkthrough is `lessons/lesson-04/README.md`.

use std::process::ExitCode;

mod args;
mod modes;
mod notes;

use args::What;
use modes::{client, server};

const NAME: &str = "lesson-04";
const ABOUT: &str = "the tutorial's notes as experiments: passive sockets, recv returning 0, close against shutdown";
/// The reply of `server` mode: "ok, got it".
const REPLY: &str = "ok, 收到了";

fn main() -> ExitCode {
    let result = match args::parse() {
        What::Server(side) => server(&side.host, side.port, side.encoding),
        What::Client(side) => client(&side.host, side.port, side.encoding),
        What::Experiments(which) => which.into_iter().try_for_each(notes::run),
    };
    netcore::report(NAME, result)
}
