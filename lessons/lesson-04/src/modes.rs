//! lesson-04's `server` and `client` modes: one side of a conversation
//! played by hand, in two terminals, to watch notes 3 and 4 happen (the
//! experiments in `main.rs` make both sides themselves). The same calls as
//! lessons 02 and 05, with what these notes are about: `recv` returning 0.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use netcore::cli::{resolve, typed_lines};
use netcore::error::{bind_failed, connect_failed, describe};
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::Encoding;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

use crate::notes::local;
use crate::{NAME, REPLY};

// ANCHOR: server
/// `server` mode: accept clients one after another, print each message,
/// reply, and report the client offline when recv returns 0. A message
/// `close` makes the server close the connection itself (note 4).
pub(crate) fn server(host: &str, port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve(host, port)?;
    let listener = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    #[cfg(not(windows))]
    listener
        .set_reuse_address(true)
        .context(|| "cannot set SO_REUSEADDR")?;
    listener
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    listener.listen(128).context(|| "cannot listen")?;
    println!("listening on {}", local(&listener));
    let _ = std::io::stdout().flush();
    let reply = encoding.encode(REPLY)?;
    loop {
        let (conn, ip_port) = listener.accept().context(|| "accept failed")?;
        let ip_port = PyAddr(ip_port.as_socket().unwrap_or(addr));
        println!("client connected: {ip_port}");
        let mut decoder = encoding.decoder();
        let mut buffer = [0u8; 1024];
        loop {
            let n = match (&conn).read(&mut buffer) {
                Ok(n) => n,
                Err(err) => {
                    println!("client {ip_port} dropped: {}", describe(&err));
                    break;
                }
            };
            if n == 0 {
                if decoder.finish().has_invalid() {
                    eprintln!("{NAME}: warning: {ip_port} closed in the middle of a character");
                }
                println!("recv returned 0: client {ip_port} is offline");
                break;
            }
            let message = decoder.feed(&buffer[..n]);
            let text = &message.text;
            if text.is_empty() {
                // Only the first byte(s) of a character came: the decoder
                // keeps them until the rest arrives.
                println!("received: (half a character, waiting for the rest) {ip_port}");
            } else {
                println!("received: {} {ip_port}", PyText(text));
            }
            if message.has_invalid() {
                eprintln!(
                    "{NAME}: warning: {ip_port} sent {} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {}",
                    message.invalid,
                    PyBytes(&buffer[..n])
                );
            }
            if text.trim() == "close" {
                println!("closing the connection to {ip_port}: its recv will return 0");
                break;
            }
            if let Err(err) = conn.send(&reply) {
                println!("cannot reply to {ip_port}: {}", describe(&err));
                break;
            }
        }
        drop(conn);
    }
}
// ANCHOR_END: server

// ANCHOR: client
/// `client` mode: send each line typed, print each reply, and exit when the
/// server closes (note 4). Waiting for a line and waiting for a reply are
/// two blocking calls, and one thread can wait in only one of them: a
/// client that waited for the next line would not notice the server
/// closing. So a thread of its own reads the lines and sends them, and this
/// thread does nothing but `recv`.
pub(crate) fn client(host: &str, port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve(if host.is_empty() { "127.0.0.1" } else { host }, port)?;
    let client = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    client
        .connect(&addr.into())
        .map_err(|err| connect_failed(addr, &err, "cargo run -p lesson-04 -- server"))?;
    println!(
        "connected to {addr}; type a message and press Enter, `close` asks the server to close, Ctrl+D ends your input"
    );
    // One socket, used by two threads: one only sends, the other only
    // receives. The two directions of a TCP connection are independent.
    let client = Arc::new(client);
    let sender = Arc::clone(&client);
    // Not joined: that thread may be waiting for a line that never comes.
    // Returning from `main` ends the process, and the thread with it.
    std::thread::spawn(move || {
        if let Err(err) = send_typed_lines(&sender, addr, encoding) {
            eprintln!("{NAME}: error: {err}");
        }
    });
    let mut decoder = encoding.decoder();
    let mut buffer = [0u8; 1024];
    loop {
        // Blocks until a reply comes, the server closes, or the connection
        // is reset (an error, reported like any other).
        let n = (&*client)
            .read(&mut buffer)
            .context(|| format!("cannot receive from {addr}"))?;
        if n == 0 {
            if decoder.finish().has_invalid() {
                eprintln!("{NAME}: warning: the reply ended in the middle of a character");
            }
            println!("recv returned 0: the server closed the connection");
            return Ok(());
        }
        let reply = decoder.feed(&buffer[..n]);
        println!("received: {}", PyText(&reply.text));
        if reply.has_invalid() {
            eprintln!(
                "{NAME}: warning: the reply held {} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {}",
                reply.invalid,
                PyBytes(&buffer[..n])
            );
        }
    }
}

/// The client's typing thread: send each line read from stdin. At end of
/// input (Ctrl+D) it closes only the sending half, `shutdown(Write)`: the
/// server's recv returns 0 (note 3), and the client can still receive
/// whatever the server says before it closes in turn.
fn send_typed_lines(client: &Socket, addr: SocketAddr, encoding: Encoding) -> Result<(), Error> {
    // Empty lines (0 bytes would send nothing) and lines that are not UTF-8
    // are skipped with a note.
    for line in typed_lines(NAME, std::io::stdin().lock()) {
        let line = line.context(|| "cannot read the terminal")?;
        let data = match encoding.encode(&line) {
            Ok(data) => data,
            Err(err) => {
                eprintln!("{NAME}: not sent: {err}");
                continue;
            }
        };
        let mut sent = 0;
        while sent < data.len() {
            sent += client
                .send(&data[sent..])
                .context(|| format!("cannot send to {addr}"))?;
        }
    }
    // Printed first: once the server answers the shutdown by closing, the
    // other thread ends the program.
    println!("end of input: shutdown(Write); the server's recv will return 0");
    client
        .shutdown(Shutdown::Write)
        .context(|| "shutdown(Write) failed")
}
// ANCHOR_END: client
