//! One-line errors with a hint, for the failures a learner actually meets.
//!
//! A lesson returns `Result<(), Error>` from its `run` function and hands it
//! to [`crate::report`], which prints `lesson-NN: error: ...` on one line and
//! exits with 1. No panics, no backtraces.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::tr;

/// An error a lesson reports to the learner: what it was doing, what the OS
/// said, and where useful a hint for what to try next.
#[derive(Debug)]
pub struct Error {
    message: String,
    kind: Option<io::ErrorKind>,
    hint: Option<String>,
}

impl Error {
    /// An error with a message of its own (no OS error behind it).
    pub fn msg(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            kind: None,
            hint: None,
        }
    }

    /// `doing: what the OS said`, e.g. `cannot connect to 127.0.0.1:8080:
    /// connection refused (os error 111)`.
    pub fn io(doing: impl fmt::Display, err: &io::Error) -> Self {
        Error {
            message: format!("{doing}: {}", describe(err)),
            kind: Some(err.kind()),
            hint: None,
        }
    }

    /// Adds a hint, printed after the message on the same line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The kind of the OS error behind this one, if any.
    pub fn kind(&self) -> Option<io::ErrorKind> {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "{}{hint}", crate::lang::tr(". Hint: ", "。提示："))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<crate::text::EncodeError> for Error {
    fn from(err: crate::text::EncodeError) -> Self {
        Error::msg(err.to_string())
    }
}

/// Whether a `recv` or `send` failed because its timeout
/// (`set_read_timeout`, `set_write_timeout`) expired: Unix says "would
/// block", Windows "timed out".
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// What the OS said, as a clause: `connection refused (os error 111)`. In
/// Chinese the errors a learner meets most are said in Chinese, with the
/// same `(os error N)` to search for: `连接被拒绝 (os error 111)`.
pub fn describe(err: &io::Error) -> String {
    if crate::lang::current() == crate::lang::Lang::Zh
        && let Some(text) = describe_zh(err.kind())
    {
        return match err.raw_os_error() {
            Some(code) => format!("{text} (os error {code})"),
            None => text.to_owned(),
        };
    }
    let text = err.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", err.kind()),
    }
}

/// The Chinese for the OS errors a learner meets most.
fn describe_zh(kind: io::ErrorKind) -> Option<&'static str> {
    use io::ErrorKind::*;
    Some(match kind {
        ConnectionRefused => "连接被拒绝",
        ConnectionReset => "连接被对端重置",
        ConnectionAborted => "连接被中止",
        BrokenPipe => "管道已断开（对端已关闭连接）",
        AddrInUse => "地址已被占用",
        AddrNotAvailable => "无法使用该地址",
        PermissionDenied => "权限不足",
        TimedOut => "超时",
        NotConnected => "套接字未连接",
        NotFound => "找不到",
        _ => return None,
    })
}

/// Adds what the program was doing to an I/O error.
///
/// ```
/// use netcore::Context;
/// # netcore::lang::set(netcore::lang::Lang::En);
/// let err = std::fs::read("/no/such/file").context(|| "cannot read /no/such/file").unwrap_err();
/// assert!(err.to_string().starts_with("cannot read /no/such/file: no such file"));
/// ```
pub trait Context<T> {
    /// Wraps the error with `doing()`, evaluated only on failure.
    fn context<D: fmt::Display>(self, doing: impl FnOnce() -> D) -> Result<T, Error>;
}

impl<T> Context<T> for io::Result<T> {
    fn context<D: fmt::Display>(self, doing: impl FnOnce() -> D) -> Result<T, Error> {
        self.map_err(|err| Error::io(doing(), &err))
    }
}

/// The error for a failed `connect` to `addr`, with a hint when nothing is
/// listening there. `start` is the command that starts a matching server.
///
/// A refused IPv6 address gets one more hint: the course's servers listen on
/// `0.0.0.0` by default, every IPv4 address and no IPv6 one, so a client
/// that asks `::1` is refused by a server that is running.
pub fn connect_failed(addr: SocketAddr, err: &io::Error, start: &str) -> Error {
    let error = Error::io(tr!("cannot connect to {addr}", "无法连接 {addr}"), err);
    let port = addr.port();
    match err.kind() {
        io::ErrorKind::ConnectionRefused if addr.is_ipv6() => error.hint(tr!(
            "nothing is listening on port {port} at this IPv6 address; the server may be listening on IPv4 only (as the course's servers do by default): try --host 127.0.0.1, or start the server first with `{start}`",
            "这个 IPv6 地址的端口 {port} 上没有程序在监听；服务端可能只监听 IPv4（本课程的服务端默认如此）：试试 --host 127.0.0.1，或者先用 `{start}` 启动服务端"
        )),
        io::ErrorKind::ConnectionRefused => error.hint(tr!(
            "nothing is listening on port {port}; start the server first with `{start}`, or check --host and --port",
            "端口 {port} 上没有程序在监听；请先用 `{start}` 启动服务端，或检查 --host 和 --port"
        )),
        io::ErrorKind::TimedOut => error.hint(tr!(
            "the host did not answer; check --host",
            "主机没有应答；请检查 --host"
        )),
        _ => error,
    }
}

/// The error for a failed `bind` to `addr`, with a hint for a port in use
/// and for the ports below 1024 that need privileges.
pub fn bind_failed(addr: SocketAddr, err: &io::Error) -> Error {
    let error = Error::io(tr!("cannot bind {addr}", "无法绑定 {addr}"), err);
    let port = addr.port();
    match err.kind() {
        io::ErrorKind::AddrInUse => error.hint(tr!(
            "port {port} is already in use, perhaps by another server of this course; stop it, or choose another port with --port (--port 0 lets the OS pick)",
            "端口 {port} 已被占用，也许是本课程的另一个服务端；请先停掉它，或用 --port 换一个端口（--port 0 让操作系统挑选）"
        )),
        io::ErrorKind::PermissionDenied if port < 1024 => error.hint(tr!(
            "ports below 1024 need administrator rights; use a higher --port such as 8080 instead of {port}",
            "1024 以下的端口需要管理员权限；请用更大的 --port，例如用 8080 代替 {port}"
        )),
        io::ErrorKind::AddrNotAvailable => error.hint(tr!(
            "that IP address is not one of this machine's; check --host",
            "这个 IP 地址不属于本机；请检查 --host"
        )),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_with_hint() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let err = connect_failed(
            addr,
            &io::Error::from(io::ErrorKind::ConnectionRefused),
            "cargo run -p lesson-03",
        );
        let text = err.to_string();
        assert!(text.starts_with("cannot connect to 127.0.0.1:9: connection refused"));
        assert!(text.contains("cargo run -p lesson-03"));
        assert!(!text.contains('\n'));
        assert_eq!(err.kind(), Some(io::ErrorKind::ConnectionRefused));
    }

    #[test]
    fn a_refused_ipv6_address_suggests_ipv4() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let text = connect_failed(v6, &refused, "cargo run -p lesson-03").to_string();
        assert!(text.starts_with("cannot connect to [::1]:8080: "), "{text}");
        assert!(text.contains("IPv4 only"), "{text}");
        assert!(text.contains("--host 127.0.0.1"), "{text}");
        assert!(text.contains("cargo run -p lesson-03"), "{text}");
        assert!(!text.contains('\n'), "{text}");
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let text = connect_failed(v4, &refused, "cargo run -p lesson-03").to_string();
        assert!(!text.contains("IPv4 only"), "{text}");
    }

    #[test]
    fn port_in_use_names_the_port_and_the_flag() {
        let addr: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let text = bind_failed(addr, &io::Error::from(io::ErrorKind::AddrInUse)).to_string();
        assert!(text.contains("port 8080 is already in use"), "{text}");
        assert!(text.contains("--port"), "{text}");
    }

    #[test]
    fn describe_lowercases_the_os_message() {
        let err = io::Error::from_raw_os_error(111);
        if cfg!(target_os = "linux") {
            assert_eq!(describe(&err), "connection refused (os error 111)");
        }
    }
}
