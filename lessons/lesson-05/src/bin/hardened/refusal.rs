//! Turning a client away without a reset: the hardened server's refusal
//! when it has no place for a client, and lesson 07's when its queue is
//! full (lesson 07 uses this file as it is).

use std::io::Read;
use std::net::Shutdown;

use socket2::Socket;

/// What a refused client may have sent that is read before its socket is
/// closed.
const REFUSED_READ_LIMIT: usize = 64 * 1024;

// ANCHOR: refuse
/// Tells a client there is no place for it, and closes. Closing a socket
/// whose received data was never read sends a reset (RST) instead of an
/// end of stream, and a reset can make the client lose the busy reply.
/// So the server says it will send nothing more (`shutdown`), and reads
/// what the client had sent before closing. Nothing here waits: the
/// accept loop must not.
pub(crate) fn refuse(conn: Socket, busy: &[u8]) {
    let _ = conn.set_nonblocking(true);
    let _ = conn.send(busy);
    let _ = conn.shutdown(Shutdown::Write);
    let mut buffer = [0u8; 4096];
    let mut read = 0;
    while read < REFUSED_READ_LIMIT {
        match (&conn).read(&mut buffer) {
            Ok(n) if n > 0 => read += n,
            _ => break,
        }
    }
}
// ANCHOR_END: refuse
