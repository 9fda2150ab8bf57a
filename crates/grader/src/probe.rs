//! Is anything listening on a port? Answered without connecting, so that a
//! single-client server's one `accept` is not used up by the question.
//!
//! On Linux the kernel lists every TCP socket in `/proc/net/tcp` and
//! `/proc/net/tcp6`; a socket in state `0A` is listening. Elsewhere the
//! grader falls back to connecting.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One listening socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listening {
    /// Its port.
    pub port: u16,
    /// Its inode, to find the process that owns it (`/proc/PID/fd`).
    pub inode: u64,
}

/// Every listening TCP socket on this machine (empty where /proc/net is
/// missing).
pub fn listening_sockets() -> Vec<Listening> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| parse_table(&table))
        .collect()
}

/// Parses a `/proc/net/tcp` table, keeping the listening sockets.
pub fn parse_table(table: &str) -> Vec<Listening> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&"0A") {
                return None;
            }
            let port = fields.get(1)?.rsplit(':').next()?;
            Some(Listening {
                port: u16::from_str_radix(port, 16).ok()?,
                inode: fields.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// Whether the connection from loopback port `client` to the server's
/// port `server` is in CLOSE_WAIT on the server's side (state `08`): the
/// server's kernel received the end of stream, and the server has not
/// closed its socket.
pub fn close_wait(server: u16, client: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .any(|table| {
            table.lines().skip(1).any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let port = |field: Option<&&str>| {
                    field
                        .and_then(|f| f.rsplit(':').next())
                        .and_then(|p| u16::from_str_radix(p, 16).ok())
                };
                fields.get(3) == Some(&"08")
                    && port(fields.get(1)) == Some(server)
                    && port(fields.get(2)) == Some(client)
            })
        })
}

/// Whether the kernel's tables can be read here.
pub fn available() -> bool {
    std::path::Path::new("/proc/net/tcp").exists()
}

/// Whether something listens on `port`: from /proc where it exists, else by
/// connecting to loopback (which uses up one `accept` of the server).
pub fn is_listening(port: u16) -> bool {
    if available() {
        listening_sockets().iter().any(|s| s.port == port)
    } else {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernels_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1F90 0100007F:D4A2 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1\n";
        assert_eq!(
            parse_table(table),
            vec![Listening {
                port: 8080,
                inode: 12345
            }]
        );
    }

    #[test]
    fn sees_a_real_listener_without_connecting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_listening(port));
        if available() {
            listener.set_nonblocking(true).unwrap();
            // Nothing connected: the one accept is still there to be used.
            assert!(listener.accept().is_err());
        }
        drop(listener);
        assert!(!is_listening(port));
    }
}
