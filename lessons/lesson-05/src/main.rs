//! Lesson 05: the threaded server (tutorial section 5, "多线程TCP服务器").
//!
//! The tutorial's server, call for call: SO_REUSEADDR, bind, listen(128),
//! then accept in a loop and give each client a thread of its own, so that a
//! slow or silent client never holds up the others. Each thread receives up
//! to 1024 bytes at a time, prints the message with the client's address,
//! replies "ok, 收到了" in GBK, and when `recv` returns 0 reports the client
//! offline and closes its socket. Nothing else: the limits, the summary and
//! the rest a deployed server needs are in `src/bin/hardened/`
//! (`cargo run -p lesson-05 --bin hardened`).
//!
//! Start it with `cargo run -p lesson-05`, then run clients in other
//! terminals (`cargo run -p lesson-02 -- --interactive`). The walkthrough is
//! `lessons/lesson-05/README.md`.

use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use netcore::cli::ServerOptions;
use netcore::error::{bind_failed, describe};
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::Encoding;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

const NAME: &str = "lesson-05";
const ABOUT: &str =
    "the tutorial's threaded server: one thread per client, a reply to every message";
/// The tutorial's reply: "ok, got it".
const REPLY: &str = "ok, 收到了";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    let addr = options.addr()?;
    // ANCHOR: listen
    // socket, SO_REUSEADDR, bind, listen(128): the same four calls as the
    // single server of lesson 03.
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

    let reply: Arc<[u8]> = options.encoding.encode(REPLY)?.into();
    // ANCHOR: accept_loop
    // while True: accept() ... The main thread does nothing but accept, so
    // a new client is taken at once however busy the others are.
    loop {
        let (conn, ip_port) = match server.accept() {
            Ok((conn, peer)) => (conn, peer.as_socket().unwrap_or(addr)),
            Err(err) => {
                // A client that gave up before it was accepted, or no file
                // descriptor left: say so, and take the next one.
                let warning = tr("warning: accept failed:", "警告: accept 失败:");
                eprintln!("{NAME}: {warning} {}", describe(&err));
                continue;
            }
        };
        // print('客户端连接成功:', ip_port); --lang zh prints the tutorial's
        // own words.
        let connected = tr("client connected:", "客户端连接成功:");
        println!("{connected} {}", PyAddr(ip_port));
        // ANCHOR: spawn
        // threading.Thread(target=handle_request, args=(conn, ip_port)):
        // the socket moves into the client's own thread.
        let (reply, encoding) = (Arc::clone(&reply), options.encoding);
        let spawned =
            thread::Builder::new().spawn(move || handle_request(conn, ip_port, encoding, &reply));
        if let Err(err) = spawned {
            // No thread to be had (too many, no memory): this client's
            // socket is closed with the closure; everyone else goes on.
            let (client, why) = (PyAddr(ip_port), describe(&err));
            eprintln!(
                "{NAME}: {}",
                netcore::tr!(
                    "warning: no thread for {client}: {why}",
                    "警告: 无法为 {client} 创建线程: {why}"
                )
            );
        }
        // ANCHOR_END: spawn
    }
    // ANCHOR_END: accept_loop
}

// ANCHOR: handle
/// Serves one client until it goes offline: the tutorial's
/// `handle_request`, run on the client's own thread.
fn handle_request(conn: Socket, ip_port: SocketAddr, encoding: Encoding, reply: &[u8]) {
    // One decoder per connection: it keeps half a character from one recv
    // until the rest arrives in the next.
    let mut decoder = encoding.decoder();
    let mut buffer = [0u8; 1024];
    loop {
        // recv(1024): whatever has arrived, at most 1024 bytes.
        let n = match (&conn).read(&mut buffer) {
            Ok(n) => n,
            Err(err) => {
                // Reset by the peer: this client is gone, the others go on.
                let dropped = tr("client dropped:", "客户端断开:");
                println!("{dropped} {} ({})", PyAddr(ip_port), describe(&err));
                break;
            }
        };
        if n == 0 {
            // recv returned 0: the client closed its side. 客户端下线.
            println!(
                "{} {}",
                tr("client offline:", "客户端下线"),
                PyAddr(ip_port)
            );
            break;
        }
        let message = decoder.feed(&buffer[..n]);
        if message.text.is_empty() {
            // Only the first byte of a two-byte character has come: the
            // decoder keeps it until the rest arrives, in a later recv.
            let half = tr(
                "received: (half a character, waiting for the rest)",
                "接收的数据： （半个字符，等待其余部分）",
            );
            println!("{half} {}", PyAddr(ip_port));
        } else {
            // Escaped (PyText): a client's text cannot forge a line of
            // this output or steer the terminal.
            let received = tr("received:", "接收的数据：");
            println!("{received} {} {}", PyText(&message.text), PyAddr(ip_port));
        }
        if message.has_invalid() {
            let (client, bytes) = (PyAddr(ip_port), PyBytes(&buffer[..n]));
            eprintln!(
                "{NAME}: {}",
                netcore::tr!(
                    "warning: {client} sent bytes that are not valid {encoding}, shown as �; the bytes: {bytes}",
                    "警告: {client} 发来的字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
                )
            );
        }
        // send('ok, 收到了'), all of it: send() may take only part.
        let mut sent = 0;
        while sent < reply.len() {
            match conn.send(&reply[sent..]) {
                Ok(n) => sent += n,
                Err(err) => {
                    let cannot = tr("cannot reply to", "无法回复");
                    println!("{cannot} {}: {}", PyAddr(ip_port), describe(&err));
                    return;
                }
            }
        }
    }
    // close(): the socket is dropped here, which closes it.
}
// ANCHOR_END: handle
