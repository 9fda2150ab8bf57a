//! The course's command-line conventions, shared by every lesson.
//!
//! - Servers: `--host` (default `0.0.0.0`, the tutorial's `""`), `--port`
//!   (default `8080`; `0` lets the OS choose), `--encoding`.
//! - Clients: `--host` (default `127.0.0.1`), `--port` (default `8080`),
//!   `--message TEXT`, `--encoding gbk|utf-8` (default `gbk`).
//! - `--lang en|zh` on every binary ([`lang`]): the tutorial's Chinese
//!   labels, or English; without it the locale decides
//!   ([`crate::lang::Lang::from_env`]).
//! - `--help` on every binary, laid out by [`Help`]. A bad flag or value is
//!   a usage error: one line on stderr and exit code 2. So is a count out
//!   of its range ([`count`]), and a client's `--port 0` or empty
//!   `--message`.
//! - [`typed_lines`]: the lines an interactive mode reads from stdin, with
//!   empty lines and lines that are not UTF-8 skipped with a note.
//!
//! Each program reads its flags with a `lexopt` loop of its own, one `match`
//! arm per flag; a learner's first build waits about a quarter of a second
//! for lexopt, and a lesson's flags read top to bottom. What is shared is
//! here: the values' checks and their one-line errors ([`port`],
//! [`encoding`], [`count`]), [`parse_or_exit`], and the plain server's and
//! client's flags ([`ServerOptions`], [`ClientOptions`]).

mod help;

pub use help::{Help, columns, wrap};

use std::ffi::OsString;
use std::fmt::Display;
use std::io::{self, BufRead};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::ops::RangeInclusive;

use lexopt::prelude::*;

use crate::error::Error;
use crate::text::Encoding;
use crate::tr;

/// The exit code of a usage error (a wrong flag or value), as in most Unix
/// tools.
pub const USAGE_EXIT_CODE: i32 = 2;

/// The port every lesson uses unless told otherwise, as in the tutorial.
pub const DEFAULT_PORT: u16 = 8080;

/// Runs `parse` on the process's arguments; a usage error it returns is
/// printed as one line (`PROGRAM: error: ... (see PROGRAM --help)`) and
/// ends the program with exit code 2.
///
/// Every lesson calls this first, so it is also where the program is set up
/// to end quietly when its stdout is closed
/// ([`crate::sys::exit_quietly_on_closed_stdout`]): `lesson-01 | head -1`
/// then stops like any Unix tool, instead of `println!` panicking with a
/// backtrace (exit 101) on the "broken pipe" error. A `send` on a closed
/// socket is unaffected: it still fails with an error the lesson reports,
/// and the program goes on.
pub fn parse_or_exit<T>(
    program: &str,
    parse: impl FnOnce(&mut lexopt::Parser) -> Result<T, lexopt::Error>,
) -> T {
    crate::sys::exit_quietly_on_closed_stdout();
    match parse(&mut lexopt::Parser::from_env()) {
        Ok(parsed) => parsed,
        Err(err) => exit_usage(program, usage_message(&err)),
    }
}

/// Prints a usage error as one line on stderr and exits with 2.
pub fn exit_usage(program: &str, message: impl Display) -> ! {
    eprintln!("{}", usage_line(program, message));
    std::process::exit(USAGE_EXIT_CODE)
}

/// A usage error as the course prints it, on one line: a control character
/// (a newline in a value) is shown escaped.
fn usage_line(program: &str, message: impl Display) -> String {
    let message: String = message
        .to_string()
        .chars()
        .map(|c| match c {
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect();
    crate::tr!(
        "{program}: error: {message} (see {program} --help)",
        "{program}: 错误: {message}（见 {program} --help）"
    )
}

/// What lexopt found wrong, in the course's words.
fn usage_message(err: &lexopt::Error) -> String {
    use lexopt::Error::*;
    match err {
        UnexpectedOption(option) => tr!("unknown option '{option}'", "未知选项 '{option}'"),
        UnexpectedArgument(arg) => {
            let arg = arg.to_string_lossy();
            tr!("unexpected argument '{arg}'", "多余的参数 '{arg}'")
        }
        UnexpectedValue { option, .. } => {
            tr!("option {option} takes no value", "选项 {option} 不带值")
        }
        MissingValue {
            option: Some(option),
        } => tr!("option {option} needs a value", "选项 {option} 需要一个值"),
        MissingValue { option: None } => tr!("a value is missing", "缺少一个值"),
        NonUnicodeValue(raw) => tr!(
            "argument {raw:?} is not valid Unicode",
            "参数 {raw:?} 不是有效的 Unicode"
        ),
        ParsingFailed { value, error } => {
            tr!(
                "invalid value '{value}': {error}",
                "无效的值 '{value}': {error}"
            )
        }
        Custom(err) => err.to_string(),
    }
}

/// The value of `flag` (`--port`) as a port: 0 to 65535.
pub fn port(flag: &str, value: OsString) -> Result<u16, lexopt::Error> {
    let value = value.string()?;
    value.parse().map_err(|_| {
        tr!(
            "invalid value '{value}' for {flag}: expected a port number from 0 to 65535",
            "{flag} 的值 '{value}' 无效：端口号应在 0 到 65535 之间"
        )
        .into()
    })
}

/// The value of `--lang`: `en` or `zh` ([`crate::lang::Lang`]), which
/// becomes the process's language at once, so that the errors after it
/// are in it too. Every program's flag loop has an arm for it, and
/// [`Help`] lists it.
pub fn lang(value: OsString) -> Result<(), lexopt::Error> {
    let value = value.string()?;
    let lang: crate::lang::Lang = value
        .parse()
        .map_err(|why| tr!("invalid value for --lang: {why}", "--lang 的值无效：{why}"))?;
    crate::lang::set(lang);
    Ok(())
}

/// The value of `flag` (`--encoding`) as an encoding: `gbk` or `utf-8`.
pub fn encoding(flag: &str, value: OsString) -> Result<Encoding, lexopt::Error> {
    let value = value.string()?;
    value
        .parse()
        .map_err(|why| tr!("invalid value for {flag}: {why}", "{flag} 的值无效：{why}").into())
}

/// The value of `flag` as a whole number within `range`; the error names
/// the range (`--runs 0`: "expected a whole number from 1 to 100").
///
/// ```
/// # netcore::lang::set(netcore::lang::Lang::En);
/// let runs = |value: &str| netcore::cli::count("--runs", value.into(), 1..=100);
/// assert_eq!(runs("100").unwrap(), 100);
/// assert!(runs("0").unwrap_err().to_string().ends_with("from 1 to 100"));
/// ```
pub fn count(
    flag: &str,
    value: OsString,
    range: RangeInclusive<u64>,
) -> Result<u64, lexopt::Error> {
    let value = value.string()?;
    match value.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => {
            let expected = match (*range.start(), *range.end()) {
                (0, u64::MAX) => tr!("a whole number", "一个整数"),
                (min, u64::MAX) => tr!("a whole number, at least {min}", "至少为 {min} 的整数"),
                (min, max) => tr!(
                    "a whole number from {min} to {max}",
                    "{min} 到 {max} 之间的整数"
                ),
            };
            Err(tr!(
                "invalid value '{value}' for {flag}: expected {expected}",
                "{flag} 的值 '{value}' 无效：应为 {expected}"
            )
            .into())
        }
    }
}

/// The flags every server takes: `--host`, `--port`, `--encoding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOptions {
    /// Where to listen: an IP address or name; `0.0.0.0` (or `""`) is every
    /// IPv4 address of this machine, `::` every IPv6 one.
    pub host: String,
    /// The port to listen on; 0 lets the OS choose a free one.
    pub port: u16,
    /// How the server decodes what it receives and encodes its replies.
    pub encoding: Encoding,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            host: "0.0.0.0".to_owned(),
            port: DEFAULT_PORT,
            encoding: Encoding::Gbk,
        }
    }
}

impl ServerOptions {
    /// A server's help, to extend with its own options.
    pub fn help(program: &'static str, about: &'static str) -> Help {
        let defaults = ServerOptions::default();
        Help::new(program, about)
            .option(
                "--host HOST",
                "address to listen on; 0.0.0.0 (or \"\") is every IPv4 address, :: every IPv6 one",
            )
            .default(defaults.host)
            .option(
                "--port PORT",
                "port to listen on; 0 lets the OS choose a free one",
            )
            .default(defaults.port)
            .option(
                "--encoding gbk|utf-8",
                "how to decode what clients send and encode replies",
            )
            .default(defaults.encoding)
    }

    /// Parses the process's arguments as a plain server's, exiting on
    /// `--help` or a usage error.
    pub fn parse(program: &'static str, about: &'static str) -> Self {
        let help = Self::help(program, about);
        parse_or_exit(program, |parser| Self::parse_from(parser, &help))
    }

    /// Parses a plain server's flags; `--help` prints `help` and exits.
    pub fn parse_from(parser: &mut lexopt::Parser, help: &Help) -> Result<Self, lexopt::Error> {
        let mut options = ServerOptions::default();
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => options.host = parser.value()?.string()?,
                Long("port") => options.port = port("--port", parser.value()?)?,
                Long("encoding") => options.encoding = encoding("--encoding", parser.value()?)?,
                Long("lang") => lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(options)
    }

    /// The address to bind: `--host` resolved, with `--port`.
    pub fn addr(&self) -> Result<SocketAddr, Error> {
        resolve(&self.host, self.port)
    }
}

/// The flags every client takes: `--host`, `--port`, `--message`, `--encoding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// The server's IP address or name.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// The text to send.
    pub message: String,
    /// How to encode the message and decode the reply.
    pub encoding: Encoding,
}

impl ClientOptions {
    /// The defaults: the server on this machine's port 8080, `message` in
    /// GBK.
    pub fn new(message: &str) -> Self {
        ClientOptions {
            host: "127.0.0.1".to_owned(),
            port: DEFAULT_PORT,
            message: message.to_owned(),
            encoding: Encoding::Gbk,
        }
    }

    /// A client's help, to extend with its own options.
    pub fn help(program: &'static str, about: &'static str, default_message: &str) -> Help {
        let defaults = ClientOptions::new(default_message);
        Help::new(program, about)
            .option("--host HOST", "server to connect to (IP address or name)")
            .default(defaults.host)
            .option("--port PORT", "server's port")
            .default(defaults.port)
            .option("--message TEXT", "text to send")
            .default(defaults.message)
            .option(
                "--encoding gbk|utf-8",
                "how to encode the message and decode the reply",
            )
            .default(defaults.encoding)
    }

    /// Parses the process's arguments as a plain client's, exiting on
    /// `--help` or a usage error.
    pub fn parse(program: &'static str, about: &'static str, default_message: &str) -> Self {
        let help = Self::help(program, about, default_message);
        parse_or_exit(program, |parser| {
            let mut options = ClientOptions::new(default_message);
            while let Some(arg) = parser.next()? {
                match arg {
                    Long("host") => options.host = parser.value()?.string()?,
                    Long("port") => options.port = port("--port", parser.value()?)?,
                    Long("message") => options.message = parser.value()?.string()?,
                    Long("encoding") => options.encoding = encoding("--encoding", parser.value()?)?,
                    Long("lang") => lang(parser.value()?)?,
                    Short('h') | Long("help") => help.print_and_exit(),
                    _ => return Err(arg.unexpected()),
                }
            }
            options.check()?;
            Ok(options)
        })
    }

    /// Refuses, as usage errors, `--port 0`, an empty message, and a
    /// message the encoding cannot represent.
    pub fn check(&self) -> Result<(), lexopt::Error> {
        if self.port == 0 {
            return Err(tr!(
                "--port 0: a client cannot connect to port 0; give the port the server listens on",
                "--port 0：客户端不能连接端口 0；请给出服务端监听的端口"
            )
            .into());
        }
        if self.message.is_empty() {
            // send() of 0 bytes sends nothing: the server would never see a
            // message, never reply, and the client would wait forever.
            return Err(tr!(
                "--message is empty: there would be nothing to send",
                "--message 为空：没有可发送的内容"
            )
            .into());
        }
        match self.encoding.encode(&self.message) {
            Ok(_) => Ok(()),
            Err(err) => Err(format!("--message: {err}").into()),
        }
    }

    /// The server's address: `--host` resolved (IPv4 first, as the
    /// tutorial's `AF_INET` socket would), with `--port`.
    pub fn addr(&self) -> Result<SocketAddr, Error> {
        resolve(&self.host, self.port)
    }
}

/// Resolves `host` (an IP address, `[v6]`, a name, or `""` for every IPv4
/// address, as in Python) and `port` to one address, preferring IPv4 as the
/// tutorial's `AF_INET` sockets do.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|err| {
            Error::io(
                tr!("cannot resolve host '{host}'", "无法解析主机 '{host}'"),
                &err,
            )
            .hint(tr!(
                "check --host; use an IP address such as 127.0.0.1",
                "请检查 --host；可以用 127.0.0.1 这样的 IP 地址"
            ))
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| {
            Error::msg(tr!(
                "host '{host}' has no address",
                "主机 '{host}' 没有地址"
            ))
        })
}

/// The lines an interactive mode reads from `input` (stdin), one message
/// each, without their line ending (`\n` or `\r\n`).
///
/// Two kinds of line are skipped, each with a one-line note on stderr
/// (`PROGRAM: ...`), so that a loop over them sees only text worth sending:
///
/// - an empty line: `send` of 0 bytes sends nothing, so the peer would
///   never see a message and never answer, and the program would wait for
///   that answer forever;
/// - a line that is not valid UTF-8 (a terminal set to another encoding):
///   the program could only guess at the text; it says so and goes on,
///   instead of ending the conversation.
///
/// ```
/// let input: &[u8] = b"hi\n\n\xff\xfe\r\nbye\r\n";
/// let lines: Vec<String> = netcore::cli::typed_lines("doc", input)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(lines, ["hi", "bye"]);
/// ```
pub fn typed_lines<R: BufRead>(program: &'static str, input: R) -> TypedLines<R> {
    TypedLines { program, input }
}

/// The iterator of [`typed_lines`]: each item is a line to send, or the
/// error that ended reading.
#[derive(Debug)]
pub struct TypedLines<R> {
    program: &'static str,
    input: R,
}

impl<R: BufRead> Iterator for TypedLines<R> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut raw = Vec::new();
            match self.input.read_until(b'\n', &mut raw) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Some(Err(err)),
            }
            if raw.last() == Some(&b'\n') {
                raw.pop();
                if raw.last() == Some(&b'\r') {
                    raw.pop();
                }
            }
            match String::from_utf8(raw) {
                Ok(line) if line.is_empty() => {
                    let program = self.program;
                    eprintln!(
                        "{}",
                        tr!(
                            "{program}: empty line, nothing sent",
                            "{program}: 空行，未发送"
                        )
                    );
                }
                Ok(line) => return Some(Ok(line)),
                Err(_) => {
                    let program = self.program;
                    eprintln!(
                        "{}",
                        tr!(
                            "{program}: not sent: that line is not valid UTF-8 (is the terminal set to UTF-8?)",
                            "{program}: 未发送：这一行不是有效的 UTF-8（终端是否设为 UTF-8？）"
                        )
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(args: &[&str]) -> Result<ServerOptions, String> {
        let help = ServerOptions::help("s", "a server");
        let mut parser = lexopt::Parser::from_args(args);
        ServerOptions::parse_from(&mut parser, &help).map_err(|err| usage_message(&err))
    }

    #[test]
    fn defaults_follow_the_conventions() {
        let options = server(&[]).unwrap();
        assert_eq!(options, ServerOptions::default());
        assert_eq!(
            (options.host.as_str(), options.port, options.encoding),
            ("0.0.0.0", 8080, Encoding::Gbk)
        );
        let client = ClientOptions::new("你好");
        assert_eq!((client.host.as_str(), client.port), ("127.0.0.1", 8080));
        assert_eq!(client.message, "你好");
    }

    #[test]
    fn both_value_forms_are_accepted() {
        let options = server(&["--port", "0", "--host=::1", "--encoding", "UTF-8"]).unwrap();
        assert_eq!(options.port, 0);
        assert_eq!(options.host, "::1");
        assert_eq!(options.encoding, Encoding::Utf8);
        assert_eq!(server(&["--host="]).unwrap().host, "");
    }

    #[test]
    fn mistakes_are_usage_errors_in_the_courses_words() {
        for (args, expected) in [
            (
                &["--port", "70000"][..],
                "invalid value '70000' for --port: expected a port number from 0 to 65535",
            ),
            (&["--port=abc"], "invalid value 'abc' for --port"),
            (&["--encoding", "latin9"], "unknown encoding 'latin9'"),
            (&["--frobnicate"], "unknown option '--frobnicate'"),
            (&["--frobnicate=1"], "unknown option '--frobnicate'"),
            (&["-x"], "unknown option '-x'"),
            (&["--port"], "option --port needs a value"),
            (&["stray"], "unexpected argument 'stray'"),
        ] {
            let message = server(args).unwrap_err();
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_argument_that_is_not_unicode_is_a_usage_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(b"\xff8080".to_vec());
        let help = ServerOptions::help("s", "a server");
        let mut parser = lexopt::Parser::from_args([OsString::from("--host"), raw.clone()]);
        let err = ServerOptions::parse_from(&mut parser, &help).unwrap_err();
        assert_eq!(
            usage_message(&err),
            "argument \"\\xFF8080\" is not valid Unicode"
        );
        assert!(port("--port", raw).is_err());
    }

    #[test]
    fn a_switch_given_a_value_is_refused() {
        let mut parser = lexopt::Parser::from_args(["--quiet=yes"]);
        let arg = parser.next().unwrap();
        assert_eq!(arg, Some(Long("quiet")));
        let err = parser.next().unwrap_err();
        assert_eq!(usage_message(&err), "option --quiet takes no value");
    }

    #[test]
    fn a_usage_error_is_one_line() {
        let line = usage_line("lesson-03", "invalid value '1\n2' for --port");
        assert_eq!(
            line,
            "lesson-03: error: invalid value '1\\n2' for --port (see lesson-03 --help)"
        );
    }

    #[test]
    fn counts_outside_their_range_name_the_range() {
        let runs = |value: &str| count("--runs", value.into(), 1..=100).map_err(|e| e.to_string());
        let idle = |value: &str| count("--idle", value.into(), 1..=u64::MAX);
        assert_eq!(runs("1"), Ok(1));
        assert_eq!(runs("100"), Ok(100));
        assert_eq!(idle("7").unwrap(), 7);
        for (got, expected) in [
            (
                runs("0"),
                "invalid value '0' for --runs: expected a whole number from 1 to 100",
            ),
            (
                runs("101"),
                "invalid value '101' for --runs: expected a whole number from 1 to 100",
            ),
            (
                idle("0").map_err(|e| e.to_string()),
                "invalid value '0' for --idle: expected a whole number, at least 1",
            ),
            (
                count("--n", "x".into(), 0..=u64::MAX).map_err(|e| e.to_string()),
                "invalid value 'x' for --n: expected a whole number",
            ),
        ] {
            assert_eq!(got, Err(expected.to_owned()));
        }
        assert!(runs("-1").unwrap_err().contains("'-1' for --runs"));
    }

    #[test]
    fn a_client_refuses_port_zero_an_empty_message_and_one_it_cannot_encode() {
        let refused = |change: fn(&mut ClientOptions)| {
            let mut options = ClientOptions::new("你好");
            change(&mut options);
            usage_message(&options.check().unwrap_err())
        };
        assert!(refused(|o| o.port = 0).contains("a client cannot connect to port 0"));
        assert!(refused(|o| o.message.clear()).contains("--message is empty"));
        let emoji = refused(|o| o.message = "hi 😀".to_owned());
        assert!(emoji.contains("😀") && emoji.contains("U+1F600"), "{emoji}");
        assert!(ClientOptions::new("你好").check().is_ok());
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let text = ClientOptions::help("lesson-02", "a client", "你好").to_string();
        for needle in [
            "--host HOST",
            "[default: 127.0.0.1]",
            "--port PORT",
            "[default: 8080]",
            "--message TEXT",
            "[default: 你好]",
            "--encoding gbk|utf-8",
            "[default: gbk]",
            "-h, --help",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        let text = ServerOptions::help("lesson-03", "a server").to_string();
        assert!(text.contains("[default: 0.0.0.0]"), "{text}");
    }

    #[test]
    fn typed_lines_skip_empty_lines_and_invalid_utf8_and_go_on() {
        let input: &[u8] = b"\xe4\xbd\xa0\xe5\xa5\xbd\n\n\r\n\xc4\xe3\nbye\r\nno newline";
        let lines: Vec<String> = typed_lines("test", input)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(lines, ["你好", "bye", "no newline"]);
        let empty: &[u8] = b"";
        assert_eq!(typed_lines("test", empty).count(), 0);
    }

    #[test]
    fn resolves_hosts() {
        assert_eq!(resolve("", 80).unwrap(), "0.0.0.0:80".parse().unwrap());
        assert_eq!(resolve("::1", 80).unwrap(), "[::1]:80".parse().unwrap());
        assert_eq!(resolve("[::1]", 80).unwrap(), "[::1]:80".parse().unwrap());
        assert_eq!(resolve("127.0.0.1", 0).unwrap().port(), 0);
        assert!(resolve("localhost", 80).unwrap().ip().is_loopback());
    }
}
