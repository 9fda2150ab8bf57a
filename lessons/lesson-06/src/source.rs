//! The exercise's `source` mode: experiment 5 made into a client.

use netcore::cli::resolve;
use netcore::error::connect_failed;
use netcore::lang::tr;
use netcore::{Context, Error, tr};
use socket2::{Domain, Protocol, Socket, Type};

// ANCHOR: source
/// The exercise, `source` mode: a client that connects, sends `bytes`
/// bytes in which byte i is `i % 251`, closes, and exits.
pub(crate) fn run(host: &str, port: u16, bytes: u64) -> Result<(), Error> {
    let addr = resolve(host, port)?;
    let client = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    client
        .connect(&addr.into())
        .map_err(|err| connect_failed(addr, &err, "cargo run -p lesson-06 -- sink"))?;
    let connected = tr!(
        "connected to {addr}; sending {bytes} bytes, byte i being i % 251",
        "已连接到 {addr}；发送 {bytes} 字节，第 i 个字节为 i % 251"
    );
    println!("{connected}");

    // The pattern repeats every 251 bytes (a prime, so that it never lines
    // up with a power-of-two chunk: a chunk lost or sent twice shows). One
    // buffer holds it from offset 0, a little longer than a chunk, and
    // `sent % 251` says where in it the next byte starts.
    const CHUNK: usize = 251 * 256;
    let pattern: Vec<u8> = (0..CHUNK + 251).map(|i| (i % 251) as u8).collect();
    let mut sent: u64 = 0;
    let mut calls: u64 = 0;
    while sent < bytes {
        let start = (sent % 251) as usize;
        let len = (bytes - sent).min(CHUNK as u64) as usize;
        // send() may take fewer bytes than offered: add up what it took and
        // go on from there.
        let n = client
            .send(&pattern[start..start + len])
            .context(|| tr!("cannot send to {addr}", "无法发送到 {addr}"))?;
        sent += n as u64;
        calls += 1;
    }
    let done = tr!(
        "sent {sent} bytes in {calls} send() calls",
        "{calls} 次 send() 调用共发送 {sent} 字节"
    );
    println!("{done}");

    // close(): after the last byte the sink's recv() returns 0.
    drop(client);
    println!("{}", tr("closed the connection", "已关闭连接"));
    Ok(())
}
// ANCHOR_END: source
