//! Lesson 08: an event loop on mio (beyond the tutorial).
//!
//! The tutorial's last server gives every client a thread of its own
//! (lesson 05). This one serves every client from ONE thread. Its sockets
//! are non-blocking, so no call ever waits for one client, and the thread
//! sleeps in one place only, `poll`, until the kernel (epoll, on Linux)
//! says which sockets are ready. Each connection keeps what it owes its
//! client in a buffer of its own and stops reading from a client that does
//! not read its answers ([`connection`]). Two modes: `reply` (lesson 05's
//! conversation, the default) and `echo` (every byte sent back).
//!
//! Start it with `cargo run -p lesson-08`, then run clients in other
//! terminals (`cargo run -p lesson-02 -- --interactive`). The experiment
//! with edge- and level-triggered readiness is
//! `cargo run -p lesson-08 --bin readiness`. The walkthrough is
//! `lessons/lesson-08/README.md`.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::process::ExitCode;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use netcore::error::{bind_failed, describe};
use netcore::lang::tr;
use netcore::pyrepr::PyAddr;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

mod args;
mod connection;

use args::Args;
use connection::{Connection, Shared, Step};

const NAME: &str = "lesson-08";
const ABOUT: &str = "an event loop on mio: one thread serves every client (beyond the tutorial)";
/// The tutorial's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// The listener's name in the events; connections are 1, 2, 3 ...
const LISTENER: Token = Token(0);

fn main() -> ExitCode {
    let args = args::parse();
    netcore::report(NAME, run(&args))
}

fn run(args: &Args) -> Result<(), Error> {
    let addr = args.server.addr()?;
    // One descriptor per client: many systems start a program with room
    // for 1024 only, and one thread can hold far more clients than that.
    if let Err(err) = netcore::sys::raise_open_file_limit() {
        let warning = tr("warning: open-file limit:", "警告: 打开文件数上限:");
        eprintln!("{NAME}: {warning} {}", describe(&err));
    }
    // ANCHOR: listen
    // socket, SO_REUSEADDR, bind, listen: lesson 05's calls, with room for
    // 1024 waiting clients, not 128: a burst of clients arrives faster than
    // any loop accepts. Then the call this lesson is about: non-blocking.
    // accept() will never wait again; with nobody waiting it fails at once
    // with WouldBlock.
    let server = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    #[cfg(not(windows))]
    server
        .set_reuse_address(true)
        .context(|| tr("cannot set SO_REUSEADDR", "无法设置 SO_REUSEADDR"))?;
    server
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    server
        .listen(1024)
        .context(|| netcore::tr!("cannot listen on {addr}", "无法在 {addr} 上监听"))?;
    server
        .set_nonblocking(true)
        .context(|| tr("cannot set O_NONBLOCK", "无法设置 O_NONBLOCK"))?;
    let local = server
        .local_addr()
        .context(|| tr("cannot read the address", "无法读取地址"))?;
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    // ANCHOR_END: listen

    // ANCHOR: poll
    // Poll::new() is epoll_create1: a kernel object that watches many
    // sockets at once. register() is epoll_ctl(ADD): wake this thread when
    // the listener has a client to accept (READABLE), and name the event
    // LISTENER.
    let mut poll = Poll::new().context(|| tr("cannot create a poll", "无法创建 poll"))?;
    let mut events = Events::with_capacity(1024);
    let mut listener = TcpListener::from_std(server.into());
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .context(|| tr("cannot register the listener", "无法注册监听套接字"))?;
    // ANCHOR_END: poll

    // ANCHOR: event_loop
    // What every turn uses (the mode, the reply, one receive buffer), the
    // clients by their token (a token names a socket in the poll's
    // events), the next token to give, and the connections with work left
    // over from their turn (connection.rs).
    let mut shared = Shared::new(args, args.server.encoding.encode(REPLY)?);
    let mut connections: HashMap<Token, Connection> = HashMap::new();
    let mut next_token = LISTENER.0 + 1;
    let mut again: Vec<Token> = Vec::new();
    loop {
        // epoll_wait: the one place this thread sleeps, for as long as it
        // takes (None) until a socket is ready. While a connection has work
        // left over, only look (a timeout of 0) and come back to it: no
        // event would wake us for it.
        let timeout = (!again.is_empty()).then_some(Duration::ZERO);
        if let Err(err) = poll.poll(&mut events, timeout) {
            if err.kind() == ErrorKind::Interrupted {
                continue; // a signal (Ctrl+Z, then fg) cut the wait short
            }
            return Err(Error::io(tr("poll failed", "poll 失败"), &err));
        }
        let mut ready = std::mem::take(&mut again);
        for event in events.iter() {
            match event.token() {
                LISTENER => {
                    accept_all(&listener, &poll, &mut connections, &mut next_token, &shared)
                }
                token => ready.push(token),
            }
        }
        // A connection both ready and left over is served once.
        ready.sort_unstable();
        ready.dedup();
        for token in ready {
            let Some(connection) = connections.get_mut(&token) else {
                continue; // closed since
            };
            match connection.serve(poll.registry(), &mut shared) {
                Step::Wait => {}
                Step::Again => again.push(token),
                // It has left the poll (epoll_ctl DEL); dropping it closes
                // its socket.
                Step::Close => drop(connections.remove(&token)),
            }
        }
    }
    // ANCHOR_END: event_loop
}

// ANCHOR: accept
/// The listener is ready: accept every client waiting, until WouldBlock.
/// (Edge-triggered: no second event comes for clients already waiting.)
fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    connections: &mut HashMap<Token, Connection>,
    next_token: &mut usize,
    shared: &Shared,
) {
    loop {
        let (mut stream, ip_port) = match listener.accept() {
            Ok(pair) => pair,
            Err(err) if err.kind() == ErrorKind::WouldBlock => return,
            // A client that gave up while it waited: take the next.
            Err(err) if err.kind() == ErrorKind::ConnectionAborted => continue,
            Err(err) => {
                // No descriptor left (EMFILE), say: the clients wait in the
                // queue until the next one arrives and wakes us again.
                let warning = tr("warning: accept failed:", "警告: accept 失败:");
                eprintln!("{NAME}: {warning} {}", describe(&err));
                return;
            }
        };
        // A name for its events, and interest in READABLE only: this
        // client owes us nothing to write yet.
        let token = Token(*next_token);
        *next_token += 1;
        if let Err(err) = poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            let warning = tr("warning: cannot register", "警告: 无法注册");
            eprintln!("{NAME}: {warning} {}: {}", PyAddr(ip_port), describe(&err));
            continue;
        }
        if !shared.quiet {
            let connected = tr("client connected:", "客户端连接成功:");
            println!("{connected} {}", PyAddr(ip_port));
        }
        connections.insert(token, Connection::new(stream, ip_port, token, shared));
    }
}
// ANCHOR_END: accept
