//! Lesson 02: the TCP client (tutorial section 2, "TCP客户端").
//!
//! The tutorial's client, call for call: create a socket, connect to the
//! server, send a message encoded as GBK, receive up to 1024 bytes of reply,
//! decode it, close. Run a server first (`cargo run -p lesson-03`), then
//! `cargo run -p lesson-02` in a second terminal. With `--repeat N` or
//! `--interactive` it sends several messages on one connection, for the
//! threaded server of lesson 05. The walkthrough is
//! `lessons/lesson-02/README.md`.

mod messages;

use std::io::Read;
use std::process::ExitCode;

use netcore::cli::ClientOptions;
use netcore::error::connect_failed;
use netcore::lang::tr;
use netcore::pyrepr::{PyBytes, PyText};
use netcore::tr;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

use messages::Mode;

const NAME: &str = "lesson-02";
const ABOUT: &str = "the tutorial's TCP client: connect, send a message in GBK, print the reply";
/// The tutorial's message: "Hello server, I am the client Xiaohei!"
const MESSAGE: &str = "你好服务端，我是客户端小黑!";

fn main() -> ExitCode {
    let (options, mode) = messages::parse(NAME, ABOUT, MESSAGE);
    netcore::report(NAME, run(&options, mode))
}

fn run(options: &ClientOptions, mode: Mode) -> Result<(), Error> {
    let server = options.addr()?;

    // ANCHOR: socket
    // socket.socket(AF_INET, SOCK_STREAM): a TCP socket of the server
    // address's family (AF_INET for IPv4, AF_INET6 for IPv6).
    let client = Socket::new(
        Domain::for_address(server),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    // ANCHOR_END: socket

    // ANCHOR: connect
    // connect((host, port)): the kernel picks a free local port for this
    // socket and runs TCP's handshake with the server. It returns once the
    // server's kernel has completed the connection, even before the server
    // program calls accept().
    client
        .connect(&server.into())
        .map_err(|err| connect_failed(server, &err, "cargo run -p lesson-03"))?;
    let local = client
        .local_addr()
        .context(|| tr("cannot read the local address", "无法读取本地地址"))?;
    if let Some(local) = local.as_socket() {
        println!(
            "{}",
            tr!(
                "connected to {server} from {local}",
                "已连接到 {server}，本地地址 {local}"
            )
        );
    }
    // ANCHOR_END: connect

    // ANCHOR: conversation
    // The tutorial sends one message; --repeat and --interactive send more,
    // each on this same connection (src/messages.rs). One decoder for the
    // whole connection: a character split between two replies is decoded
    // when its second half arrives.
    let encoding = options.encoding;
    let mut decoder = encoding.decoder();
    for send_data in messages::to_send(NAME, options, mode)? {
        let send_data = send_data?;
        // ANCHOR_END: conversation

        // ANCHOR: send
        // send(data) copies bytes into the kernel's send buffer and returns
        // how many it took, which may be fewer than offered. Loop until all
        // are sent, as Python's sendall() does; the tutorial's single send()
        // assumes everything fits at once.
        // print('将要发送已编码成gbk的数据：', send_data)
        let sending = tr!(
            "sending ({encoding}):",
            "将要发送已编码成{encoding}的数据："
        );
        println!("{sending} {}", PyBytes(&send_data));
        let mut sent = 0;
        while sent < send_data.len() {
            sent += client
                .send(&send_data[sent..])
                .context(|| tr!("cannot send to {server}", "无法发送到 {server}"))?;
        }
        // ANCHOR_END: send

        // ANCHOR: recv
        // recv(1024): wait until some reply has arrived and take at most 1024
        // bytes of it. (socket2's own `recv` wants an uninitialised buffer;
        // `read` is the same recv(2) call on an ordinary one.) 0 bytes means
        // the server closed the connection without a word.
        let mut buffer = [0u8; 1024];
        let n = (&client)
            .read(&mut buffer)
            .context(|| tr!("cannot receive from {server}", "无法从 {server} 接收"))?;
        if n == 0 {
            return Err(Error::msg(tr!(
                "the server at {server} closed the connection without replying",
                "{server} 的服务端没有回复就关闭了连接"
            )));
        }
        let recv_data = &buffer[..n];
        // print('服务端返回的数据', recv_data)
        let received = tr("received:", "服务端返回的数据");
        println!("{received} {}", PyBytes(recv_data));
        // ANCHOR_END: recv

        // ANCHOR: decode
        // recv_data.decode("gbk"): bytes back to text. Invalid bytes become
        // U+FFFD (�) with a warning, where Python would raise
        // UnicodeDecodeError. The server's text is printed with anything
        // that would steer the terminal escaped (PyText): one line stays one.
        let reply = decoder.feed(recv_data);
        let decoded = tr("decoded:", "接收服务端解码后的数据为:");
        println!("{decoded} {}", PyText(&reply.text));
        if reply.has_invalid() {
            let (count, bytes) = (reply.invalid, PyBytes(recv_data));
            eprintln!(
                "{NAME}: {}",
                tr!(
                    "warning: the reply held {count} byte sequence(s) that are not valid {encoding}, shown as �; the bytes: {bytes}",
                    "警告: 回复中有 {count} 处字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
                )
            );
        }
        // ANCHOR_END: decode
    }

    // ANCHOR: close
    // close(): dropping the socket closes it. The kernel sends FIN, and the
    // server's next recv() returns 0 bytes.
    drop(client);
    if decoder.finish().has_invalid() {
        let warning = tr(
            "warning: the reply ended in the middle of a character",
            "警告: 回复在一个字符的中间结束了",
        );
        eprintln!("{NAME}: {warning}");
    }
    // ANCHOR_END: close
    Ok(())
}
