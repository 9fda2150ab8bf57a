//! The exercise's `sink` mode: experiment 4 made into a server.

use std::io::{Read, Write};

use netcore::cli::resolve;
use netcore::error::bind_failed;
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes};
use netcore::{Context, Error, tr};
use socket2::{Domain, Protocol, Socket, Type};

// ANCHOR: sink
/// The exercise, `sink` mode: a server that accepts one client, counts
/// every byte it sends until it closes its side, replies with the count in
/// ASCII digits, closes, and exits. Each `recv` asks for `read_size`
/// bytes (`--read-size`, 64 KiB unless told otherwise).
pub(crate) fn run(host: &str, port: u16, read_size: usize) -> Result<(), Error> {
    // socket, SO_REUSEADDR, bind, listen: lesson 03's four calls.
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
        .context(|| tr!("cannot listen on {addr}", "无法在 {addr} 上监听"))?;
    let local = listener
        .local_addr()
        .context(|| tr("cannot read the bound address", "无法读取绑定的地址"))?;
    // The line the tests and the grader read: English in either language.
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    let _ = std::io::stdout().flush();

    let (conn, peer) = listener
        .accept()
        .context(|| tr("accept failed", "accept 失败"))?;
    let peer = peer.as_socket().unwrap_or(addr);
    // print('客户端连接成功:', ip_port), as the tutorial's section 5.
    let connected = tr("client connected:", "客户端连接成功:");
    println!("{connected} {}", PyAddr(peer));

    // recv() until it returns 0. Each call returns whatever has arrived,
    // up to the buffer's size, however the client cut its sends: only the
    // sum of all the calls is the client's data.
    let mut buffer = vec![0u8; read_size];
    let mut count: u64 = 0;
    let mut calls: u64 = 0;
    loop {
        let n = (&conn)
            .read(&mut buffer)
            .context(|| tr!("cannot receive from {peer}", "无法从 {peer} 接收"))?;
        if n == 0 {
            break;
        }
        count += n as u64;
        calls += 1;
    }
    let end = tr!(
        "recv returned 0 after {count} bytes in {calls} recv() calls",
        "recv 返回 0（数据流结束）: {calls} 次 recv() 调用共收到 {count} 字节"
    );
    println!("{end}");

    // The reply: the count in ASCII digits, with a send loop as always.
    let reply = count.to_string();
    let mut sent = 0;
    while sent < reply.len() {
        sent += conn
            .send(&reply.as_bytes()[sent..])
            .context(|| tr!("cannot reply to {peer}", "无法回复 {peer}"))?;
    }
    println!("{} {}", tr("replied", "已回复"), PyBytes(reply.as_bytes()));
    drop(conn);
    drop(listener);
    let closed = tr(
        "closed the connection and the listening socket",
        "已关闭连接和监听套接字",
    );
    println!("{closed}");
    Ok(())
}
// ANCHOR_END: sink
