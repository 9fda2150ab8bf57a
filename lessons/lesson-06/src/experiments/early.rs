//! Experiment 2: `send` returns before the peer has read anything.

use std::io::Read;

use netcore::lang::tr;
use netcore::sys::{unread_bytes, unsent_bytes};
use netcore::{Context, Error, tr};

use super::common::{connected_pair, queue, show, wait_for};

// ANCHOR: early
/// Experiment 2: `send` copies into the send buffer and returns: nobody has read yet.
pub(crate) fn send_returns_early() -> Result<(), Error> {
    // In Chinese, the tutorial's words: "应用程序把发送的数据先写入到发送缓冲区".
    let heading = tr(
        "2. send() returns as soon as the bytes are in the kernel's buffers.",
        "2. 应用程序把发送的数据先写入到发送缓冲区：数据一进入内核的缓冲区，send() 就返回。",
    );
    println!("{heading}");
    let (client, conn) = connected_pair()?;
    let n = client
        .send(&[b'x'; 1000])
        .context(|| tr("send failed", "send 失败"))?;
    let sent = tr!(
        "client.send(1000 bytes) -> {n}; the server has not called recv()",
        "client.send(1000 字节) -> {n}；服务端还没有调用 recv()"
    );
    println!("   {sent}");
    wait_for(|| queue(unread_bytes(&conn)) >= 1000);
    let unread = show(unread_bytes(&conn));
    let inq = tr!(
        "the server's receive buffer holds {unread} unread bytes (SIOCINQ)",
        "服务端的接收缓冲区里有 {unread} 个未读的字节 (SIOCINQ)"
    );
    println!("   {inq}");
    let unsent = show(unsent_bytes(&client));
    let outq = tr!(
        "the client's send buffer holds {unsent} bytes not yet acknowledged (SIOCOUTQ)",
        "客户端的发送缓冲区里有 {unsent} 个尚未被确认的字节 (SIOCOUTQ)"
    );
    println!("   {outq}");
    let mut buffer = [0u8; 1024];
    let got = (&conn)
        .read(&mut buffer)
        .context(|| tr("recv failed", "recv 失败"))?;
    // "应用程序再从接收缓存区获取客户端发送的数据"
    let taken = tr!(
        "conn.recv(1024) -> {got} bytes, taken from the receive buffer",
        "conn.recv(1024) -> {got} 字节：应用程序再从接收缓冲区获取客户端发送的数据"
    );
    println!("   {taken}");
    let left = show(unread_bytes(&conn));
    let now = tr!(
        "the receive buffer now holds {left} bytes",
        "接收缓冲区里现在还有 {left} 字节"
    );
    println!("   {now}");
    Ok(())
}
// ANCHOR_END: early
