//! Experiment 4: a byte stream has no message boundaries.

use std::io::Read;

use netcore::pyrepr::PyBytes;
use netcore::sys::unread_bytes;
use netcore::{Context, Error};

use super::common::{connected_pair, queue, wait_for};

// ANCHOR: boundaries
/// Experiment 4: TCP carries a stream of bytes, not messages.
pub(crate) fn no_message_boundaries() -> Result<(), Error> {
    println!("4. A byte stream has no message boundaries.");
    let (client, conn) = connected_pair()?;
    client.send(b"hello").context(|| "send failed")?;
    client.send(b"world").context(|| "send failed")?;
    println!("   client.send(b'hello'); client.send(b'world')");
    wait_for(|| queue(unread_bytes(&conn)) >= 10);
    let mut buffer = vec![0u8; 1024];
    let n = (&conn).read(&mut buffer).context(|| "recv failed")?;
    println!(
        "   conn.recv(1024) -> {} ({n} bytes): two sends, one recv",
        PyBytes(&buffer[..n])
    );

    let big = vec![b'a'; 10_000];
    let mut sent = 0;
    while sent < big.len() {
        sent += client.send(&big[sent..]).context(|| "send failed")?;
    }
    println!("   client.send(10000 bytes)");
    let mut sizes = Vec::new();
    let mut received = 0;
    while received < big.len() {
        let n = (&conn).read(&mut buffer).context(|| "recv failed")?;
        if n == 0 {
            break;
        }
        sizes.push(n);
        received += n;
    }
    println!(
        "   conn.recv(1024) had to be called {} times: {sizes:?}",
        sizes.len()
    );
    println!(
        "   The receiver must find the messages itself: by length, by delimiter, or by close."
    );
    Ok(())
}
// ANCHOR_END: boundaries
