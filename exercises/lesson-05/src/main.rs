//! Exercise 05: write the tutorial's threaded server (lesson 05).
//!
//! Fill in the TODO steps of `run` and `handle_client`;
//! `lessons/lesson-05/README.md` explains every call. Check your work with
//! `cargo run -p grader -- check lesson-05` (add `--watch` to re-check each
//! time you save).
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ServerOptions;

const NAME: &str = "exercise-05";
const ABOUT: &str = "exercise 05: the tutorial's threaded server";
/// The tutorial's reply to every message: "ok, got it".
const REPLY: &str = "ok, 收到了";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    let addr = options.addr()?;
    let reply = options.encoding.encode(REPLY)?;

    // TODO 1 (listen): socket, SO_REUSEADDR, bind(addr), listen(128), as in exercise 03; print
    //     `listening on IP:PORT` and flush stdout.
    //
    // TODO 2 (accept_loop, spawn): accept in a loop. For each client, print `client connected: ` and its address,
    //     then start a thread for it (std::thread::spawn) that runs handle_client. The main
    //     thread goes straight back to accept: a silent client must not block the next one.
    //
    // Then delete these two lines.
    let _ = (addr, reply);
    Err(Error::msg(
        "not written yet: follow the TODO steps in exercises/lesson-05/src/main.rs",
    ))
}

// TODO 3 (handle): write the thread's work, for example
//     fn handle_client(conn: socket2::Socket, ip_port: std::net::SocketAddr,
//                      encoding: netcore::text::Encoding, reply: Vec<u8>)
//   - make ONE decoder for the connection: `let mut decoder = encoding.decoder();` It keeps
//     half a character from one recv for the next (the grader splits a character in two);
//   - loop: recv up to 1024 bytes;
//       0 bytes: print `client offline: ...`, leave the loop;
//       an error (a client that resets): print it, leave the loop;
//       otherwise: print `received: ` with decoder.feed(..).text and the address, and send the
//       whole reply, `ok, 收到了` (the grader checks those exact bytes);
//   - close the client's socket.
