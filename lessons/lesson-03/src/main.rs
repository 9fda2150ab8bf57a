//! Lesson 03: the single TCP server (tutorial section 3, "TCP服务端").
//!
//! The tutorial's server, call for call: create a socket, set SO_REUSEADDR,
//! bind, listen(128), accept one client, receive up to 1024 bytes, reply in
//! GBK, close the client's socket, close the listening socket, exit. Start it
//! with `cargo run -p lesson-03` and talk to it with `cargo run -p lesson-02`
//! in a second terminal. The walkthrough is `lessons/lesson-03/README.md`.

use std::io::{Read, Write};
use std::process::ExitCode;

use netcore::cli::ServerOptions;
use netcore::error::bind_failed;
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::tr;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

const NAME: &str = "lesson-03";
const ABOUT: &str =
    "the tutorial's single TCP server: accept one client, read its message, reply, exit";
/// The tutorial's reply: "ok, the problem is being handled..."
const REPLY: &str = "ok, 问题正在处理中...";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    let addr = options.addr()?;

    // ANCHOR: socket
    // socket.socket(AF_INET, SOCK_STREAM): the server's socket, of the
    // family of the address it will listen on.
    let server = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    // ANCHOR_END: socket

    // ANCHOR: reuseaddr
    // setsockopt(SOL_SOCKET, SO_REUSEADDR, True): after a server exits, its
    // old connections linger in TIME_WAIT for a minute or two; without this
    // option a restarted server could not bind the port until they are gone.
    // (On Windows SO_REUSEADDR means something else, letting a second program
    // steal a port in use, so it is not set there.)
    #[cfg(not(windows))]
    server
        .set_reuse_address(true)
        .context(|| tr("cannot set SO_REUSEADDR", "无法设置 SO_REUSEADDR"))?;
    // ANCHOR_END: reuseaddr

    // ANCHOR: bind
    // bind(("", 8080)): claim the address and port. The tutorial's "" is
    // 0.0.0.0 here: every IPv4 address of this machine.
    server
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    // ANCHOR_END: bind

    // ANCHOR: listen
    // listen(128): make this a passive socket that only accepts connections.
    // The kernel completes handshakes on its own and queues up to about 128
    // connections that accept() has not taken yet (the backlog).
    server
        .listen(128)
        .context(|| tr!("cannot listen on {addr}", "无法在 {addr} 上监听"))?;
    let local = server
        .local_addr()
        .context(|| tr("cannot read the bound address", "无法读取绑定的地址"))?;
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    // Rust's stdout flushes at each newline; flush anyway, so a program that
    // waits for this line never waits on a buffer.
    let _ = std::io::stdout().flush();
    // ANCHOR_END: listen

    // ANCHOR: accept
    // accept(): block until a client has connected, then return a *new*
    // socket for talking to that client, and the client's (IP, port). The
    // listening socket itself never sends or receives.
    let (conn, ip_port) = server
        .accept()
        .context(|| tr("accept failed", "accept 失败"))?;
    let ip_port = ip_port.as_socket().unwrap_or(addr);
    // print("接收到客户端的ip地址和端口号:", ip_port)
    let client = tr("client address:", "接收到客户端的ip地址和端口号:");
    println!("{client} {}", PyAddr(ip_port));
    // ANCHOR_END: accept

    // ANCHOR: recv
    // recv(1024): wait for the client's message and take at most 1024 bytes
    // of it. 0 bytes means the client closed without sending anything.
    let mut buffer = [0u8; 1024];
    let n = (&conn)
        .read(&mut buffer)
        .context(|| tr!("cannot receive from {ip_port}", "无法从 {ip_port} 接收"))?;
    if n == 0 {
        let client = PyAddr(ip_port);
        println!(
            "{}",
            tr!(
                "client {client} closed the connection without sending anything",
                "客户端 {client} 什么也没发送就关闭了连接"
            )
        );
        return Ok(());
    }
    let recv_data = &buffer[..n];
    let received = tr("received:", "接收到的字节:");
    println!("{received} {}", PyBytes(recv_data));
    // ANCHOR_END: recv

    // ANCHOR: decode
    // recv_data.decode("gbk"). Invalid bytes become U+FFFD (�) with a
    // warning, where Python would raise UnicodeDecodeError and crash.
    let message = options.encoding.decode(recv_data);
    // The client's text, with anything that would steer the terminal
    // escaped (PyText): a line of output stays one line.
    // print("接收客户端的数据为:", recv_content)
    let decoded = tr("decoded:", "接收客户端的数据为:");
    println!("{decoded} {}", PyText(&message.text));
    if message.has_invalid() {
        let (client, count, encoding) = (PyAddr(ip_port), message.invalid, options.encoding);
        eprintln!(
            "{NAME}: {}",
            tr!(
                "warning: {client} sent {count} byte sequence(s) that are not valid {encoding}, shown as �",
                "警告: {client} 发来 {count} 处不是有效 {encoding} 的字节，显示为 �"
            )
        );
    }
    // ANCHOR_END: decode

    // ANCHOR: send
    // send(data): reply on the connected socket. send() may take fewer bytes
    // than offered, so loop until all are in the kernel's send buffer.
    let send_data = options.encoding.encode(REPLY)?;
    let encoding = options.encoding;
    let sending = tr!(
        "sending ({encoding}):",
        "将要发送已编码成{encoding}的数据："
    );
    println!("{sending} {}", PyBytes(&send_data));
    let mut sent = 0;
    while sent < send_data.len() {
        sent += conn.send(&send_data[sent..]).context(|| {
            tr!(
                "cannot send the reply to {ip_port}",
                "无法把回复发送给 {ip_port}"
            )
        })?;
    }
    // ANCHOR_END: send

    // ANCHOR: close
    // close() the client's socket: the client's recv() returns 0. Then close
    // the listening socket: new clients are refused from now on.
    drop(conn);
    drop(server);
    let closed = tr(
        "closed the connection and the listening socket",
        "已关闭与客户端的连接和监听套接字",
    );
    println!("{closed}");
    // ANCHOR_END: close
    Ok(())
}
