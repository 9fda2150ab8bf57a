//! The tutorial's five notes on TCP (section 4), each an experiment over
//! loopback that makes the calls and prints what the operating system
//! really answered. `cargo run -p lesson-04 -- N` runs note N; the
//! walkthrough quotes each one. With `--lang zh` each note's heading is the
//! tutorial's own sentence, word for word.

use std::io::Read;
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use netcore::error::bind_failed;
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes};
use netcore::{Context, Error, tr};
use socket2::{Domain, Protocol, Socket, Type};

/// No experiment waits longer than this for the other side.
const PATIENCE: Duration = Duration::from_secs(5);

/// Runs note `n` (1 to 5).
pub(crate) fn run(n: u8) -> Result<(), Error> {
    match n {
        1 => note_1_listening_socket_is_passive(),
        2 => note_2_talk_on_the_accepted_socket(),
        3 => note_3_client_closes(),
        4 => note_4_server_closes(),
        _ => note_5_close_or_shutdown(),
    }
}

// ANCHOR: note_1
/// Note 1: "调用listen的套接字对象属于被动套接字，只负责接收新的客户端的连接请求，
/// 不能收发消息" (the listening socket is passive: it only takes new
/// connections, it cannot send or receive).
fn note_1_listening_socket_is_passive() -> Result<(), Error> {
    let note = tr(
        "Note 1: the listening socket is passive; it cannot send or receive.",
        "注意点 1: 调用listen的套接字对象属于被动套接字，只负责接收新的客户端的连接请求，不能收发消息",
    );
    println!("{note}");
    let listener = listen()?;
    let addr = local(&listener);
    let listening = tr("listening on", "正在监听");
    println!("  listener: socket(), bind(), listen(128)  -> {listening} {addr}");

    // Try to use it like a connected socket. The OS refuses: it has no peer.
    let (bytes, error) = (tr("bytes", "字节"), tr("error:", "错误:"));
    let unexpected = tr("(unexpected!)", "（出乎意料！）");
    match listener.send(b"hello") {
        Ok(n) => println!("  listener.send(b'hello')  -> {n} {bytes} {unexpected}"),
        Err(err) => println!("  listener.send(b'hello')  -> {error} {err}"),
    }
    let mut buffer = [0u8; 1024];
    match (&listener).read(&mut buffer) {
        Ok(n) => println!("  listener.recv(1024)      -> {n} {bytes} {unexpected}"),
        Err(err) => println!("  listener.recv(1024)      -> {error} {err}"),
    }
    let only_accept = tr(
        "It only hands out new, connected sockets through accept().",
        "它只负责通过 accept() 交出新的、已连接的套接字。",
    );
    println!("  {only_accept}");
    println!();
    Ok(())
}
// ANCHOR_END: note_1

// ANCHOR: note_2
/// Note 2: "收发信息交由accept返回的新的套接字对象" (sending and receiving are
/// done by the new socket that accept returns).
fn note_2_talk_on_the_accepted_socket() -> Result<(), Error> {
    let note = tr(
        "Note 2: messages go through the socket that accept() returns.",
        "注意点 2: 收发信息交由accept返回的新的套接字对象",
    );
    println!("{note}");
    let listener = listen()?;
    let (client, conn) = connect_and_accept(&listener)?;
    let new_socket = tr(
        "accept() returned a new socket:",
        "accept() 返回了一个新的套接字:",
    );
    println!("  {new_socket} {} <-> {}", local(&conn), peer(&conn));
    send_and_show("client.send(b'ping')", &client, b"ping")?;
    recv_and_show("conn.recv(1024)     ", &conn)?;
    send_and_show("conn.send(b'pong')  ", &conn, b"pong")?;
    recv_and_show("client.recv(1024)   ", &client)?;

    // The listener was not involved, and is still free for more clients.
    let (_second, conn2) = connect_and_accept(&listener)?;
    let second = tr(
        "a second client gets a second socket: ",
        "第二个客户端得到第二个套接字: ",
    );
    println!("  {second} {} <-> {}", local(&conn2), peer(&conn2));
    let apart = tr(
        "Same local (IP, port) on the server's side; the peer tells them apart.",
        "服务端这边的本地 (IP, 端口) 相同；靠对端的地址区分它们。",
    );
    println!("  {apart}");
    println!();
    Ok(())
}
// ANCHOR_END: note_2

// ANCHOR: note_3
/// Note 3: "客户端那边调用close，服务端的recv会解阻塞，返回的数据长度为0" (when
/// the client calls close, the server's recv wakes up and returns 0 bytes).
fn note_3_client_closes() -> Result<(), Error> {
    let note = tr(
        "Note 3: the client closes; the server's recv() returns 0 bytes.",
        "注意点 3: 客户端那边调用close，服务端的recv会解阻塞，返回的数据长度为0",
    );
    println!("{note}");
    let listener = listen()?;
    let (client, conn) = connect_and_accept(&listener)?;
    let client_addr = PyAddr(local(&client));
    drop(client);
    println!("  client.close()");
    let n = recv_and_show("conn.recv(1024)     ", &conn)?;
    if n == 0 {
        // The tutorial's threaded server prints "客户端下线" and the
        // address: print('客户端下线', ip_port).
        let offline = tr!(
            "0 bytes: the client {client_addr} is offline (客户端下线).",
            "返回的数据长度为0: 客户端下线 {client_addr}"
        );
        println!("  {offline}");
    }
    // End of stream is not a one-time event: every later recv returns 0 at
    // once. A loop that does not stop on 0 spins, burning a CPU core.
    let again = tr("conn.recv(1024) again", "再次 conn.recv(1024)");
    recv_and_show(again, &conn)?;
    let spin = tr(
        "Every further recv() returns 0 at once: stop reading, or spin forever.",
        "之后每次 recv() 都立即返回 0：要么停止读取，要么永远空转下去。",
    );
    println!("  {spin}");
    println!();
    Ok(())
}
// ANCHOR_END: note_3

// ANCHOR: note_4
/// Note 4: "服务端关闭套接字，客户端的 recv 也会解阻塞，返回的数据长度也为0" (when
/// the server closes the socket, the client's recv also returns 0 bytes).
fn note_4_server_closes() -> Result<(), Error> {
    let note = tr(
        "Note 4: the server closes; the client's recv() returns 0 bytes.",
        "注意点 4: 服务端关闭套接字，客户端的 recv 也会解阻塞，返回的数据长度也为0",
    );
    println!("{note}");
    let listener = listen()?;
    let (client, conn) = connect_and_accept(&listener)?;
    drop(conn);
    println!("  conn.close()");
    let n = recv_and_show("client.recv(1024)   ", &client)?;
    if n == 0 {
        let closed = tr(
            "0 bytes: the server has closed the connection.",
            "返回的数据长度也为0: 服务端已经关闭了连接。",
        );
        println!("  {closed}");
    }
    println!();
    Ok(())
}
// ANCHOR_END: note_4

// ANCHOR: note_5
/// Beyond the tutorial: `shutdown(Write)` closes only the sending half, so
/// the other side sees end of stream and can still answer; `close` gives up
/// both halves, and an answer then meets a reset.
fn note_5_close_or_shutdown() -> Result<(), Error> {
    let note = tr(
        "Note 5: close() against shutdown(Write), a half-close.",
        "注意点 5（教程之外）: close() 与 shutdown(Write)（半关闭）的区别",
    );
    println!("{note}");
    let listener = listen()?;

    println!("  {}", tr("With shutdown(Write):", "使用 shutdown(Write):"));
    let (client, conn) = connect_and_accept(&listener)?;
    send_and_show("client.send(b'request')    ", &client, b"request")?;
    client
        .shutdown(Shutdown::Write)
        .context(|| tr("shutdown(Write) failed", "shutdown(Write) 失败"))?;
    println!("    client.shutdown(SHUT_WR)");
    recv_and_show("conn.recv(1024)            ", &conn)?;
    recv_and_show("conn.recv(1024)            ", &conn)?;
    send_and_show("conn.send(b'reply')        ", &conn, b"reply")?;
    recv_and_show("client.recv(1024)          ", &client)?;
    let answered = tr(
        "The client said \"that is all\" and still got its answer.",
        "客户端说了“就这些”，仍然收到了回复。",
    );
    println!("    {answered}");

    println!("  {}", tr("With close():", "使用 close():"));
    let (client, conn) = connect_and_accept(&listener)?;
    send_and_show("client.send(b'request')    ", &client, b"request")?;
    drop(client);
    println!("    client.close()");
    recv_and_show("conn.recv(1024)            ", &conn)?;
    recv_and_show("conn.recv(1024)            ", &conn)?;
    // The first send succeeds: it only copies into the kernel's buffer. The
    // client's kernel answers the data with a reset (nobody will read it),
    // and a later send then fails.
    let deadline = Instant::now() + PATIENCE;
    let mut attempt = 1;
    let (bytes, error) = (tr("bytes", "字节"), tr("error:", "错误:"));
    loop {
        match conn.send(b"reply") {
            Ok(n) => println!("    conn.send(b'reply')  #{attempt}    -> {n} {bytes}"),
            Err(err) => {
                println!("    conn.send(b'reply')  #{attempt}    -> {error} {err}");
                break;
            }
        }
        if Instant::now() > deadline {
            let no_reset = tr!(
                "(no reset seen within {PATIENCE:?})",
                "（{PATIENCE:?} 内没有看到重置（RST））"
            );
            println!("    {no_reset}");
            break;
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let reset = tr(
        "After close() the client can no longer receive; its kernel resets the connection.",
        "close() 之后客户端不能再接收；它的内核用重置（RST）回应。",
    );
    println!("    {reset}");
    println!();
    Ok(())
}
// ANCHOR_END: note_5

/// A listening socket on a free loopback port: socket, bind, listen.
fn listen() -> Result<Socket, Error> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    listener
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    listener
        .listen(128)
        .context(|| tr("cannot listen", "无法监听"))?;
    Ok(listener)
}

/// A client connected to `listener`, and the server's side of that
/// connection. Both wait at most [`PATIENCE`] in any recv, so no experiment
/// can hang.
fn connect_and_accept(listener: &Socket) -> Result<(Socket, Socket), Error> {
    let addr = local(listener);
    let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    client
        .connect(&addr.into())
        .context(|| tr!("cannot connect to {addr}", "无法连接 {addr}"))?;
    let (conn, _) = listener
        .accept()
        .context(|| tr("accept failed", "accept 失败"))?;
    for socket in [&client, &conn] {
        socket
            .set_read_timeout(Some(PATIENCE))
            .context(|| tr("cannot set a timeout", "无法设置超时"))?;
    }
    Ok((client, conn))
}

/// Makes the call `what` names, a send of `data`, and prints what it
/// returned: `client.send(b'ping') -> 4 bytes`.
fn send_and_show(what: &str, socket: &Socket, data: &[u8]) -> Result<usize, Error> {
    let call = what.trim();
    let n = socket
        .send(data)
        .context(|| tr!("{call} failed", "{call} 失败"))?;
    println!("    {what} -> {n} {}", tr("bytes", "字节"));
    Ok(n)
}

/// Makes the call `what` names, a recv of up to 1024 bytes, and prints
/// what it returned: `conn.recv(1024) -> b'ping' (4 bytes)`.
fn recv_and_show(what: &str, socket: &Socket) -> Result<usize, Error> {
    let call = what.trim();
    let mut buffer = [0u8; 1024];
    let n = (&*socket)
        .read(&mut buffer)
        .context(|| tr!("{call} failed", "{call} 失败"))?;
    let data = PyBytes(&buffer[..n]);
    println!("    {what} -> {data} ({n} {})", tr("bytes", "字节"));
    Ok(n)
}

pub(crate) fn local(socket: &Socket) -> SocketAddr {
    address(socket.local_addr())
}

fn peer(socket: &Socket) -> SocketAddr {
    address(socket.peer_addr())
}

fn address(addr: std::io::Result<socket2::SockAddr>) -> SocketAddr {
    addr.ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}
