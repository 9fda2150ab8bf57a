//! Experiment 1: the two buffers, and what the kernel makes of a size you
//! ask for.

use netcore::{Context, Error};
use socket2::{Domain, Protocol, Socket, Type};

use super::common::connected_pair;
use crate::{KIB, MIB};

// ANCHOR: sizes
/// Experiment 1: The two buffers exist, per socket, and have sizes you can ask for.
pub(crate) fn buffer_sizes() -> Result<(), Error> {
    println!("1. Every TCP socket has a send buffer and a receive buffer in the kernel.");
    let (client, _conn) = connected_pair()?;
    println!(
        "   a connected socket starts with SO_SNDBUF = {} bytes, SO_RCVBUF = {} bytes",
        client.send_buffer_size().context(|| "SO_SNDBUF")?,
        client.recv_buffer_size().context(|| "SO_RCVBUF")?
    );
    println!("   setsockopt(SO_SNDBUF / SO_RCVBUF, asked) on a new socket, then getsockopt:");
    println!(
        "   {:>12}  {:>14}  {:>14}",
        "asked", "SO_SNDBUF now", "SO_RCVBUF now"
    );
    for asked in [1, 4 * KIB, 64 * KIB, MIB] {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .context(|| "cannot create a socket")?;
        socket
            .set_send_buffer_size(asked)
            .context(|| "set SO_SNDBUF")?;
        socket
            .set_recv_buffer_size(asked)
            .context(|| "set SO_RCVBUF")?;
        println!(
            "   {asked:>12}  {:>14}  {:>14}",
            socket.send_buffer_size().context(|| "SO_SNDBUF")?,
            socket.recv_buffer_size().context(|| "SO_RCVBUF")?
        );
    }
    if cfg!(target_os = "linux") {
        println!(
            "   Linux doubles what you ask (half is for its own bookkeeping), enforces a minimum,"
        );
        println!(
            "   and caps the request at net.core.wmem_max = {} / rmem_max = {} bytes.",
            sysctl("net/core/wmem_max"),
            sysctl("net/core/rmem_max")
        );
        println!(
            "   Sockets you leave alone grow on demand, up to tcp_wmem = [{}] and tcp_rmem = [{}].",
            sysctl("net/ipv4/tcp_wmem"),
            sysctl("net/ipv4/tcp_rmem")
        );
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
