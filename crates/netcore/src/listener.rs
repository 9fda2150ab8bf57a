//! A listener builder on socket2, for the places where listening is not the
//! lesson: experiments, fake peers in tests, the grader.
//!
//! The lessons that *teach* listening (03 and 05) spell out the same calls in
//! their own `main.rs`; this is the same sequence, written once:
//! `socket` → `setsockopt(SO_REUSEADDR)` → `bind` → `listen(backlog)`.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, bind_failed};

/// The tutorial's backlog: `server.listen(128)`.
pub const TUTORIAL_BACKLOG: i32 = 128;

/// Builds a listening TCP socket.
///
/// ```
/// let listener = netcore::listener::ListenerBuilder::new("127.0.0.1:0".parse().unwrap())
///     .backlog(16)
///     .listen()
///     .unwrap();
/// assert_ne!(listener.local_addr().unwrap().port(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct ListenerBuilder {
    addr: SocketAddr,
    backlog: i32,
    reuse_address: bool,
}

impl ListenerBuilder {
    /// A listener for `addr` with the tutorial's settings: SO_REUSEADDR on
    /// (except on Windows) and a backlog of 128.
    pub fn new(addr: SocketAddr) -> Self {
        ListenerBuilder {
            addr,
            backlog: TUTORIAL_BACKLOG,
            // On Windows SO_REUSEADDR lets a second socket steal a port that
            // is in use, which is not what the tutorial means; Windows never
            // holds a closed listener's port anyway.
            reuse_address: !cfg!(windows),
        }
    }

    /// The length of the queue of connections the kernel has completed but
    /// the program has not yet `accept`ed.
    pub fn backlog(mut self, backlog: i32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Whether to set SO_REUSEADDR before `bind`, so a restarted server can
    /// bind while its old connections sit in TIME_WAIT.
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// Creates the socket, sets the options, binds and listens.
    pub fn listen(self) -> Result<TcpListener, Error> {
        let addr = self.addr;
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(|err| Error::io("cannot create a socket", &err))?;
        if self.reuse_address {
            socket
                .set_reuse_address(true)
                .map_err(|err| Error::io("cannot set SO_REUSEADDR", &err))?;
        }
        socket
            .bind(&addr.into())
            .map_err(|err| bind_failed(addr, &err))?;
        socket
            .listen(self.backlog)
            .map_err(|err| Error::io(format_args!("cannot listen on {addr}"), &err))?;
        Ok(socket.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_listener_on_the_same_port_is_refused_with_a_hint() {
        let first = ListenerBuilder::new("127.0.0.1:0".parse().unwrap())
            .listen()
            .unwrap();
        let addr = first.local_addr().unwrap();
        let err = ListenerBuilder::new(addr).listen().unwrap_err();
        assert_eq!(err.kind(), Some(std::io::ErrorKind::AddrInUse));
        assert!(err.to_string().contains("--port"), "{err}");
    }

    #[test]
    fn accepts_a_connection() {
        let listener = ListenerBuilder::new("127.0.0.1:0".parse().unwrap())
            .listen()
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(addr).unwrap();
        let (_conn, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    }
}
