//! Lesson 09: beyond the tutorial, an async server on tokio.
//!
//! Lesson 05's conversation (print each message, reply "ok, 收到了" in GBK)
//! with a *task* per client instead of a thread: tasks are small state
//! machines that a few worker threads take turns running, each until it has
//! to wait for its socket. Waiting is `.await`: the task is set aside, and
//! tokio's I/O driver (epoll underneath, as lesson 08 shows) wakes it when
//! the socket is ready. Ten thousand idle clients cost ten thousand small
//! tasks, not ten thousand threads.
//!
//! Its trap: a task that *blocks* (a slow library call, `std::thread::sleep`)
//! holds its worker thread, and every other task on that thread waits. The
//! request `slow` stands for such a call; it runs on tokio's blocking pool
//! (`spawn_blocking`), and `--blocking-mistake` runs it inside the task to
//! show the stall. `echo` mode sends every byte back, with backpressure.
//!
//! The runtime is built by hand (`tokio::runtime::Builder`), which is what
//! `#[tokio::main]` would write: that macro needs tokio's "macros" feature,
//! which doubles the lesson's first build. The walkthrough is
//! `lessons/lesson-09/README.md`.

mod args;
mod output;
mod stream;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use netcore::error::{bind_failed, describe};
use netcore::lang::tr;
use netcore::pyrepr::PyAddr;
use netcore::text::Encoding;
use netcore::{Context, Error};
use tokio::net::{TcpSocket, TcpStream};

use args::{Args, Mode};
use output::{cannot_reply, dropped, offline, print_message};
use stream::{recv, send_all};

const NAME: &str = "lesson-09";
const ABOUT: &str = "beyond the tutorial: an async server on tokio, a task per client";
/// The tutorial's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// The message answered only after [`SLOW_WORK`] of blocking work.
const SLOW: &str = "slow";
/// How long the slow request's blocking call takes.
const SLOW_WORK: Duration = Duration::from_secs(1);
/// listen()'s queue: a crowd of clients connecting at once must not
/// overflow it (lesson 05's H2); the kernel caps it at net.core.somaxconn.
const BACKLOG: u32 = 1024;

/// What every client's task needs, shared by all of them.
pub(crate) struct Config {
    pub(crate) encoding: Encoding,
    pub(crate) reply: Vec<u8>,
    pub(crate) quiet: bool,
    pub(crate) blocking_mistake: bool,
}

fn main() -> ExitCode {
    let args = args::parse();
    netcore::report(NAME, run(args))
}

fn run(args: Args) -> Result<(), Error> {
    // ANCHOR: runtime
    // What #[tokio::main] writes for you, built by hand: a runtime with
    // --workers threads to run tasks, its I/O driver (epoll) and its
    // timer (for the pause after a failed accept).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .enable_io()
        .enable_time()
        .build()
        .context(|| tr("cannot start the runtime", "无法启动运行时"))?;
    // block_on runs `serve` on this thread until it returns; the tasks it
    // spawns run on the worker threads.
    runtime.block_on(serve(args))
    // ANCHOR_END: runtime
}

async fn serve(args: Args) -> Result<(), Error> {
    let addr = args.server.addr()?;
    // Thousands of clients are the point of this lesson: each costs a file
    // descriptor, and many systems start programs with a limit of 1024.
    let _ = netcore::sys::raise_open_file_limit();
    // ANCHOR: listen
    // socket, SO_REUSEADDR, bind, listen: the tutorial's calls, in tokio's
    // words. The socket is non-blocking, registered with the I/O driver.
    let server = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    #[cfg(not(windows))]
    server
        .set_reuseaddr(true)
        .context(|| tr("cannot set SO_REUSEADDR", "无法设置 SO_REUSEADDR"))?;
    server.bind(addr).map_err(|err| bind_failed(addr, &err))?;
    let server = server
        .listen(BACKLOG)
        .context(|| netcore::tr!("cannot listen on {addr}", "无法在 {addr} 上监听"))?;
    let local = server
        .local_addr()
        .context(|| tr("cannot read the address", "无法读取地址"))?;
    println!("listening on {local}");
    // ANCHOR_END: listen

    let config = Arc::new(Config {
        encoding: args.server.encoding,
        reply: args.server.encoding.encode(REPLY)?,
        quiet: args.quiet,
        blocking_mistake: args.blocking_mistake,
    });
    // ANCHOR: accept_loop
    // while True: accept(). The .await waits without blocking anything:
    // until a client arrives this future is pending, and the I/O driver
    // wakes it when epoll reports the listening socket readable.
    loop {
        let (conn, ip_port) = match server.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // No file descriptor left, say: the client stays queued
                // and accept would fail again at once. Pause (without
                // blocking a thread) rather than spin.
                let warning = tr("warning: accept failed:", "警告: accept 失败:");
                eprintln!("{NAME}: {warning} {}", describe(&err));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if !config.quiet {
            let connected = tr("client connected:", "客户端连接成功:");
            println!("{connected} {}", PyAddr(ip_port));
        }
        // ANCHOR: spawn
        // A task per client, where lesson 05 started a thread: the
        // runtime runs it on a worker thread, and this loop goes straight
        // back to accept.
        let config = Arc::clone(&config);
        match args.mode {
            Mode::Reply => tokio::spawn(handle_request(conn, ip_port, config)),
            Mode::Echo => tokio::spawn(echo(conn, ip_port, config)),
        };
        // ANCHOR_END: spawn
    }
    // ANCHOR_END: accept_loop
}

// ANCHOR: handle
/// Serves one client until it goes offline: lesson 05's `handle_request`,
/// as a task. Every `.await` is a place where it may wait, and where the
/// worker thread runs other clients' tasks meanwhile.
async fn handle_request(conn: TcpStream, ip_port: SocketAddr, config: Arc<Config>) {
    // One decoder per connection: it keeps half a character from one recv
    // until the rest arrives in the next.
    let mut decoder = config.encoding.decoder();
    loop {
        // data = recv(1024): Python's b'' at the end is an empty Vec here.
        let data = match recv(&conn).await {
            Ok(data) if data.is_empty() => return offline(&config, ip_port),
            Ok(data) => data,
            Err(err) => return dropped(&config, ip_port, &err),
        };
        let message = decoder.feed(&data);
        print_message(&config, &message, &data, ip_port);
        // ANCHOR: slow
        if message.text == SLOW {
            if config.blocking_mistake {
                // The experiment: the blocking call right here holds this
                // worker thread for a second, and every task on it waits.
                slow_work();
            } else {
                // The blocking pool runs it on a thread of its own; this
                // task waits for it with .await, and its worker thread
                // serves the other clients meanwhile. (Err: it panicked.)
                if let Err(err) = tokio::task::spawn_blocking(slow_work).await {
                    eprintln!("{NAME}: {}: {err}", tr("slow work failed", "慢操作失败"));
                }
            }
        }
        // ANCHOR_END: slow
        // send('ok, 收到了'), all of it.
        if let Err(err) = send_all(&conn, &config.reply).await {
            return cannot_reply(&config, ip_port, &err);
        }
    }
}
// ANCHOR_END: handle

/// The slow request's work: a blocking call (a slow library, a file, a
/// database), here a plain sleep.
fn slow_work() {
    std::thread::sleep(SLOW_WORK);
}

// ANCHOR: echo
/// Echo mode: sends every byte back, unchanged and in order. The task
/// reads again only once `send_all` has handed the last bytes to the
/// kernel, so a client that does not read stops being read from: at most
/// one buffer waits here, and TCP's flow control holds the rest.
async fn echo(conn: TcpStream, ip_port: SocketAddr, config: Arc<Config>) {
    loop {
        let data = match recv(&conn).await {
            Ok(data) if data.is_empty() => return offline(&config, ip_port),
            Ok(data) => data,
            Err(err) => return dropped(&config, ip_port, &err),
        };
        if let Err(err) = send_all(&conn, &data).await {
            return cannot_reply(&config, ip_port, &err);
        }
    }
}
// ANCHOR_END: echo
