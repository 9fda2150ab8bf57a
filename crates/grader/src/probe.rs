//! Is anything listening on a port? Answered without connecting, so that a
//! single-client server's one `accept` is not used up by the question.
//!
//! On Linux the kernel lists every TCP socket in `/proc/net/tcp` and
//! `/proc/net/tcp6` (read by `proctools::tcp`); a socket in state `0A` is
//! listening. Elsewhere the grader falls back to connecting.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use proctools::tcp;

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

/// Every listening TCP socket on this machine (empty where /proc/net is
/// missing).
pub fn listening_sockets() -> Vec<Listening> {
    tcp::listeners()
        .into_iter()
        .map(|socket| Listening {
            port: socket.local.port(),
            inode: socket.inode,
            addr: socket.local.ip(),
        })
        .collect()
}

/// Whether the connection from loopback port `client` to the server's
/// port `server` is in CLOSE_WAIT on the server's side (state `08`): the
/// server's kernel received the end of stream, and the server has not
/// closed its socket.
pub fn close_wait(server: u16, client: u16) -> bool {
    tcp::sockets().iter().any(|socket| {
        socket.state == tcp::CLOSE_WAIT
            && socket.local.port() == server
            && socket.remote.port() == client
    })
}

/// Whether the kernel's tables can be read here.
pub fn available() -> bool {
    tcp::available()
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
    fn only_loopback_and_every_address_are_reachable_from_loopback() {
        let at = |addr: &str| Listening {
            port: 1,
            inode: 1,
            addr: addr.parse().unwrap(),
        };
        assert!(at("0.0.0.0").reachable_on_loopback());
        assert!(at("127.0.0.1").reachable_on_loopback());
        assert!(at("::").reachable_on_loopback());
        assert!(at("::ffff:127.0.0.1").reachable_on_loopback());
        assert!(!at("255.255.255.255").reachable_on_loopback());
        assert!(!at("10.0.0.1").reachable_on_loopback());
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
