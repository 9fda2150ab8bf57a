//! lesson-04's `server` and `client` modes: one side of a conversation
//! played by hand, in two terminals, to watch notes 3 and 4 happen (the
//! experiments in `main.rs` make both sides themselves). The same calls as
//! lessons 02 and 05, with what these notes are about: `recv` returning 0.
//! With `--lang zh` they print the tutorial's own labels
//! (`客户端连接成功:`, `接收的数据：`, `客户端下线`).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use netcore::cli::{resolve, typed_lines};
use netcore::error::{bind_failed, connect_failed, describe};
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::Encoding;
use netcore::{Context, Error, tr};
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
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    #[cfg(not(windows))]
    listener
        .set_reuse_address(true)
        .context(|| tr("cannot set SO_REUSEADDR", "无法设置 SO_REUSEADDR"))?;
    listener
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    listener
        .listen(128)
        .context(|| tr("cannot listen", "无法监听"))?;
    // The line the tests and the grader read: English in either language.
    println!("listening on {}", local(&listener));
    let _ = std::io::stdout().flush();
    let reply = encoding.encode(REPLY)?;
    loop {
        let (conn, ip_port) = listener
            .accept()
            .context(|| tr("accept failed", "accept 失败"))?;
        let ip_port = PyAddr(ip_port.as_socket().unwrap_or(addr));
        // print('客户端连接成功:', ip_port), as the tutorial's section 5.
        println!("{} {ip_port}", tr("client connected:", "客户端连接成功:"));
        let mut decoder = encoding.decoder();
        let mut buffer = [0u8; 1024];
        loop {
            let n = match (&conn).read(&mut buffer) {
                Ok(n) => n,
                Err(err) => {
                    let why = describe(&err);
                    let dropped = tr!(
                        "client {ip_port} dropped: {why}",
                        "客户端 {ip_port} 断开: {why}"
                    );
                    println!("{dropped}");
                    break;
                }
            };
            if n == 0 {
                if decoder.finish().has_invalid() {
                    let warning = tr!(
                        "warning: {ip_port} closed in the middle of a character",
                        "警告: {ip_port} 在一个字符的中间关闭了连接"
                    );
                    eprintln!("{NAME}: {warning}");
                }
                // print('客户端下线', ip_port): note 3.
                let offline = tr!(
                    "recv returned 0: client {ip_port} is offline",
                    "recv 返回 0: 客户端下线 {ip_port}"
                );
                println!("{offline}");
                break;
            }
            let message = decoder.feed(&buffer[..n]);
            let text = &message.text;
            if text.is_empty() {
                // Only the first byte(s) of a character came: the decoder
                // keeps them until the rest arrives.
                let half = tr(
                    "received: (half a character, waiting for the rest)",
                    "接收的数据： （半个字符，等待其余部分）",
                );
                println!("{half} {ip_port}");
            } else {
                // print('接收的数据：', data.decode('gbk'), ip_port)
                let received = tr("received:", "接收的数据：");
                println!("{received} {} {ip_port}", PyText(text));
            }
            if message.has_invalid() {
                let (count, bytes) = (message.invalid, PyBytes(&buffer[..n]));
                let warning = tr!(
                    "warning: {ip_port} sent {count} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {bytes}",
                    "警告: {ip_port} 发来 {count} 处不是有效 {encoding} 的字节，显示为 �；这些字节: {bytes}"
                );
                eprintln!("{NAME}: {warning}");
            }
            if text.trim() == "close" {
                let closing = tr!(
                    "closing the connection to {ip_port}: its recv will return 0",
                    "关闭与 {ip_port} 的连接: 它的 recv 将返回 0"
                );
                println!("{closing}");
                break;
            }
            if let Err(err) = conn.send(&reply) {
                let cannot = tr("cannot reply to", "无法回复");
                println!("{cannot} {ip_port}: {}", describe(&err));
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
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    client
        .connect(&addr.into())
        .map_err(|err| connect_failed(addr, &err, "cargo run -p lesson-04 -- server"))?;
    let connected = tr!(
        "connected to {addr}; type a message and press Enter, `close` asks the server to close, Ctrl+D ends your input",
        "已连接到 {addr}；输入一条消息后按回车发送，输入 `close` 请服务端关闭连接，按 Ctrl+D 结束输入"
    );
    println!("{connected}");
    // One socket, used by two threads: one only sends, the other only
    // receives. The two directions of a TCP connection are independent.
    let client = Arc::new(client);
    let sender = Arc::clone(&client);
    // Not joined: that thread may be waiting for a line that never comes.
    // Returning from `main` ends the process, and the thread with it.
    std::thread::spawn(move || {
        if let Err(err) = send_typed_lines(&sender, addr, encoding) {
            eprintln!("{NAME}: {} {err}", tr("error:", "错误:"));
        }
    });
    let mut decoder = encoding.decoder();
    let mut buffer = [0u8; 1024];
    loop {
        // Blocks until a reply comes, the server closes, or the connection
        // is reset (an error, reported like any other).
        let n = (&*client)
            .read(&mut buffer)
            .context(|| tr!("cannot receive from {addr}", "无法从 {addr} 接收"))?;
        if n == 0 {
            if decoder.finish().has_invalid() {
                let warning = tr(
                    "warning: the reply ended in the middle of a character",
                    "警告: 回复在一个字符的中间结束了",
                );
                eprintln!("{NAME}: {warning}");
            }
            // Note 4.
            let closed = tr(
                "recv returned 0: the server closed the connection",
                "recv 返回 0: 服务端关闭了连接",
            );
            println!("{closed}");
            return Ok(());
        }
        let reply = decoder.feed(&buffer[..n]);
        // print("接收服务端解码后的数据为:", recv_content), as the
        // tutorial's client in section 2.
        let received = tr("received:", "接收服务端解码后的数据为:");
        println!("{received} {}", PyText(&reply.text));
        if reply.has_invalid() {
            let (count, bytes) = (reply.invalid, PyBytes(&buffer[..n]));
            let warning = tr!(
                "warning: the reply held {count} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {bytes}",
                "警告: 回复中有 {count} 处字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
            );
            eprintln!("{NAME}: {warning}");
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
        let line = line.context(|| tr("cannot read the terminal", "无法读取终端"))?;
        let data = match encoding.encode(&line) {
            Ok(data) => data,
            Err(err) => {
                eprintln!("{NAME}: {} {err}", tr("not sent:", "未发送:"));
                continue;
            }
        };
        let mut sent = 0;
        while sent < data.len() {
            sent += client
                .send(&data[sent..])
                .context(|| tr!("cannot send to {addr}", "无法发送到 {addr}"))?;
        }
    }
    // Printed first: once the server answers the shutdown by closing, the
    // other thread ends the program.
    let end = tr(
        "end of input: shutdown(Write); the server's recv will return 0",
        "输入结束: shutdown(Write)；服务端的 recv 将返回 0",
    );
    println!("{end}");
    client
        .shutdown(Shutdown::Write)
        .context(|| tr("shutdown(Write) failed", "shutdown(Write) 失败"))
}
// ANCHOR_END: client
