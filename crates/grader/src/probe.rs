//! Is anything listening on a port? Answered without connecting, so that a
//! single-client server's one `accept` is not used up by the question.
//!
//! On Linux the kernel lists every TCP socket in `/proc/net/tcp` and
//! `/proc/net/tcp6`; a socket in state `0A` is listening. Elsewhere the
//! grader falls back to connecting.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

/// One listening socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listening {
    /// Its port.
    pub port: u16,
    /// Its inode, to find the process that owns it (`/proc/PID/fd`).
    pub inode: u64,
    /// The address it is bound to.
    pub addr: IpAddr,
}

impl Listening {
    /// Whether a client on loopback (`127.0.0.1`, as the grader is) can
    /// reach it: bound to every address, or to loopback. A socket bound to
    /// another address (a LAN address, or 255.255.255.255, which Linux
    /// accepts) refuses the grader's connections.
    pub fn reachable_on_loopback(&self) -> bool {
        match self.addr {
            IpAddr::V4(v4) => v4.is_unspecified() || v4.is_loopback(),
            IpAddr::V6(v6) => {
                v6.is_unspecified()
                    || v6
                        .to_ipv4_mapped()
                        .is_some_and(|v4| v4.is_unspecified() || v4.is_loopback())
            }
        }
    }
}

/// An address as `/proc/net/tcp{,6}` writes it: hex, each 32-bit word in
/// the machine's byte order.
fn parse_addr(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
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
            let (addr, port) = fields.get(1)?.split_once(':')?;
            Some(Listening {
                port: u16::from_str_radix(port, 16).ok()?,
                inode: fields.get(9)?.parse().ok()?,
                addr: parse_addr(addr)?,
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
                inode: 12345,
                addr: IpAddr::from([0, 0, 0, 0]),
            }]
        );
        assert_eq!(parse_addr("0100007F"), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(
            parse_addr("0000000000000000FFFF00000100007F"),
            Some("::ffff:127.0.0.1".parse().unwrap())
        );
        let far = Listening {
            port: 1,
            inode: 1,
            addr: IpAddr::from([255, 255, 255, 255]),
        };
        assert!(!far.reachable_on_loopback());
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
