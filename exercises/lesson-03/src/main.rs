//! Exercise 03: write the tutorial's single TCP server (lesson 03).
//!
//! Fill in the TODO steps of `run`, in order; `lessons/lesson-03/README.md`
//! explains every call. Check your work with
//! `cargo run -p grader -- check lesson-03` (add `--watch` to re-check each
//! time you save). The flags, the printers and the GBK codec are written
//! for you.
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ServerOptions;

const NAME: &str = "exercise-03";
const ABOUT: &str = "exercise 03: the tutorial's single TCP server";
/// The tutorial's reply.
const REPLY: &str = "ok, 问题正在处理中...";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    // Where to listen, from --host and --port (the grader passes --port).
    let addr = options.addr()?;
    // The reply as bytes, ready to send.
    let reply = options.encoding.encode(REPLY)?;

    // TODO 1 (socket): create a TCP socket for `addr`'s family with socket2::Socket::new.
    //
    // TODO 2 (reuseaddr): SO_REUSEADDR: set_reuse_address(true), so that the server can be started again
    //     at once on the same port. The grader checks this.
    //
    // TODO 3 (bind): bind it to `addr`; report a failure with netcore::error::bind_failed.
    //
    // TODO 4 (listen): listen(128), then print `listening on IP:PORT` with the address the
    //     socket really got (socket.local_addr()), and flush stdout.
    //
    // TODO 5 (accept): accept one client; print its address (netcore::pyrepr::PyAddr prints it
    //     the way Python does).
    //
    // TODO 6 (recv, decode): receive up to 1024 bytes from the *accepted* socket and print them decoded
    //     (options.encoding.decode). Invalid bytes must not stop the server: warn and go on.
    //
    // TODO 7 (send): send all of `reply`, in a loop (send may take only part).
    //
    // TODO 8 (close): close the client's socket, then the listening socket, and return Ok(()).
    //
    // Then delete these two lines.
    let _ = (addr, reply);
    Err(Error::msg(
        "not written yet: follow the TODO steps in exercises/lesson-03/src/main.rs",
    ))
}
