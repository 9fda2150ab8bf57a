//! Exercise 02: write the tutorial's TCP client (lesson 02).
//!
//! Fill in the TODO steps of `run`, in order; `lessons/lesson-02/README.md`
//! explains every call. Check your work with
//! `cargo run -p grader -- check lesson-02` (add `--watch` to re-check each
//! time you save). The flags, the `b'...'` printer and the GBK codec are
//! written for you.

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ClientOptions;
use netcore::pyrepr::PyBytes;

const NAME: &str = "exercise-02";
const ABOUT: &str = "exercise 02: the tutorial's TCP client";
/// The tutorial's message.
const MESSAGE: &str = "你好服务端，我是客户端小黑!";

fn main() -> ExitCode {
    let options = ClientOptions::parse(NAME, ABOUT, MESSAGE);
    netcore::report(NAME, run(&options))
}

fn run(options: &ClientOptions) -> Result<(), Error> {
    // The server's address, from --host and --port (the grader passes both).
    let server = options.addr()?;
    // The message as GBK bytes, ready to send.
    let send_data = options.encoding.encode(&options.message)?;
    println!("sending ({}): {}", options.encoding, PyBytes(&send_data));

    // TODO 1 (socket): create a TCP socket of the server address's family:
    //     let client = socket2::Socket::new(socket2::Domain::for_address(server),
    //                                       socket2::Type::STREAM, Some(socket2::Protocol::TCP))
    //         .context(|| "cannot create a socket")?;   // needs `use netcore::Context;`
    //
    // TODO 2 (connect): connect it to `server`. When nothing listens there, report it with
    //     netcore::error::connect_failed(server, &err, "cargo run -p lesson-03").
    //
    // TODO 3 (send): send all of `send_data`. send() returns how many bytes it took, which may
    //     be fewer than offered: loop until every byte is sent.
    //
    // TODO 4 (recv): receive up to 1024 bytes (`std::io::Read::read` on `&client` is recv).
    //     0 bytes means the server closed the connection without replying: return an error.
    //     Print the bytes with PyBytes, as `received: b'...'`.
    //
    // TODO 5 (decode): print `decoded: ` and the reply decoded with options.encoding.decode(..).
    //     If `.has_invalid()`, warn on stderr: the bytes were not valid GBK.
    //
    // TODO 6 (close): close the socket (drop it).
    //
    // Then delete these two lines.
    let _ = server;
    Err(Error::msg(
        "not written yet: follow the TODO steps in exercises/lesson-02/src/main.rs",
    ))
}
