//! Experiment 4: a byte stream has no message boundaries.

use std::io::Read;

use netcore::lang::tr;
use netcore::pyrepr::PyBytes;
use netcore::sys::unread_bytes;
use netcore::{Context, Error, tr};

use super::common::{connected_pair, queue, wait_for};

// ANCHOR: boundaries
/// Experiment 4: TCP carries a stream of bytes, not messages.
pub(crate) fn no_message_boundaries() -> Result<(), Error> {
    let heading = tr(
        "4. A byte stream has no message boundaries.",
        "4. 字节流没有消息边界。",
    );
    println!("{heading}");
    let (client, conn) = connected_pair()?;
    let (send_failed, recv_failed) = (
        tr("send failed", "send 失败"),
        tr("recv failed", "recv 失败"),
    );
    client.send(b"hello").context(|| send_failed)?;
    client.send(b"world").context(|| send_failed)?;
    println!("   client.send(b'hello'); client.send(b'world')");
    wait_for(|| queue(unread_bytes(&conn)) >= 10);
    let mut buffer = vec![0u8; 1024];
    let n = (&conn).read(&mut buffer).context(|| recv_failed)?;
    let data = PyBytes(&buffer[..n]);
    let one_recv = tr!(
        "conn.recv(1024) -> {data} ({n} bytes): two sends, one recv",
        "conn.recv(1024) -> {data} ({n} 字节)：两次 send，一次 recv"
    );
    println!("   {one_recv}");

    let big = vec![b'a'; 10_000];
    let mut sent = 0;
    while sent < big.len() {
        sent += client.send(&big[sent..]).context(|| send_failed)?;
    }
    let bytes = tr("bytes", "字节");
    println!("   client.send(10000 {bytes})");
    let mut sizes = Vec::new();
    let mut received = 0;
    while received < big.len() {
        let n = (&conn).read(&mut buffer).context(|| recv_failed)?;
        if n == 0 {
            break;
        }
        sizes.push(n);
        received += n;
    }
    let calls = sizes.len();
    let many = tr!(
        "conn.recv(1024) had to be called {calls} times: {sizes:?}",
        "conn.recv(1024) 调用了 {calls} 次才收完: {sizes:?}"
    );
    println!("   {many}");
    let find = tr(
        "The receiver must find the messages itself: by length, by delimiter, or by close.",
        "接收方必须自己划分消息：靠长度、靠分隔符，或者靠关闭连接。",
    );
    println!("   {find}");
    Ok(())
}
// ANCHOR_END: boundaries
