// Lesson 05 in Rust as a student hands it in (std only, so that it builds
// offline): `cargo build --release` in a crate whose src/main.rs is this file,
// then ./target/release/server PORT.
// A thread per client; replies "ok, 收到了" in GBK to every read. Without a
// GBK codec in std, it prints the GBK bytes as they came, but only whole
// characters: a lead byte whose second byte has not come yet waits for the
// next read, so a split character prints whole.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// ok, 收到了 in GBK.
const REPLY: &[u8] = b"ok, \xca\xd5\xb5\xbd\xc1\xcb";

/// How many bytes of `b` are whole GBK characters.
fn whole(b: &[u8]) -> usize {
    let mut i = 0;
    while i < b.len() {
        if b[i] < 0x81 || b[i] == 0xff {
            i += 1;
        } else if i + 1 == b.len() {
            return i;
        } else {
            i += 2;
        }
    }
    i
}

fn serve(mut conn: TcpStream) {
    let who = conn.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let mut buf = [0u8; 2048];
    let mut kept = 0;
    loop {
        let n = match conn.read(&mut buf[kept..kept + 1024]) {
            Ok(0) | Err(_) => {
                println!("client offline: {who}");
                return;
            }
            Ok(n) => n + kept,
        };
        let done = whole(&buf[..n]);
        if done > 0 {
            let mut line = b"received: ".to_vec();
            line.extend_from_slice(&buf[..done]);
            line.extend_from_slice(format!(" {who}\n").as_bytes());
            let _ = std::io::stdout().lock().write_all(&line);
        }
        buf.copy_within(done..n, 0);
        kept = n - done;
        if conn.write_all(REPLY).is_err() {
            return;
        }
    }
}

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: server PORT");
        std::process::exit(2)
    });
    // std sets SO_REUSEADDR on Unix.
    let listener = TcpListener::bind(("0.0.0.0", port.parse::<u16>().unwrap_or(0)))
        .unwrap_or_else(|err| {
            eprintln!("server: bind: {err}");
            std::process::exit(1)
        });
    for conn in listener.incoming().flatten() {
        std::thread::spawn(move || serve(conn));
    }
}
