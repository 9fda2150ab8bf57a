//! The kernel's tables of TCP sockets, `/proc/net/tcp` and
//! `/proc/net/tcp6` (Linux): every socket of the network namespace, one line
//! each, read without touching the sockets themselves.
//!
//! So a tool can ask whether a server listens without connecting to it
//! (which would use up a single-client server's one `accept`), how many
//! connections wait in its accept queue, and whether a connection was left
//! in CLOSE_WAIT.
//!
//! A line holds, after its slot number: the local and remote addresses
//! (`IP:PORT` in hex, each 32-bit word of the IP in the machine's byte
//! order), the state in hex, `tx_queue:rx_queue` in hex, and further on the
//! socket's inode. For a listening socket `rx_queue` is the number of
//! connections waiting to be accepted. Listening sockets come first in the
//! table.

use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};

/// The two tables, IPv4 then IPv6.
pub const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// The state of a listening socket (`TCP_LISTEN`).
pub const LISTEN: u8 = 0x0A;

/// The state of a connection whose peer has closed its side while this
/// side has not (`TCP_CLOSE_WAIT`).
pub const CLOSE_WAIT: u8 = 0x08;

/// One line of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socket {
    /// The local address and port.
    pub local: SocketAddr,
    /// The remote address and port (`0.0.0.0:0` for a listener).
    pub remote: SocketAddr,
    /// The TCP state ([`LISTEN`], [`CLOSE_WAIT`], ...).
    pub state: u8,
    /// Bytes queued to send.
    pub tx_queue: u64,
    /// Bytes received and not read; for a listener, the connections waiting
    /// to be accepted.
    pub rx_queue: u64,
    /// The socket's inode, to find the process that holds it
    /// ([`crate::process::socket_inodes`]).
    pub inode: u64,
}

impl Socket {
    /// Parses one line of a table; `None` for the header or a line that is
    /// not one.
    pub fn parse(line: &str) -> Option<Socket> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (tx, rx) = fields.get(4)?.split_once(':')?;
        Some(Socket {
            local: parse_endpoint(fields.get(1)?)?,
            remote: parse_endpoint(fields.get(2)?)?,
            state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
            tx_queue: u64::from_str_radix(tx, 16).ok()?,
            rx_queue: u64::from_str_radix(rx, 16).ok()?,
            inode: fields.get(9)?.parse().ok()?,
        })
    }

    /// Whether it is a listening socket.
    pub fn listening(&self) -> bool {
        self.state == LISTEN
    }
}

/// The sockets of one table (`path`, one of [`TABLES`]), read line by line
/// as the caller iterates: one that stops early (at the end of the
/// listeners, say) does not read the thousands of connections after them.
pub fn table(path: &str) -> io::Result<impl Iterator<Item = Socket>> {
    let file = std::fs::File::open(path)?;
    Ok(BufReader::new(file)
        .lines()
        .skip(1)
        .map_while(Result::ok)
        .filter_map(|line| Socket::parse(&line)))
}

/// Every TCP socket of both tables (empty where there is no `/proc/net`).
pub fn sockets() -> Vec<Socket> {
    TABLES
        .iter()
        .filter_map(|path| table(path).ok())
        .flatten()
        .collect()
}

/// Every listening TCP socket (empty where there is no `/proc/net`).
pub fn listeners() -> Vec<Socket> {
    TABLES
        .iter()
        .filter_map(|path| table(path).ok())
        .flat_map(|table| table.filter(Socket::listening))
        .collect()
}

/// How many connections wait in the accept queue of the socket listening
/// on `port`; `None` when there is no such socket or no `/proc`.
///
/// A client that opens connections faster than the server accepts them
/// fills that queue (its size is the `listen` backlog); Linux then drops the
/// next handshakes, and those clients retry after a second.
pub fn accept_queue(port: u16) -> Option<u64> {
    for path in TABLES {
        let Ok(table) = table(path) else {
            continue;
        };
        // Listening sockets come first in the table: stop at the first
        // line that is not one, rather than reading every connection.
        if let Some(socket) = table
            .take_while(Socket::listening)
            .find(|s| s.local.port() == port)
        {
            return Some(socket.rx_queue);
        }
    }
    None
}

/// Whether the kernel's tables can be read here.
pub fn available() -> bool {
    std::path::Path::new(TABLES[0]).exists()
}

/// `IP:PORT` as the tables write it, in hex.
fn parse_endpoint(hex: &str) -> Option<SocketAddr> {
    let (ip, port) = hex.split_once(':')?;
    Some(SocketAddr::new(
        parse_ip(ip)?,
        u16::from_str_radix(port, 16).ok()?,
    ))
}

/// An IP as the tables write it: hex, each 32-bit word in the machine's
/// byte order.
fn parse_ip(hex: &str) -> Option<IpAddr> {
    if !hex.is_ascii() || !hex.len().is_multiple_of(8) {
        return None;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 table of a little-endian machine: a listener on port 8080
    /// with 3 connections waiting, and a connection to it.
    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D4A2 08 00000010:00000020 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn parses_the_kernels_table() {
        let sockets: Vec<Socket> = TABLE.lines().filter_map(Socket::parse).collect();
        if cfg!(target_endian = "big") {
            return; // the addresses are written in the machine's order
        }
        assert_eq!(
            sockets,
            vec![
                Socket {
                    local: "0.0.0.0:8080".parse().unwrap(),
                    remote: "0.0.0.0:0".parse().unwrap(),
                    state: LISTEN,
                    tx_queue: 0,
                    rx_queue: 3,
                    inode: 12345,
                },
                Socket {
                    local: "127.0.0.1:8080".parse().unwrap(),
                    remote: "127.0.0.1:54434".parse().unwrap(),
                    state: CLOSE_WAIT,
                    tx_queue: 16,
                    rx_queue: 32,
                    inode: 12346,
                },
            ]
        );
        assert!(sockets[0].listening() && !sockets[1].listening());
    }

    #[test]
    fn parses_ipv6_and_refuses_what_is_not_an_address() {
        if cfg!(target_endian = "little") {
            assert_eq!(
                parse_ip("0000000000000000FFFF00000100007F"),
                Some("::ffff:127.0.0.1".parse().unwrap())
            );
            assert_eq!(parse_ip("0100007F"), Some(IpAddr::from([127, 0, 0, 1])));
        }
        assert_eq!(parse_ip("0100007"), None);
        assert_eq!(parse_ip("0100007G"), None);
        assert_eq!(parse_ip("é100007F"), None);
        assert_eq!(Socket::parse("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sees_a_real_listener_and_its_queue_without_accepting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(available());
        assert!(listeners().iter().any(|s| s.local.port() == port));
        assert_eq!(accept_queue(port), Some(0));
        let a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(accept_queue(port), Some(2));
        let client = a.local_addr().unwrap().port();
        assert!(
            sockets()
                .iter()
                .any(|s| s.local.port() == client && s.remote.port() == port)
        );
        drop(listener);
        assert_eq!(accept_queue(port), None);
    }
}
