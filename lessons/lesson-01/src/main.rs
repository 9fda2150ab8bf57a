//! Lesson 01: a socket is an IP address plus a port (tutorial section 1,
//! "socket").
//!
//! "Socket = (IP address : port)": this program shows it on your own
//! machine instead of saying it. It creates an IPv4 and an IPv6 socket, binds
//! them to port 0 so the OS picks a port, resolves a host name to every
//! address it has, and connects two sockets over loopback to show that a
//! connection has two ends, each an (IP, port). Run it with
//! `cargo run -p lesson-01`; the walkthrough is `lessons/lesson-01/README.md`.
//! `--lang zh` (or a Chinese locale) prints it in Chinese, in the
//! tutorial's own terms.

mod args;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use netcore::lang::tr;
use netcore::pyrepr::PyAddr;
use netcore::tr;
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
    // reliable byte stream of the whole course. In Chinese, the heading is
    // the tutorial's "AddressFamily 表示IP地址类型, 分为IPv4和IPv6".
    let heading = tr(
        "1. A socket is created for an address family.",
        "1. 套接字按地址族创建：AddressFamily 表示IP地址类型，分为IPv4和IPv6。",
    );
    println!("{heading}");
    let ipv4 = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create an IPv4 socket", "无法创建 IPv4 套接字"))?;
    let (socket, addr) = (tr("socket", "套接字"), tr("address", "地址"));
    println!(
        "   IPv4 {socket} (AF_INET, SOCK_STREAM):  {addr} {}",
        address(&ipv4)
    );
    let ipv6 = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP));
    match &ipv6 {
        Ok(ipv6) => println!(
            "   IPv6 {socket} (AF_INET6, SOCK_STREAM): {addr} {}",
            address(ipv6)
        ),
        Err(err) => {
            let unavailable = tr("not available on this machine", "本机不支持");
            println!("   IPv6 {socket}: {unavailable} ({err})");
        }
    }
    let unbound = tr(
        "Neither has an address yet: port 0 on the \"any\" address means \"not bound\".",
        "两者都还没有地址：“任意”地址上的端口 0 表示“尚未绑定”。",
    );
    println!("   {unbound}");
    // ANCHOR_END: families

    // ANCHOR: bind
    // bind((ip, 0)): port 0 asks the OS for any free port. The socket's
    // address is now a real (IP, port) pair: that pair *is* the socket's
    // name on the network.
    let heading = tr(
        "2. bind() gives a socket its (IP, port); port 0 lets the OS choose.",
        "2. bind() 给套接字一个 (IP, 端口)；端口 0 让操作系统挑选。",
    );
    println!();
    println!("{heading}");
    let loopback_v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    ipv4.bind(&loopback_v4.into())
        .context(|| tr!("cannot bind {loopback_v4}", "无法绑定 {loopback_v4}"))?;
    let got = address(&ipv4);
    let line = tr!(
        "IPv4: asked for {loopback_v4}, got {got}",
        "IPv4: 请求 {loopback_v4}，得到 {got}"
    );
    println!("   {line}");
    if let Ok(ipv6) = &ipv6 {
        let loopback_v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
        let line = match ipv6.bind(&loopback_v6.into()) {
            Ok(()) => {
                let got = address(ipv6);
                tr!(
                    "IPv6: asked for {loopback_v6}, got {got}",
                    "IPv6: 请求 {loopback_v6}，得到 {got}"
                )
            }
            Err(err) => tr!(
                "IPv6: cannot bind {loopback_v6} here ({err})",
                "IPv6: 这里无法绑定 {loopback_v6} ({err})"
            ),
        };
        println!("   {line}");
    }
    // ANCHOR_END: bind

    // ANCHOR: resolve
    // connect(("localhost", 8080)) first turns the name into addresses
    // (getaddrinfo). One name can have several, of both families; an AF_INET
    // socket can only use the IPv4 ones.
    let heading = tr(
        "3. A host name resolves to one or more IP addresses.",
        "3. 一个主机名可以解析成一个或多个 IP地址。",
    );
    println!();
    println!("{heading}");
    let addrs: Vec<SocketAddr> = (host, 0)
        .to_socket_addrs()
        .context(|| tr!("cannot resolve host '{host}'", "无法解析主机 '{host}'"))?
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
    let heading = tr(
        "4. A connection has two ends, each an (IP, port).",
        "4. 一个连接有两端，每一端都是一个 (IP, 端口)。",
    );
    println!();
    println!("{heading}");
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    listener
        .bind(&loopback_v4.into())
        .context(|| tr!("cannot bind {loopback_v4}", "无法绑定 {loopback_v4}"))?;
    listener
        .listen(1)
        .context(|| tr("cannot listen", "无法监听"))?;
    let server_addr = listener
        .local_addr()
        .context(|| tr("cannot read the address", "无法读取地址"))?;
    let listens = tr("server listens on   ", "服务端监听地址:   ");
    println!("   {listens} {}", python_form(&server_addr));

    let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context(|| tr("cannot create a socket", "无法创建套接字"))?;
    client
        .connect(&server_addr)
        .context(|| tr("cannot connect over loopback", "无法通过回环地址连接"))?;
    let (conn, _) = listener
        .accept()
        .context(|| tr("accept failed", "accept 失败"))?;

    // Each end's local address and peer address (getsockname and
    // getpeername), labels aligned in either language.
    let (local, peer) = (tr("local", "本地"), tr("peer", "对端"));
    let client_socket = tr("client socket:      ", "客户端套接字:     ");
    println!(
        "   {client_socket} {local} {}  {peer} {}",
        python_form(&client.local_addr().context(|| "getsockname")?),
        python_form(&client.peer_addr().context(|| "getpeername")?)
    );
    let new_socket = tr("server's new socket:", "服务端的新套接字: ");
    println!(
        "   {new_socket} {local} {}  {peer} {}",
        python_form(&conn.local_addr().context(|| "getsockname")?),
        python_form(&conn.peer_addr().context(|| "getpeername")?)
    );
    let four_numbers = tr(
        "   The four numbers (client IP, client port, server IP, server port) name this\n   connection; the listening socket stays free to accept the next one.",
        "   （客户端 IP、客户端端口、服务端 IP、服务端端口）这四个数标识了这个连接；\n   监听套接字仍然可以接受下一个连接。",
    );
    println!("{four_numbers}");
    // ANCHOR_END: pair
    Ok(())
}

/// A socket's own address, as `IP:port`.
fn address(socket: &Socket) -> String {
    match socket.local_addr().map(|a| a.as_socket()) {
        Ok(Some(addr)) => addr.to_string(),
        Ok(None) => tr("(not an IP address)", "（不是 IP地址）").to_owned(),
        Err(err) => tr!("(unknown: {err})", "（未知: {err}）"),
    }
}

/// An address as Python prints it: `('127.0.0.1', 8080)`.
fn python_form(addr: &SockAddr) -> String {
    addr.as_socket().map_or_else(
        || tr("(not an IP address)", "（不是 IP地址）").to_owned(),
        |a| PyAddr(a).to_string(),
    )
}
