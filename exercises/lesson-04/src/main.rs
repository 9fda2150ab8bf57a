//! Exercise 04: a server and a client that notice the other side closing
//! (lesson 04).
//!
//! `exercise-04 server --port P` and `exercise-04 client --port P`. Fill in
//! the TODO steps of `server` and `client`; `lessons/lesson-04/README.md`
//! explains them. Check your work with
//! `cargo run -p grader -- check lesson-04` (add `--watch` to re-check each
//! time you save).
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
use netcore::text::Encoding;

const NAME: &str = "exercise-04";
const ABOUT: &str = "exercise 04: a server and a client that notice the other side closing";

fn main() -> ExitCode {
    let help = Help::new(NAME, ABOUT)
        .positional("MODE", "server or client")
        .option(
            "--port PORT",
            "server: port to listen on; client: server's port",
        )
        .default(DEFAULT_PORT)
        .option("--encoding gbk|utf-8", "how text is encoded on the wire")
        .default(Encoding::Gbk);
    let (mode, port, encoding) = cli::parse_or_exit(NAME, |parser| {
        let (mut mode, mut port, mut encoding) = (None, DEFAULT_PORT, Encoding::Gbk);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if mode.is_none() => mode = Some(value.string()?),
                Long("port") => port = cli::port("--port", parser.value()?)?,
                Long("encoding") => encoding = cli::encoding("--encoding", parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok((mode, port, encoding))
    });
    let result = match mode.as_deref() {
        Some("server") => server(port, encoding),
        Some("client") => client(port, encoding),
        _ => cli::exit_usage(NAME, "say which side to play: server or client"),
    };
    netcore::report(NAME, result)
}

/// Accepts clients one after another and talks with each until it leaves.
fn server(port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve("0.0.0.0", port)?;
    // TODO 1 (server): socket, SO_REUSEADDR, bind(addr), listen(128); print `listening on IP:PORT`.
    // TODO 2 (server): in a loop, accept a client; then, in an inner loop:
    //     recv up to 1024 bytes;
    //     0 bytes: the client has closed. Print that it is offline and leave the inner loop.
    //         (Every later recv would return 0 at once: a loop that goes on spins forever,
    //          and the grader measures the CPU time it burns.)
    //     otherwise: print the message decoded with `encoding`, and send a reply.
    //     A client that resets its connection makes recv fail: print it, leave the inner loop,
    //     and accept the next client: one rude client must not stop the server.
    // Then delete these two lines.
    let _ = (addr, encoding);
    Err(Error::msg(
        "server mode is not written yet: follow the TODO steps in exercises/lesson-04/src/main.rs",
    ))
}

/// Connects, sends one line typed on stdin, and prints replies until the
/// server closes the connection.
fn client(port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve("127.0.0.1", port)?;
    // TODO 3 (client): socket and connect to `addr`.
    // TODO 4 (client): read one line from stdin (std::io::stdin().read_line), send it encoded.
    //     Read only that one line: the grader leaves stdin open, so reading it to the end
    //     (read_to_string, lines()) would wait forever.
    // TODO 5 (client): recv in a loop, printing each reply decoded; when recv returns 0 the server has
    //     closed: print that, and return Ok(()) so that the program exits.
    //     Do not stop at the first reply: the grader replies, waits a while with the
    //     connection open, and only then closes; your client must still be there, in recv.
    // Then delete these two lines.
    let _ = (addr, encoding);
    Err(Error::msg(
        "client mode is not written yet: follow the TODO steps in exercises/lesson-04/src/main.rs",
    ))
}
