//! Lesson 07: a thread pool. This goes beyond the tutorial, which ends with
//! a thread per client (lesson 05).
//!
//! The same conversation as lesson 05 (a reply `ok, 收到了` to every
//! `recv`), served by a fixed number of worker threads: the accept loop
//! puts each client in a bounded queue, and `--workers N` workers take
//! them from it. However many clients connect, the process keeps N + 1
//! threads. The pool's failure is the lesson: N clients that connect and
//! say nothing hold every worker, and client N+1 waits. `--idle-timeout
//! SECS` (5 by default) closes a client silent that long, which frees its
//! worker for the next; `--idle-timeout 0` turns the deadline off, to show
//! the failure. When `--queue Q` clients already wait, the next one is
//! told the server is busy and closed: the queue never grows without bound.
//!
//! Start it with `cargo run -p lesson-07`, then run clients in other
//! terminals (`cargo run -p lesson-02 -- --interactive`). The walkthrough is
//! `lessons/lesson-07/README.md`; the flags are in `args.rs`.

mod args;
mod message;
// Lesson 05's hardened server turns a client away the same way: one file
// for both (step 5 of the walkthrough).
#[path = "../../lesson-05/src/bin/hardened/refusal.rs"]
mod refusal;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use netcore::error::{bind_failed, describe, is_timeout};
use netcore::lang::tr;
use netcore::pyrepr::PyAddr;
use netcore::text::Encoding;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

use args::{Args, say};

const NAME: &str = "lesson-07";
const ABOUT: &str =
    "a thread pool: N workers serve the clients of a bounded queue; a deadline frees a worker";
/// The tutorial's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// What a client hears when the queue is full: "the server is busy, please
/// try again later" (lesson 05's hardened server says the same).
const BUSY: &str = "服务器忙，请稍后再试";

/// A client that was accepted and waits for a worker.
type Client = (Socket, SocketAddr);

/// What every worker shares.
struct Service {
    encoding: Encoding,
    reply: Vec<u8>,
    idle_timeout: Option<Duration>,
    /// The clients in the pool: waiting in the queue or being served.
    clients: AtomicUsize,
}

fn main() -> ExitCode {
    let args = args::parse();
    netcore::report(NAME, run(&args))
}

fn run(args: &Args) -> Result<(), Error> {
    let addr = args.server.addr()?;
    // ANCHOR: listen
    // socket, SO_REUSEADDR, bind, listen(128): the same four calls as
    // lessons 03 and 05.
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
        .listen(128)
        .context(|| netcore::tr!("cannot listen on {addr}", "无法在 {addr} 上监听"))?;
    let local = server
        .local_addr()
        .context(|| tr("cannot read the address", "无法读取地址"))?;
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    // ANCHOR_END: listen

    // ANCHOR: queue
    // The bounded queue between the accept loop and the workers: at most
    // `--queue` accepted clients wait in it. Its receiving end is shared by
    // every worker, behind a lock (std's Receiver is not for sharing).
    let (queue, waiting) = mpsc::sync_channel::<Client>(args.queue);
    let waiting = Arc::new(Mutex::new(waiting));
    // ANCHOR_END: queue

    // ANCHOR: workers
    // The workers, started once and never more: however many clients
    // connect, the process has these threads and the main one.
    let service = Arc::new(Service {
        encoding: args.server.encoding,
        reply: args.server.encoding.encode(REPLY)?,
        idle_timeout: args.idle_timeout,
        clients: AtomicUsize::new(0),
    });
    for number in 1..=args.workers {
        let (waiting, service) = (Arc::clone(&waiting), Arc::clone(&service));
        thread::Builder::new()
            .name(format!("worker {number}"))
            .spawn(move || work(&waiting, &service))
            .context(|| tr("cannot start a worker thread", "无法启动工作线程"))?;
    }
    println!("{}", args.pool_line());
    // ANCHOR_END: workers

    let busy_reply = args.server.encoding.encode(BUSY)?;
    // ANCHOR: accept_loop
    // while True: accept() ... As in lesson 05, the main thread only
    // accepts; it hands each client on instead of starting a thread.
    loop {
        let (conn, ip_port) = match server.accept() {
            Ok((conn, peer)) => (conn, peer.as_socket().unwrap_or(addr)),
            Err(err) => {
                // A client that gave up before it was accepted, or no file
                // descriptor left (EMFILE): say so, pause so that a full
                // descriptor table cannot spin this loop, take the next.
                let warning = tr("warning: accept failed:", "警告: accept 失败:");
                eprintln!("{NAME}: {warning} {}", describe(&err));
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        // print('客户端连接成功:', ip_port), in the tutorial's words with
        // --lang zh.
        say!(
            "client connected: {}",
            "客户端连接成功: {}",
            PyAddr(ip_port)
        );
        // try_send never waits: with the queue full it gives the client
        // back at once, and the client hears "busy". (send() would stop
        // this loop until a worker is free, and the clients behind would
        // pile up unseen in the kernel's backlog.) `ahead`: the clients
        // already in the pool; with one per worker, this one waits.
        let ahead = service.clients.fetch_add(1, Ordering::SeqCst);
        match queue.try_send((conn, ip_port)) {
            Ok(()) if ahead >= args.workers => say!(
                "waiting for a worker: {} (all busy: --workers {})",
                "等待工作线程: {}（全都在忙: --workers {}）",
                PyAddr(ip_port),
                args.workers
            ),
            Ok(()) => {}
            Err(TrySendError::Full((conn, _)) | TrySendError::Disconnected((conn, _))) => {
                service.clients.fetch_sub(1, Ordering::SeqCst);
                refusal::refuse(conn, &busy_reply);
                say!(
                    "server busy: refused {} (the queue is full: --queue {})",
                    "服务端繁忙: 拒绝了 {}（有界队列已满: --queue {}）",
                    PyAddr(ip_port),
                    args.queue
                );
            }
        }
    }
    // ANCHOR_END: accept_loop
}

// ANCHOR: worker
/// One worker: takes the next client from the queue, serves it until it
/// leaves, and again, for as long as the server runs.
fn work(waiting: &Mutex<Receiver<Client>>, service: &Service) {
    loop {
        // recv() waits for the next client, holding the lock so that one
        // idle worker waits at a time. The lock is given back at the end of
        // this statement, before the client is served.
        let next = waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok((conn, ip_port)) = next else {
            return; // The accept loop is gone: no client will come.
        };
        // The deadline, --idle-timeout: recv waits at most that long for
        // the client's next bytes, and send for room to put a reply. A
        // client silent that long is closed, and this worker comes back
        // for the next. None (--idle-timeout 0): wait for ever. (Both fail
        // only for a zero duration, which args.rs never gives.)
        let _ = conn.set_read_timeout(service.idle_timeout);
        let _ = conn.set_write_timeout(service.idle_timeout);
        handle_request(conn, ip_port, service);
        service.clients.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: worker

// ANCHOR: handle
/// Serves one client until it goes offline or stays silent past its
/// deadline: lesson 05's `handle_request`, run on a worker.
fn handle_request(conn: Socket, ip_port: SocketAddr, service: &Service) {
    // One decoder per connection: it keeps half a character from one recv
    // until the rest arrives in the next.
    let mut decoder = service.encoding.decoder();
    let mut buffer = [0u8; 1024];
    loop {
        // recv(1024): whatever has arrived, at most 1024 bytes.
        let n = match (&conn).read(&mut buffer) {
            Ok(n) => n,
            Err(err) if is_timeout(&err) => {
                say!(
                    "client idle, closing: {}",
                    "客户端空闲，关闭: {}",
                    PyAddr(ip_port)
                );
                break;
            }
            Err(err) => {
                // Reset by the peer: this client is gone, the worker goes on.
                say!(
                    "client dropped: {} ({})",
                    "客户端断开: {}（{}）",
                    PyAddr(ip_port),
                    describe(&err)
                );
                break;
            }
        };
        if n == 0 {
            // recv returned 0: the client closed its side. 客户端下线.
            say!("client offline: {}", "客户端下线 {}", PyAddr(ip_port));
            break;
        }
        // Decoded and printed as lesson 05 does (message.rs).
        message::print(&mut decoder, &buffer[..n], ip_port);
        // send('ok, 收到了'), all of it: write_all is Python's sendall, the
        // loop lesson 06 showed. It too gives up at the deadline.
        if let Err(err) = (&conn).write_all(&service.reply) {
            let why = describe(&err);
            say!(
                "cannot reply to {}: {why}",
                "无法回复 {}: {why}",
                PyAddr(ip_port)
            );
            return;
        }
    }
    // close(): the socket is dropped here, which closes it.
}
// ANCHOR_END: handle
