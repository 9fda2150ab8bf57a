//! Experiment 2: `send` returns before the peer has read anything.

use std::io::Read;

use netcore::sys::{unread_bytes, unsent_bytes};
use netcore::{Context, Error};

use super::common::{connected_pair, queue, show, wait_for};

// ANCHOR: early
/// Experiment 2: `send` copies into the send buffer and returns: nobody has read yet.
pub(crate) fn send_returns_early() -> Result<(), Error> {
    println!("2. send() returns as soon as the bytes are in the kernel's buffers.");
    let (client, conn) = connected_pair()?;
    let n = client.send(&[b'x'; 1000]).context(|| "send failed")?;
    println!("   client.send(1000 bytes) -> {n}; the server has not called recv()");
    wait_for(|| queue(unread_bytes(&conn)) >= 1000);
    println!(
        "   the server's receive buffer holds {} unread bytes (SIOCINQ)",
        show(unread_bytes(&conn))
    );
    println!(
        "   the client's send buffer holds {} bytes not yet acknowledged (SIOCOUTQ)",
        show(unsent_bytes(&client))
    );
    let mut buffer = [0u8; 1024];
    let got = (&conn).read(&mut buffer).context(|| "recv failed")?;
    println!("   conn.recv(1024) -> {got} bytes, taken from the receive buffer");
    println!(
        "   the receive buffer now holds {} bytes",
        show(unread_bytes(&conn))
    );
    Ok(())
}
// ANCHOR_END: early
