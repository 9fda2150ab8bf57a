//! The exercise's `sink` mode: experiment 4 made into a server.

use std::io::{Read, Write};

use netcore::cli::resolve;
use netcore::error::bind_failed;
use netcore::pyrepr::{PyAddr, PyBytes};
use netcore::{Context, Error};
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
        .context(|| "cannot create a socket")?;
    #[cfg(not(windows))]
    listener
        .set_reuse_address(true)
        .context(|| "cannot set SO_REUSEADDR")?;
    listener
        .bind(&addr.into())
        .map_err(|err| bind_failed(addr, &err))?;
    listener
        .listen(128)
        .context(|| format!("cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .context(|| "cannot read the bound address")?;
    println!("listening on {}", local.as_socket().unwrap_or(addr));
    let _ = std::io::stdout().flush();

    let (conn, peer) = listener.accept().context(|| "accept failed")?;
    let peer = peer.as_socket().unwrap_or(addr);
    println!("client connected: {}", PyAddr(peer));

    // recv() until it returns 0. Each call returns whatever has arrived,
    // up to the buffer's size, however the client cut its sends: only the
    // sum of all the calls is the client's data.
    let mut buffer = vec![0u8; read_size];
    let mut count: u64 = 0;
    let mut calls: u64 = 0;
    loop {
        let n = (&conn)
            .read(&mut buffer)
            .context(|| format!("cannot receive from {peer}"))?;
        if n == 0 {
            break;
        }
        count += n as u64;
        calls += 1;
    }
    println!("recv returned 0 after {count} bytes in {calls} recv() calls");

    // The reply: the count in ASCII digits, with a send loop as always.
    let reply = count.to_string();
    let mut sent = 0;
    while sent < reply.len() {
        sent += conn
            .send(&reply.as_bytes()[sent..])
            .context(|| format!("cannot reply to {peer}"))?;
    }
    println!("replied {}", PyBytes(reply.as_bytes()));
    drop(conn);
    drop(listener);
    println!("closed the connection and the listening socket");
    Ok(())
}
// ANCHOR_END: sink
