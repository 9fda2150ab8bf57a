//! Experiment 5: a non-blocking `send` takes only what fits.

use std::io::Read;
use std::net::Shutdown;
use std::thread;
use std::time::{Duration, Instant};

use netcore::lang::tr;
use netcore::{Context, Error, tr};
use socket2::Socket;

use super::common::{PATIENCE, connected_pair};
use crate::{KIB, MIB};

// ANCHOR: partial
/// Experiment 5: A non-blocking `send` takes only what fits; a loop must send the rest.
pub(crate) fn partial_send() -> Result<(), Error> {
    let heading = tr(
        "5. A non-blocking send() may take fewer bytes than offered.",
        "5. 非阻塞的 send() 可能只取走交给它的一部分字节。",
    );
    println!("{heading}");
    let (client, conn) = connected_pair()?;
    client.set_nonblocking(true).context(|| "set_nonblocking")?;
    let data = vec![b'z'; 4 * MIB];
    let first = send_some(&client, &data)?;
    let fit = tr!(
        "client.send(4 MiB) -> {first} bytes: only what fit in the buffers (the server is not reading)",
        "client.send(4 MiB) -> {first} 字节：只取走了缓冲区放得下的部分（服务端没有在读）"
    );
    println!("   {fit}");

    // Now let the server read everything, and send the rest in a loop.
    let reader = thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * KIB];
        let mut total = 0usize;
        while let Ok(n) = (&conn).read(&mut buffer) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    });
    let mut sent = first;
    let mut calls = 1;
    let deadline = Instant::now() + PATIENCE;
    while sent < data.len() && Instant::now() < deadline {
        match client.send(&data[sent..]) {
            Ok(n) => {
                sent += n;
                calls += 1;
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(err) => return Err(Error::io(tr("send failed", "send 失败"), &err)),
        }
    }
    client
        .shutdown(Shutdown::Write)
        .context(|| tr("shutdown failed", "shutdown 失败"))?;
    let received = reader.join().unwrap_or(0);
    let total = data.len();
    let all = tr!(
        "sending all 4 MiB took {calls} send() calls that each took what fit;\n   the server received {received} of {total} bytes.",
        "发完全部 4 MiB 用了 {calls} 次 send() 调用，每次取走放得下的部分；\n   服务端收到了 {total} 字节中的 {received} 字节。"
    );
    println!("   {all}");
    let sendall = tr(
        "That loop is Python's sendall() and Rust's write_all(); one send() can lose the rest.",
        "这个循环就是 Python 的 sendall() 和 Rust 的 write_all()；只调用一次 send() 可能丢掉其余的数据。",
    );
    println!("   {sendall}");
    Ok(())
}
// ANCHOR_END: partial

/// A non-blocking send that waits (boundedly) for the first bytes to fit.
fn send_some(client: &Socket, data: &[u8]) -> Result<usize, Error> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match client.send(data) {
            Ok(n) => return Ok(n),
            Err(err)
                if err.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(1));
            }
            Err(err) => return Err(Error::io(tr("send failed", "send 失败"), &err)),
        }
    }
}
