//! Experiment 1: the two buffers, and what the kernel makes of a size you
//! ask for.

use netcore::lang::tr;
use netcore::{Context, Error, tr};
use socket2::{Domain, Protocol, Socket, Type};

use super::common::connected_pair;
use crate::{KIB, MIB};

// ANCHOR: sizes
/// Experiment 1: The two buffers exist, per socket, and have sizes you can ask for.
pub(crate) fn buffer_sizes() -> Result<(), Error> {
    // In Chinese, the tutorial's own sentence.
    let heading = tr(
        "1. Every TCP socket has a send buffer and a receive buffer in the kernel.",
        "1. 创建一个TCP socket对象的时候会有一个发送缓冲区和一个接收缓冲区",
    );
    println!("{heading}");
    let (client, _conn) = connected_pair()?;
    let (sndbuf, rcvbuf) = (
        client.send_buffer_size().context(|| "SO_SNDBUF")?,
        client.recv_buffer_size().context(|| "SO_RCVBUF")?,
    );
    let starts = tr!(
        "a connected socket starts with SO_SNDBUF = {sndbuf} bytes, SO_RCVBUF = {rcvbuf} bytes",
        "已连接的套接字一开始 SO_SNDBUF = {sndbuf} 字节，SO_RCVBUF = {rcvbuf} 字节"
    );
    println!("   {starts}");
    let read_back = tr(
        "setsockopt(SO_SNDBUF / SO_RCVBUF, asked) on a new socket, then getsockopt:",
        "对新套接字 setsockopt(SO_SNDBUF / SO_RCVBUF, 请求值)，再用 getsockopt 读回:",
    );
    println!("   {read_back}");
    // The columns are 12, 14 and 14 wide (a Chinese character takes two).
    let header = tr(
        "       asked   SO_SNDBUF now   SO_RCVBUF now",
        "      请求值  SO_SNDBUF 实际  SO_RCVBUF 实际",
    );
    println!("   {header}");
    for asked in [1, 4 * KIB, 64 * KIB, MIB] {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .context(|| tr("cannot create a socket", "无法创建套接字"))?;
        socket
            .set_send_buffer_size(asked)
            .context(|| tr("cannot set SO_SNDBUF", "无法设置 SO_SNDBUF"))?;
        socket
            .set_recv_buffer_size(asked)
            .context(|| tr("cannot set SO_RCVBUF", "无法设置 SO_RCVBUF"))?;
        println!(
            "   {asked:>12}  {:>14}  {:>14}",
            socket.send_buffer_size().context(|| "SO_SNDBUF")?,
            socket.recv_buffer_size().context(|| "SO_RCVBUF")?
        );
    }
    if cfg!(target_os = "linux") {
        let doubles = tr(
            "Linux doubles what you ask (half is for its own bookkeeping), enforces a minimum,",
            "Linux 把请求值翻倍（一半留给它自己的管理开销），设有下限，",
        );
        println!("   {doubles}");
        let (wmem_max, rmem_max) = (sysctl("net/core/wmem_max"), sysctl("net/core/rmem_max"));
        let caps = tr!(
            "and caps the request at net.core.wmem_max = {wmem_max} / rmem_max = {rmem_max} bytes.",
            "并且请求值不能超过 net.core.wmem_max = {wmem_max} / rmem_max = {rmem_max} 字节。"
        );
        println!("   {caps}");
        let (tcp_wmem, tcp_rmem) = (sysctl("net/ipv4/tcp_wmem"), sysctl("net/ipv4/tcp_rmem"));
        let grow = tr!(
            "Sockets you leave alone grow on demand, up to tcp_wmem = [{tcp_wmem}] and tcp_rmem = [{tcp_rmem}].",
            "不手动设置大小的套接字按需增长，最大到 tcp_wmem = [{tcp_wmem}] 和 tcp_rmem = [{tcp_rmem}]。"
        );
        println!("   {grow}");
    }
    Ok(())
}
// ANCHOR_END: sizes

/// A value from /proc/sys, or "?" where there is none.
fn sysctl(path: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}
