//! Lesson 03 in Rust, a single server that trusts its input:
//! `rustc --edition 2021 -O server03_panics.rs && ./server03_panics PORT`
//!
//! std has no GBK codec, so it checks that the message is GBK by hand and
//! prints its bytes as they are (the grader accepts GBK output). The fault is
//! the `.unwrap()` on that check: bytes that are not GBK panic the server, as
//! `String::from_utf8(data).unwrap()` would on bytes that are not UTF-8.
use std::io::{Read, Write};
use std::net::TcpListener;

/// The bytes, if they are GBK: ASCII, or a lead byte 0x81-0xFE followed by a
/// trail byte 0x40-0xFE other than 0x7F.
fn gbk(data: &[u8]) -> Result<&[u8], String> {
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            0x00..=0x7f => i += 1,
            0x81..=0xfe if matches!(data.get(i + 1), Some(0x40..=0x7e | 0x80..=0xfe)) => i += 2,
            byte => return Err(format!("byte {byte:#04x} at {i} is not GBK")),
        }
    }
    Ok(data)
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .expect("usage: server03_panics PORT")
        .parse()
        .expect("PORT must be a number");
    // std's bind sets SO_REUSEADDR (on Unix) and listens with a backlog of 128.
    let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind");
    let (mut client, address) = listener.accept().expect("accept");
    let mut buffer = [0u8; 1024];
    let n = client.read(&mut buffer).expect("recv");
    let message = gbk(&buffer[..n]).unwrap();
    let mut out = std::io::stdout().lock();
    out.write_all(b"received: ").unwrap();
    out.write_all(message).unwrap();
    writeln!(out, " {address}").unwrap();
    out.flush().unwrap();
    // ok, 问题正在处理中... in GBK
    client
        .write_all(b"ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0...")
        .expect("send");
    drop(client);
    drop(listener);
}
