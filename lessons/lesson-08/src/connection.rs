//! One client of the event loop: what the server keeps for it between two
//! events, and its turn (read what it sent, send what it is owed, and say
//! whether to wait for the kernel, come back at once, or close).
//!
//! With a thread per client (lesson 05) this state lived on the client's
//! thread, between blocking calls: the buffer, the decoder, where the
//! conversation was. One thread serving everyone keeps it here instead, in
//! a few hundred bytes per client.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use netcore::error::describe;
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::{Encoding, StreamDecoder};

use crate::NAME;
use crate::args::{Args, Mode};

/// Backpressure: while this much waits to be sent to a client, the server
/// reads nothing more from it. Its messages then wait in the kernel, and
/// once the kernel's buffers are full, TCP tells the client to stop.
pub(crate) const OUTPUT_LIMIT: usize = 256 * 1024;
/// A connection's fair share: at most this many `recv`s in one turn, then
/// the others' turn (a client that sends without pause must not keep the
/// loop to itself).
const READS_PER_TURN: usize = 16;
/// Reply mode: each `recv` of up to 1024 bytes is one message, as in the
/// tutorial.
const MESSAGE_SIZE: usize = 1024;
/// Echo mode reads in larger pieces: bytes, not messages.
const ECHO_READ_SIZE: usize = 64 * 1024;
/// An output buffer that grew past this is given back once it is sent, so
/// that a client idle after a large reply costs little again.
const KEEP_CAPACITY: usize = 4 * 1024;

/// What every connection uses, made once.
pub(crate) struct Shared {
    /// `reply` or `echo`.
    pub(crate) mode: Mode,
    /// `--quiet`: no line per client or message.
    pub(crate) quiet: bool,
    encoding: Encoding,
    /// `ok, 收到了` in the chosen encoding.
    reply: Vec<u8>,
    /// The loop's one receive buffer: what is read is handled at once, so
    /// one buffer serves every connection in turn.
    buffer: Vec<u8>,
}

impl Shared {
    pub(crate) fn new(args: &Args, reply: Vec<u8>) -> Self {
        Shared {
            mode: args.mode,
            quiet: args.quiet,
            encoding: args.server.encoding,
            reply,
            buffer: vec![0; ECHO_READ_SIZE],
        }
    }
}

// ANCHOR: state
/// What the loop does with a connection after its turn.
pub(crate) enum Step {
    /// Nothing to do until the kernel reports it ready again.
    Wait,
    /// It has work left (its share was used up, or it may read again):
    /// come back without waiting, since no event will come for it.
    Again,
    /// Done: it has left the poll; drop it to close the socket.
    Close,
}

/// How a turn's reading ended.
#[derive(PartialEq, Eq)]
enum Reading {
    /// `recv` said WouldBlock: nothing more to read until the next event.
    Drained,
    /// `recv` returned 0: the client will send nothing more.
    Ended,
    /// The output waiting for this client is over [`OUTPUT_LIMIT`].
    Full,
    /// [`READS_PER_TURN`] reads done, and there may be more.
    ShareUsed,
    /// The connection failed (reset by the client).
    Failed,
}

/// One client.
pub(crate) struct Connection {
    stream: TcpStream,
    ip_port: SocketAddr,
    /// Its name in the poll's events.
    token: Token,
    /// One decoder per connection: it keeps half a character from one
    /// `recv` until the rest arrives.
    decoder: StreamDecoder,
    /// What the client is owed and has not been sent yet.
    output: VecDeque<u8>,
    /// Whether WRITABLE is in its registered interest.
    writable: bool,
    /// `recv` returned 0.
    ended: bool,
}
// ANCHOR_END: state

impl Connection {
    pub(crate) fn new(
        stream: TcpStream,
        ip_port: SocketAddr,
        token: Token,
        shared: &Shared,
    ) -> Self {
        Connection {
            stream,
            ip_port,
            token,
            decoder: shared.encoding.decoder(),
            output: VecDeque::new(),
            writable: false,
            ended: false,
        }
    }

    // ANCHOR: turn
    /// The client's turn: read, send, then ask the kernel for what the
    /// connection waits for.
    pub(crate) fn serve(&mut self, registry: &Registry, shared: &mut Shared) -> Step {
        let read = self.read(shared);
        if read == Reading::Failed || self.write(shared).is_err() {
            return self.close(registry);
        }
        if self.ended && self.output.is_empty() {
            return self.close(registry); // all said, all sent
        }
        // WRITABLE only while output waits. The kernel then wakes us when
        // the client has read enough to make room; with nothing to send,
        // that news would only cost wakeups. And reregister only when the
        // interest changes: epoll_ctl(MOD) makes epoll report a ready
        // socket again at once, so a MOD at every turn would wake the loop
        // at every turn.
        let pending = !self.output.is_empty();
        if pending != self.writable {
            let interest = if pending {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            // epoll_ctl(MOD)
            if let Err(err) = registry.reregister(&mut self.stream, self.token, interest) {
                let warning = tr("warning: cannot register", "警告: 无法注册");
                eprintln!(
                    "{NAME}: {warning} {}: {}",
                    PyAddr(self.ip_port),
                    describe(&err)
                );
                return self.close(registry);
            }
            self.writable = pending;
        }
        match read {
            Reading::ShareUsed => Step::Again,
            // It stopped reading for backpressure, and sending made room:
            // read again. No event will say so: the bytes waiting in the
            // kernel were announced already (edge-triggered).
            Reading::Full if self.output.len() < OUTPUT_LIMIT => Step::Again,
            _ => Step::Wait,
        }
    }
    // ANCHOR_END: turn

    // ANCHOR: read
    /// recv until WouldBlock (mio is edge-triggered: the kernel reports new
    /// bytes once, and bytes left unread get no second event), until the
    /// client's output is over the limit (backpressure), or until its share
    /// of this turn is used.
    fn read(&mut self, shared: &mut Shared) -> Reading {
        if self.ended {
            return Reading::Ended;
        }
        let size = match shared.mode {
            Mode::Reply => MESSAGE_SIZE,
            Mode::Echo => ECHO_READ_SIZE,
        };
        for _ in 0..READS_PER_TURN {
            if self.output.len() >= OUTPUT_LIMIT {
                return Reading::Full;
            }
            let n = match self.stream.read(&mut shared.buffer[..size]) {
                Ok(0) => {
                    // recv returned 0: the client closed its side. 客户端下线.
                    self.ended = true;
                    if !shared.quiet {
                        let offline = tr("client offline:", "客户端下线");
                        println!("{offline} {}", PyAddr(self.ip_port));
                    }
                    return Reading::Ended;
                }
                Ok(n) => n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Reading::Drained,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    if !shared.quiet {
                        let dropped = tr("client dropped:", "客户端断开:");
                        println!("{dropped} {} ({})", PyAddr(self.ip_port), describe(&err));
                    }
                    return Reading::Failed;
                }
            };
            let data = &shared.buffer[..n];
            match shared.mode {
                Mode::Reply => {
                    if !shared.quiet {
                        self.print_message(data);
                    }
                    self.output.extend(&shared.reply);
                }
                Mode::Echo => self.output.extend(data),
            }
        }
        Reading::ShareUsed
    }
    // ANCHOR_END: read

    // ANCHOR: write
    /// send what the client is owed, as much as its socket takes now. A
    /// partial send is normal here: the rest stays in `output` until the
    /// kernel says WRITABLE.
    fn write(&mut self, shared: &Shared) -> Result<(), ()> {
        while !self.output.is_empty() {
            let (front, _) = self.output.as_slices();
            match self.stream.write(front) {
                Ok(0) => break,
                Ok(n) => drop(self.output.drain(..n)),
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    if !shared.quiet {
                        let cannot = tr("cannot reply to", "无法回复");
                        println!("{cannot} {}: {}", PyAddr(self.ip_port), describe(&err));
                    }
                    return Err(());
                }
            }
        }
        if self.output.is_empty() && self.output.capacity() > KEEP_CAPACITY {
            self.output = VecDeque::new();
        }
        Ok(())
    }
    // ANCHOR_END: write

    /// Leaves the poll (epoll_ctl DEL), as mio asks before a socket is
    /// dropped: some systems keep resources for it otherwise.
    fn close(&mut self, registry: &Registry) -> Step {
        let _ = registry.deregister(&mut self.stream);
        Step::Close
    }

    /// Prints a message as lesson 05 does.
    fn print_message(&mut self, bytes: &[u8]) {
        let message = self.decoder.feed(bytes);
        if message.text.is_empty() {
            // Only the first byte of a two-byte character has come: the
            // decoder keeps it until the rest arrives, in a later recv.
            let half = tr(
                "received: (half a character, waiting for the rest)",
                "接收的数据： （半个字符，等待其余部分）",
            );
            println!("{half} {}", PyAddr(self.ip_port));
        } else {
            // Escaped (PyText): a client's text cannot forge a line of
            // this output or steer the terminal.
            let received = tr("received:", "接收的数据：");
            println!(
                "{received} {} {}",
                PyText(&message.text),
                PyAddr(self.ip_port)
            );
        }
        if message.has_invalid() {
            let (client, bytes) = (PyAddr(self.ip_port), PyBytes(bytes));
            let encoding = self.decoder.encoding();
            eprintln!(
                "{NAME}: {}",
                netcore::tr!(
                    "warning: {client} sent bytes that are not valid {encoding}, shown as �; the bytes: {bytes}",
                    "警告: {client} 发来的字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
                )
            );
        }
    }
}
