//! Lesson 01: a socket is an IP address plus a port (tutorial section 1,
//! "socket").
//!
//! "Socket = (IP address : port)": this program shows it on your own
//! machine instead of saying it. It creates an IPv4 and an IPv6 socket, binds
//! them to port 0 so the OS picks a port, resolves a host name to every
//! address it has, and connects two sockets over loopback to show that a
//! connection has two ends, each an (IP, port). Run it with
//! `cargo run -p lesson-01`; the walkthrough is `lessons/lesson-01/README.md`.

mod args;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use netcore::pyrepr::PyAddr;
use netcore::{Context, Error};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const NAME: &str = "lesson-01";
const ABOUT: &str = "a socket is an IP address plus a port: IPv4 and IPv6 sockets, ports, names, and the two ends of a connection";

fn main() -> ExitCode {
    let host = args::parse();
    netcore::report(NAME, run(&host))
}

fn run(host: &str) -> Result<(), Error> {
    // ANCHOR: families
    // socket.socket(AF_INET, SOCK_STREAM) and socket.socket(AF_INET6, ...):
    // a socket is made for one address family. AF_INET speaks IPv4
    // (127.0.0.1), AF_INET6 speaks IPv6 (::1). SOCK_STREAM with TCP is the
    // reliable byte stream of the whole course.
    println!("1. A socket is created for an address family.");
    let ipv4 = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create an IPv4 socket")?;
    println!(
        "   IPv4 socket (AF_INET, SOCK_STREAM):  address {}",
        address(&ipv4)
    );
    let ipv6 = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP));
    match &ipv6 {
        Ok(socket) => println!(
            "   IPv6 socket (AF_INET6, SOCK_STREAM): address {}",
            address(socket)
        ),
        Err(err) => println!("   IPv6 socket: not available on this machine ({err})"),
    }
    println!("   Neither has an address yet: port 0 on the \"any\" address means \"not bound\".");
    // ANCHOR_END: families

    // ANCHOR: bind
    // bind((ip, 0)): port 0 asks the OS for any free port. The socket's
    // address is now a real (IP, port) pair: that pair *is* the socket's
    // name on the network.
    println!();
    println!("2. bind() gives a socket its (IP, port); port 0 lets the OS choose.");
    let loopback_v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    ipv4.bind(&loopback_v4.into())
        .context(|| format!("cannot bind {loopback_v4}"))?;
    println!("   IPv4: asked for {loopback_v4}, got {}", address(&ipv4));
    if let Ok(ipv6) = &ipv6 {
        let loopback_v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
        match ipv6.bind(&loopback_v6.into()) {
            Ok(()) => println!("   IPv6: asked for {loopback_v6}, got {}", address(ipv6)),
            Err(err) => println!("   IPv6: cannot bind {loopback_v6} here ({err})"),
        }
    }
    // ANCHOR_END: bind

    // ANCHOR: resolve
    // connect(("localhost", 8080)) first turns the name into addresses
    // (getaddrinfo). One name can have several, of both families; an AF_INET
    // socket can only use the IPv4 ones.
    println!();
    println!("3. A host name resolves to one or more IP addresses.");
    let addrs: Vec<SocketAddr> = (host, 0)
        .to_socket_addrs()
        .context(|| format!("cannot resolve host '{host}'"))?
        .collect();
    let mut seen: Vec<IpAddr> = Vec::new();
    for ip in addrs.iter().map(SocketAddr::ip) {
        if !seen.contains(&ip) {
            let family = if ip.is_ipv4() {
                "IPv4, AF_INET"
            } else {
                "IPv6, AF_INET6"
            };
            println!("   {host} -> {ip} ({family})");
            seen.push(ip);
        }
    }
    // ANCHOR_END: resolve

    // ANCHOR: pair
    // A connection joins two sockets. The server's listening socket has one
    // (IP, port); connect() gives the client a free port of its own; accept()
    // returns a new socket on the server's side. Each end's local address is
    // the other end's peer address.
    println!();
    println!("4. A connection has two ends, each an (IP, port).");
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    listener
        .bind(&loopback_v4.into())
        .context(|| format!("cannot bind {loopback_v4}"))?;
    listener.listen(1).context(|| "cannot listen")?;
    let server_addr = listener
        .local_addr()
        .context(|| "cannot read the address")?;
    println!("   server listens on    {}", python_form(&server_addr));

    let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a socket")?;
    client
        .connect(&server_addr)
        .context(|| "cannot connect over loopback")?;
    let (conn, _) = listener.accept().context(|| "accept failed")?;

    println!(
        "   client socket:       local {}  peer {}",
        python_form(&client.local_addr().context(|| "getsockname")?),
        python_form(&client.peer_addr().context(|| "getpeername")?)
    );
    println!(
        "   server's new socket: local {}  peer {}",
        python_form(&conn.local_addr().context(|| "getsockname")?),
        python_form(&conn.peer_addr().context(|| "getpeername")?)
    );
    println!("   The four numbers (client IP, client port, server IP, server port) name this");
    println!("   connection; the listening socket stays free to accept the next one.");
    // ANCHOR_END: pair
    Ok(())
}

/// A socket's own address, as `IP:port`.
fn address(socket: &Socket) -> String {
    match socket.local_addr().map(|a| a.as_socket()) {
        Ok(Some(addr)) => addr.to_string(),
        Ok(None) => "(not an IP address)".to_owned(),
        Err(err) => format!("(unknown: {err})"),
    }
}

/// An address as Python prints it: `('127.0.0.1', 8080)`.
fn python_form(addr: &SockAddr) -> String {
    addr.as_socket().map_or_else(
        || "(not an IP address)".to_owned(),
        |a| PyAddr(a).to_string(),
    )
}
