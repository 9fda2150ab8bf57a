//! What the experiments share: a connected pair over loopback, and waiting
//! for and reading the kernel's queues.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use netcore::error::describe;
use netcore::lang::tr;
use netcore::{Context, Error, tr};
use socket2::{Domain, Protocol, Socket, Type};

/// No experiment waits longer than this for the kernel to move bytes.
pub(super) const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: pair
/// A connected pair over loopback: the client's socket and the server's
/// accepted one (socket, bind, listen, connect, accept, as in lessons 02-03).
pub(super) fn connected_pair() -> Result<(Socket, Socket), Error> {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    listener
        .bind(&any_port.into())
        .context(|| tr("cannot bind", "无法绑定"))?;
    listener
        .listen(1)
        .context(|| tr("cannot listen", "无法监听"))?;
    let addr = listener.local_addr().context(|| "getsockname")?;
    let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    client
        .connect(&addr)
        .context(|| tr("cannot connect", "无法连接"))?;
    let (conn, _) = listener
        .accept()
        .context(|| tr("accept failed", "accept 失败"))?;
    let timeout = || tr("cannot set a timeout", "无法设置超时");
    for socket in [&client, &conn] {
        socket.set_read_timeout(Some(PATIENCE)).context(timeout)?;
        socket.set_write_timeout(Some(PATIENCE)).context(timeout)?;
    }
    Ok((client, conn))
}
// ANCHOR_END: pair

/// Polls `done` until it holds, at most [`PATIENCE`]: the kernel moves bytes
/// between sockets asynchronously, even over loopback.
pub(super) fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
}

/// A queue size, or 0 where it cannot be measured.
pub(super) fn queue(size: std::io::Result<usize>) -> usize {
    size.unwrap_or(0)
}

/// A queue size for printing, or why it is unavailable.
pub(super) fn show(size: std::io::Result<usize>) -> String {
    match size {
        Ok(n) => n.to_string(),
        Err(err) => {
            let why = describe(&err);
            tr!("(unavailable: {why})", "（无法获取: {why}）")
        }
    }
}
