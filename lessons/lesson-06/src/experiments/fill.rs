//! Experiment 3: a peer that never reads, and the two buffers filling.

use std::io::{IsTerminal, Write};
use std::thread;
use std::time::{Duration, Instant};

use netcore::lang::tr;
use netcore::sys::{unread_bytes, unsent_bytes};
use netcore::{Context, Error, tr};
use socket2::Socket;

use super::common::{PATIENCE, connected_pair, queue, show};
use crate::KIB;

// ANCHOR: fill
/// Experiment 3: A peer that never reads: the sender fills its send buffer and the
/// peer's receive buffer, then `send` would block.
pub(crate) fn fill_until_blocked() -> Result<(), Error> {
    let heading = tr(
        "3. The server never reads: how much can the client send before send() blocks?",
        "3. 服务端从不读取：客户端能发送多少，send() 才会阻塞？",
    );
    println!("{heading}");
    let (client, conn) = connected_pair()?;
    // Non-blocking, so that "would block" comes back as an error instead
    // of stopping the program.
    client.set_nonblocking(true).context(|| "set_nonblocking")?;
    let live = std::io::stdout().is_terminal();
    let chunk = vec![b'x'; 64 * KIB];
    let mut total = 0usize;
    let mut chunks = 0u32;
    let deadline = Instant::now() + PATIENCE;
    let mut stalled = false;
    while Instant::now() < deadline && chunks < 100_000 {
        match client.send(&chunk) {
            Ok(n) => {
                total += n;
                chunks += 1;
                stalled = false;
                if live || chunks.is_multiple_of(16) {
                    progress(live, total, &client, &conn);
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                // Give the kernel a moment to move bytes along; two would-
                // blocks in a row with nothing sent between them means full.
                if stalled {
                    break;
                }
                stalled = true;
                thread::sleep(Duration::from_millis(50));
            }
            Err(err) => return Err(Error::io(tr("send failed", "send 失败"), &err)),
        }
    }
    progress(live, total, &client, &conn);
    if live {
        println!();
    }
    let blocked = tr!(
        "send() would block after {total} bytes:",
        "发送 {total} 字节之后，send() 就会阻塞:"
    );
    println!("   {blocked}");
    let (outq, sndbuf) = (show(unsent_bytes(&client)), show(client.send_buffer_size()));
    let waiting = tr!(
        "{outq} bytes wait in the client's send buffer (SIOCOUTQ); its SO_SNDBUF is now {sndbuf}",
        "{outq} 字节等在客户端的发送缓冲区里 (SIOCOUTQ)；它的 SO_SNDBUF 现在是 {sndbuf}"
    );
    println!("     {waiting}");
    let (inq, rcvbuf) = (show(unread_bytes(&conn)), show(conn.recv_buffer_size()));
    let waiting = tr!(
        "{inq} bytes wait in the server's receive buffer (SIOCINQ); its SO_RCVBUF is now {rcvbuf}",
        "{inq} 字节等在服务端的接收缓冲区里 (SIOCINQ)；它的 SO_RCVBUF 现在是 {rcvbuf}"
    );
    println!("     {waiting}");
    let stalls = tr(
        "   A blocking send() would now wait until the server reads; a server that never\n   reads stalls its client, and a client that never reads stalls its server.",
        "   这时阻塞的 send() 会一直等到服务端读取；从不读取的服务端会卡住它的客户端，\n   从不读取的客户端也会卡住它的服务端。",
    );
    println!("{stalls}");
    Ok(())
}
// ANCHOR_END: fill

/// One line of progress: each queue, and a bar showing how full its own
/// buffer is. The sizes are read anew for every line: the kernel grows an
/// autotuned buffer while it fills.
fn progress(live: bool, total: usize, client: &Socket, conn: &Socket) {
    let out = queue(unsent_bytes(client));
    let inq = queue(unread_bytes(conn));
    let sndbuf = client.send_buffer_size().unwrap_or(0);
    let rcvbuf = conn.recv_buffer_size().unwrap_or(0);
    // In KiB, so that the line fits 80 columns and a live line does not
    // wrap (and scroll) on a terminal.
    let kib = |bytes: usize| bytes / 1024;
    let shown = |bytes: usize| format!("{}K", kib(bytes));
    // "sent", then the send buffer's bar and the receive buffer's.
    let (sent, send, recv) = (tr("sent", "已发送"), tr("send", "发送"), tr("recv", "接收"));
    let line = format!(
        "   {sent} {:>6}  {send} {} {:>6}/{:<6}  {recv} {} {:>6}/{}",
        shown(total),
        bar(kib(out), kib(sndbuf)),
        shown(out),
        shown(sndbuf),
        bar(kib(inq), kib(rcvbuf)),
        shown(inq),
        shown(rcvbuf)
    );
    if live {
        print!("\r{line}");
        let _ = std::io::stdout().flush();
    } else {
        println!("{line}");
    }
}

/// `[#####.....]`: `value` against `capacity`, never more than full (the
/// queue counts data bytes, the buffer's size the kernel's bookkeeping as
/// well, so the two are not exactly comparable).
fn bar(value: usize, capacity: usize) -> String {
    const WIDTH: usize = 10;
    let filled = (value * WIDTH)
        .checked_div(capacity)
        .unwrap_or(0)
        .min(WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(WIDTH - filled))
}
