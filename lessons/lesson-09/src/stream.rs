//! `recv` and `send` on a tokio `TcpStream`, written on its readiness
//! calls (`readable`/`try_read`, `writable`/`try_write`). tokio's
//! `io-util` feature would give `read` and `write_all`, for about 1.7 s more
//! of the lesson's first build; these two functions are all it needs, and
//! they show the waiting that `.await` does.

use std::io;

use tokio::net::TcpStream;

// ANCHOR: recv
/// recv(1024), the async way: wait until the socket is readable, then take
/// what is there, at most 1024 bytes, without blocking.
pub(crate) async fn recv(conn: &TcpStream) -> io::Result<Vec<u8>> {
    loop {
        // If nothing has come, the task returns Pending here and its worker
        // thread runs other tasks; the I/O driver wakes this one when epoll
        // reports data. While it waits it holds no buffer, so an idle
        // client costs a few hundred bytes.
        conn.readable().await?;
        let mut data = vec![0; 1024];
        match conn.try_read(&mut data) {
            Ok(n) => {
                data.truncate(n);
                return Ok(data);
            }
            // The readiness was old news (its data was read already):
            // tokio forgets it now, and the task waits for the next one.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            Err(err) => return Err(err),
        }
    }
}
// ANCHOR_END: recv

// ANCHOR: send_all
/// send() until all of `bytes` is in the kernel's send buffer, waiting
/// (not blocking) whenever that buffer is full.
pub(crate) async fn send_all(conn: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        conn.writable().await?;
        match conn.try_write(bytes) {
            // send() may take only part: the rest goes round again.
            Ok(n) => bytes = &bytes[n..],
            // The send buffer is full: wait until the client reads.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
// ANCHOR_END: send_all
