//! The course's command-line conventions, shared by every lesson.
//!
//! - Servers: `--host` (default `0.0.0.0`, the tutorial's `""`), `--port`
//!   (default `8080`; `0` lets the OS choose), `--encoding`.
//! - Clients: `--host` (default `127.0.0.1`), `--port` (default `8080`),
//!   `--message TEXT`, `--encoding gbk|utf-8` (default `gbk`).
//! - `--help` on every binary. A bad flag or value is a usage error: one
//!   line on stderr and exit code 2. So is a value out of a count's range
//!   ([`Command::count_in`]), and a client's `--port 0` or empty
//!   `--message`.
//! - [`typed_lines`]: the lines an interactive mode reads from stdin, with
//!   empty lines and lines that are not UTF-8 skipped with a note.
//!
//! This is a deliberately small parser (long options only, `--name value`
//! or `--name=value`, at most one positional argument): a learner's first
//! build should not wait for a full argument-parsing crate, and the lessons
//! need nothing more.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, BufRead};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::ops::RangeInclusive;

use crate::error::Error;
use crate::text::Encoding;

/// The exit code of a usage error (a wrong flag or value), as in most Unix
/// tools.
pub const USAGE_EXIT_CODE: i32 = 2;

/// The port every lesson uses unless told otherwise, as in the tutorial.
pub const DEFAULT_PORT: u16 = 8080;

/// What kind of value an option takes; values are checked while parsing, so
/// a bad one is a usage error before the program does anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Port,
    Encoding,
    Count,
    Switch,
}

#[derive(Clone, Debug)]
struct Opt {
    name: &'static str,
    value_name: &'static str,
    help: String,
    default: Option<String>,
    kind: Kind,
    /// The values a count accepts; every `u64` unless narrowed.
    range: RangeInclusive<u64>,
}

/// A parsed option value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Port(u16),
    Encoding(Encoding),
    Count(u64),
    Switch(bool),
}

/// Why parsing stopped: the learner asked for help, or made a mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliError {
    /// `--help` was given; the help text to print on stdout (exit 0).
    Help(String),
    /// A wrong flag or value; the one-line message to print on stderr (exit 2).
    Usage(String),
}

/// A program's command line: its options, with their defaults and help.
#[derive(Clone, Debug)]
pub struct Command {
    program: &'static str,
    about: &'static str,
    options: Vec<Opt>,
    positional: Option<(&'static str, String)>,
}

impl Command {
    /// A command line for `program`, described by `about` in `--help`.
    pub fn new(program: &'static str, about: &'static str) -> Self {
        Command {
            program,
            about,
            options: Vec::new(),
            positional: None,
        }
    }

    fn push(mut self, opt: Opt) -> Self {
        self.options.retain(|o| o.name != opt.name);
        self.options.push(opt);
        self
    }

    /// `--host HOST`: a host name or IP address.
    pub fn host(self, default: &str, help: &str) -> Self {
        self.text("host", "HOST", help, default)
    }

    /// `--port PORT`: 0 to 65535.
    pub fn port(self, default: u16, help: &str) -> Self {
        self.push(Opt {
            name: "port",
            value_name: "PORT",
            help: help.to_owned(),
            default: Some(default.to_string()),
            kind: Kind::Port,
            range: ANY,
        })
    }

    /// `--encoding gbk|utf-8`, default `gbk`.
    pub fn encoding(self, help: &str) -> Self {
        self.push(Opt {
            name: "encoding",
            value_name: "gbk|utf-8",
            help: help.to_owned(),
            default: Some(Encoding::Gbk.name().to_owned()),
            kind: Kind::Encoding,
            range: ANY,
        })
    }

    /// `--NAME VALUE`: free text.
    pub fn text(
        self,
        name: &'static str,
        value_name: &'static str,
        help: &str,
        default: &str,
    ) -> Self {
        self.push(Opt {
            name,
            value_name,
            help: help.to_owned(),
            default: Some(default.to_owned()),
            kind: Kind::Text,
            range: ANY,
        })
    }

    /// `--NAME N`: a whole number, optional (no default) unless `default`
    /// is given. `value_name` names it in the help (`N`, `SECS`, ...).
    pub fn count(
        self,
        name: &'static str,
        value_name: &'static str,
        help: &str,
        default: Option<u64>,
    ) -> Self {
        self.count_in(name, value_name, help, default, ANY)
    }

    /// `--NAME N`: a whole number within `range`, as [`count`](Self::count).
    /// A value outside the range is a usage error that names the range
    /// (`--runs 0`: "expected a whole number from 1 to 100").
    ///
    /// ```
    /// use netcore::cli::{CliError, Command};
    /// let command = Command::new("x", "y").count_in("runs", "N", "runs", Some(3), 1..=100);
    /// assert_eq!(command.parse_from(["--runs", "100"]).unwrap().count("runs"), Some(100));
    /// assert!(matches!(command.parse_from(["--runs", "0"]), Err(CliError::Usage(_))));
    /// ```
    pub fn count_in(
        self,
        name: &'static str,
        value_name: &'static str,
        help: &str,
        default: Option<u64>,
        range: RangeInclusive<u64>,
    ) -> Self {
        debug_assert!(
            default.is_none_or(|n| range.contains(&n)),
            "--{name}: the default is outside the range"
        );
        self.push(Opt {
            name,
            value_name,
            help: help.to_owned(),
            default: default.map(|n| n.to_string()),
            kind: Kind::Count,
            range,
        })
    }

    /// `--NAME`: a switch that takes no value.
    pub fn switch(self, name: &'static str, help: &str) -> Self {
        self.push(Opt {
            name,
            value_name: "",
            help: help.to_owned(),
            default: None,
            kind: Kind::Switch,
            range: ANY,
        })
    }

    /// One optional positional argument, named `name` in the help.
    pub fn positional(mut self, name: &'static str, help: &str) -> Self {
        self.positional = Some((name, help.to_owned()));
        self
    }

    /// The `--help` text.
    pub fn help(&self) -> String {
        let mut out = format!(
            "{}: {}\n\nUsage: {} [OPTIONS]",
            self.program, self.about, self.program
        );
        if let Some((name, _)) = &self.positional {
            let _ = write!(out, " [{name}]");
        }
        out.push_str("\n\n");
        let mut rows: Vec<(String, String)> = Vec::new();
        if let Some((name, help)) = &self.positional {
            rows.push((format!("[{name}]"), help.clone()));
        }
        for opt in &self.options {
            let flag = if opt.kind == Kind::Switch {
                format!("--{}", opt.name)
            } else {
                format!("--{} {}", opt.name, opt.value_name)
            };
            let help = match &opt.default {
                // A no-break space keeps "[default:" with its value when
                // the line wraps.
                Some(default) if !default.is_empty() => {
                    format!("{} [default:\u{a0}{}]", opt.help, shown(default))
                }
                _ => opt.help.clone(),
            };
            rows.push((flag, help));
        }
        rows.push((
            "-h, --help".to_owned(),
            "print this help and exit".to_owned(),
        ));
        let width = rows
            .iter()
            .map(|(flag, _)| flag.chars().count())
            .max()
            .unwrap_or(0);
        out.push_str("Options:\n");
        // Each help text starts in one column and wraps within HELP_WIDTH.
        let column = 2 + width + 2;
        for (flag, help) in rows {
            let pad = width - flag.chars().count();
            let lines = wrap(&help, HELP_WIDTH.saturating_sub(column).max(20));
            let indent = " ".repeat(column);
            for (i, line) in lines.iter().enumerate() {
                let line = line.replace('\u{a0}', " ");
                if i == 0 {
                    let _ = writeln!(out, "  {flag}{:pad$}  {line}", "");
                } else {
                    let _ = writeln!(out, "{indent}{line}");
                }
            }
        }
        // The first line too: "program: about".
        let first_end = out.find('\n').unwrap_or(out.len());
        let first: Vec<String> = wrap(&out[..first_end], HELP_WIDTH);
        out.replace_range(..first_end, &first.join("\n  "));
        out
    }

    /// Parses `args` (without the program name).
    pub fn parse_from<I>(&self, args: I) -> Result<Matches, CliError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut values = BTreeMap::new();
        for opt in &self.options {
            let value = match (&opt.default, opt.kind) {
                (_, Kind::Switch) => Some(Value::Switch(false)),
                (Some(default), kind) => Some(self.convert(opt, kind, default)?),
                (None, _) => None,
            };
            if let Some(value) = value {
                values.insert(opt.name, value);
            }
        }
        let mut given = BTreeSet::new();
        let mut positional = None;
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let arg = arg
                .into_string()
                .map_err(|raw| self.usage(format!("argument {raw:?} is not valid Unicode")))?;
            if arg == "--help" || arg == "-h" {
                return Err(CliError::Help(self.help()));
            }
            let Some(flag) = arg.strip_prefix("--") else {
                if arg.starts_with('-') && arg.len() > 1 {
                    return Err(self.usage(format!("unknown option '{arg}'")));
                }
                match (&self.positional, &positional) {
                    (Some(_), None) => positional = Some(arg),
                    _ => return Err(self.usage(format!("unexpected argument '{arg}'"))),
                }
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            let Some(opt) = self.options.iter().find(|o| o.name == name) else {
                return Err(self.usage(format!("unknown option '--{name}'")));
            };
            if opt.kind == Kind::Switch {
                if inline.is_some() {
                    return Err(self.usage(format!("option --{name} takes no value")));
                }
                values.insert(opt.name, Value::Switch(true));
                given.insert(opt.name);
                continue;
            }
            let raw = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .map(|v| v.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        self.usage(format!(
                            "option --{name} needs a value ({})",
                            opt.value_name
                        ))
                    })?,
            };
            values.insert(opt.name, self.convert(opt, opt.kind, &raw)?);
            given.insert(opt.name);
        }
        Ok(Matches {
            values,
            given,
            declared: self.options.iter().map(|o| o.name).collect(),
            positional,
        })
    }

    /// Parses the process's arguments; prints help and exits 0 on `--help`,
    /// prints a one-line error and exits 2 on a usage error.
    ///
    /// Every lesson calls this first, so it is also where the program is
    /// set up to end quietly when its stdout is closed
    /// ([`crate::sys::exit_quietly_on_closed_stdout`]): `lesson-01 | head -1`
    /// then stops like any Unix tool, instead of `println!` panicking with a
    /// backtrace (exit 101) on the "broken pipe" error. A `send` on a closed
    /// socket is unaffected: it still fails with an error the lesson
    /// reports, and the program goes on.
    pub fn parse_or_exit(&self) -> Matches {
        crate::sys::exit_quietly_on_closed_stdout();
        match self.parse_from(std::env::args_os().skip(1)) {
            Ok(matches) => matches,
            Err(CliError::Help(text)) => {
                print!("{text}");
                std::process::exit(0);
            }
            Err(CliError::Usage(message)) => exit_usage(&message),
        }
    }

    /// Reports a usage error found after parsing (a value the program
    /// checks itself) and exits with 2.
    pub fn exit_usage(&self, message: impl AsRef<str>) -> ! {
        match self.usage(message) {
            CliError::Usage(line) | CliError::Help(line) => exit_usage(&line),
        }
    }

    /// A usage error for this program, as one line.
    pub fn usage(&self, message: impl AsRef<str>) -> CliError {
        CliError::Usage(format!(
            "{}: error: {} (see {} --help)",
            self.program,
            message.as_ref(),
            self.program
        ))
    }

    fn convert(&self, opt: &Opt, kind: Kind, raw: &str) -> Result<Value, CliError> {
        let name = opt.name;
        match kind {
            Kind::Text => Ok(Value::Text(raw.to_owned())),
            Kind::Port => raw.parse::<u16>().map(Value::Port).map_err(|_| {
                self.usage(format!(
                    "invalid value '{raw}' for --{name}: expected a port number from 0 to 65535"
                ))
            }),
            Kind::Encoding => raw
                .parse::<Encoding>()
                .map(Value::Encoding)
                .map_err(|why| self.usage(format!("invalid value for --{name}: {why}"))),
            Kind::Count => match raw.parse::<u64>() {
                Ok(n) if opt.range.contains(&n) => Ok(Value::Count(n)),
                _ => Err(self.usage(format!(
                    "invalid value '{raw}' for --{name}: expected {}",
                    expected_count(&opt.range)
                ))),
            },
            Kind::Switch => Ok(Value::Switch(true)),
        }
    }
}

/// Every `u64`: the range of a count that is not narrowed.
const ANY: RangeInclusive<u64> = 0..=u64::MAX;

/// What a count accepts, for a usage error: "a whole number from 1 to 100".
fn expected_count(range: &RangeInclusive<u64>) -> String {
    match (*range.start(), *range.end()) {
        (0, u64::MAX) => "a whole number".to_owned(),
        (min, u64::MAX) => format!("a whole number, at least {min}"),
        (min, max) => format!("a whole number from {min} to {max}"),
    }
}

/// The width `--help` fits in: a terminal's 80 columns.
const HELP_WIDTH: usize = 80;

/// How many terminal columns `text` takes: East Asian wide characters
/// (Chinese, Japanese, Korean, full-width forms) take two, others one.
/// The ranges are the wide blocks a help text here can hold, not all of
/// Unicode's.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xfe30..=0xfe4f
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

/// `text` broken at spaces into lines of at most `width` columns; a word
/// longer than that (Chinese has no spaces) is broken between characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let mut piece = String::new();
        for c in word.chars() {
            if columns(&piece) + columns(c.encode_utf8(&mut [0; 4])) > width {
                words.push(std::mem::take(&mut piece));
            }
            piece.push(c);
        }
        words.push(piece);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in &words {
        if !line.is_empty() && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn shown(default: &str) -> String {
    if default.contains(' ') {
        format!("{default:?}")
    } else {
        default.to_owned()
    }
}

/// Prints a usage error (already formatted as one line) and exits with 2.
pub fn exit_usage(line: &str) -> ! {
    eprintln!("{line}");
    std::process::exit(USAGE_EXIT_CODE)
}

/// The values of a parsed command line.
///
/// The accessors panic only when asked for an option the [`Command`] never
/// declared, which is a mistake in the program, caught by its first test.
#[derive(Clone, Debug)]
pub struct Matches {
    values: BTreeMap<&'static str, Value>,
    given: BTreeSet<&'static str>,
    declared: Vec<&'static str>,
    positional: Option<String>,
}

impl Matches {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The value of a text option (`--host`, `--message`, ...).
    pub fn text(&self, name: &str) -> &str {
        match self.get(name) {
            Some(Value::Text(text)) => text,
            other => undeclared(name, "text", other),
        }
    }

    /// The value of `--port`.
    pub fn port(&self, name: &str) -> u16 {
        match self.get(name) {
            Some(Value::Port(port)) => *port,
            other => undeclared(name, "port", other),
        }
    }

    /// The value of `--encoding`.
    pub fn encoding(&self, name: &str) -> Encoding {
        match self.get(name) {
            Some(Value::Encoding(encoding)) => *encoding,
            other => undeclared(name, "encoding", other),
        }
    }

    /// The value of a count option, `None` when it has no default and was
    /// not given.
    pub fn count(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Count(n)) => Some(*n),
            None => None,
            other => undeclared(name, "count", other),
        }
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Switch(true)))
    }

    /// Whether `--NAME` was given on the command line, as opposed to taking
    /// its default: for options that only apply in some modes, so that the
    /// others can refuse them instead of silently ignoring them.
    pub fn given(&self, name: &str) -> bool {
        assert!(
            self.declared.contains(&name),
            "netcore::cli: --{name} was not declared"
        );
        self.given.contains(name)
    }

    /// The positional argument, if one was given.
    pub fn positional(&self) -> Option<&str> {
        self.positional.as_deref()
    }
}

fn undeclared(name: &str, kind: &str, found: Option<&Value>) -> ! {
    panic!("netcore::cli: --{name} was not declared as a {kind} option (found {found:?})")
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

impl ServerOptions {
    /// The command line of a server, to extend with its own options.
    pub fn command(program: &'static str, about: &'static str) -> Command {
        Command::new(program, about)
            .host(
                "0.0.0.0",
                "address to listen on; 0.0.0.0 (or \"\") is every IPv4 address, :: every IPv6 one",
            )
            .port(
                DEFAULT_PORT,
                "port to listen on; 0 lets the OS choose a free one",
            )
            .encoding("how to decode what clients send and encode replies")
    }

    /// Reads the server flags out of parsed matches.
    pub fn from_matches(matches: &Matches) -> Self {
        ServerOptions {
            host: matches.text("host").to_owned(),
            port: matches.port("port"),
            encoding: matches.encoding("encoding"),
        }
    }

    /// Parses the process's arguments as a plain server's.
    pub fn parse(program: &'static str, about: &'static str) -> Self {
        Self::from_matches(&Self::command(program, about).parse_or_exit())
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
    /// The command line of a client, to extend with its own options.
    pub fn command(program: &'static str, about: &'static str, default_message: &str) -> Command {
        Command::new(program, about)
            .host("127.0.0.1", "server to connect to (IP address or name)")
            .port(DEFAULT_PORT, "server's port")
            .text("message", "TEXT", "text to send", default_message)
            .encoding("how to encode the message and decode the reply")
    }

    /// Reads the client flags out of parsed matches, refusing (as usage
    /// errors) `--port 0`, an empty message, and a message the encoding
    /// cannot represent.
    pub fn from_matches(command: &Command, matches: &Matches) -> Result<Self, CliError> {
        let options = ClientOptions {
            host: matches.text("host").to_owned(),
            port: matches.port("port"),
            message: matches.text("message").to_owned(),
            encoding: matches.encoding("encoding"),
        };
        if options.port == 0 {
            return Err(command.usage(
                "--port 0: a client cannot connect to port 0; give the port the server listens on",
            ));
        }
        if options.message.is_empty() {
            // send() of 0 bytes sends nothing: the server would never see a
            // message, never reply, and the client would wait forever.
            return Err(command.usage("--message is empty: there would be nothing to send"));
        }
        if let Err(err) = options.encoding.encode(&options.message) {
            return Err(command.usage(format!("--message: {err}")));
        }
        Ok(options)
    }

    /// Parses the process's arguments as a plain client's.
    pub fn parse(program: &'static str, about: &'static str, default_message: &str) -> Self {
        Self::parse_command(&Self::command(program, about, default_message)).0
    }

    /// Parses the process's arguments with `command` (a client
    /// [`command`](Self::command) extended with options of its own), exiting
    /// as [`Command::parse_or_exit`] does on help or a usage error.
    pub fn parse_command(command: &Command) -> (Self, Matches) {
        let matches = command.parse_or_exit();
        match Self::from_matches(command, &matches) {
            Ok(options) => (options, matches),
            Err(CliError::Usage(line) | CliError::Help(line)) => exit_usage(&line),
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
            Error::io(format_args!("cannot resolve host '{host}'"), &err)
                .hint("check --host; use an IP address such as 127.0.0.1")
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| Error::msg(format!("host '{host}' has no address")))
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
                    eprintln!("{}: empty line, nothing sent", self.program);
                }
                Ok(line) => return Some(Ok(line)),
                Err(_) => eprintln!(
                    "{}: not sent: that line is not valid UTF-8 (is the terminal set to UTF-8?)",
                    self.program
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Command {
        ClientOptions::command("lesson-02", "a client", "你好")
    }

    fn usage(result: Result<Matches, CliError>) -> String {
        match result {
            Err(CliError::Usage(line)) => line,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_conventions() {
        let m = client().parse_from(Vec::<String>::new()).unwrap();
        assert_eq!(m.text("host"), "127.0.0.1");
        assert_eq!(m.port("port"), 8080);
        assert_eq!(m.encoding("encoding"), Encoding::Gbk);
        assert_eq!(m.text("message"), "你好");
        let server = ServerOptions::from_matches(
            &ServerOptions::command("s", "a server")
                .parse_from(Vec::<String>::new())
                .unwrap(),
        );
        assert_eq!(server.host, "0.0.0.0");
        assert_eq!(server.port, 8080);
    }

    #[test]
    fn both_value_forms_are_accepted() {
        let m = client()
            .parse_from([
                "--port",
                "0",
                "--host=::1",
                "--encoding",
                "UTF-8",
                "--message=a b",
            ])
            .unwrap();
        assert_eq!(m.port("port"), 0);
        assert_eq!(m.text("host"), "::1");
        assert_eq!(m.encoding("encoding"), Encoding::Utf8);
        assert_eq!(m.text("message"), "a b");
    }

    #[test]
    fn bad_values_are_one_line_usage_errors() {
        for (args, needle) in [
            (vec!["--port", "70000"], "'70000' for --port"),
            (vec!["--port", "abc"], "'abc' for --port"),
            (vec!["--encoding", "latin9"], "latin9"),
            (vec!["--frobnicate"], "unknown option '--frobnicate'"),
            (vec!["-x"], "unknown option '-x'"),
            (vec!["--port"], "--port needs a value"),
            (vec!["stray"], "unexpected argument 'stray'"),
        ] {
            let line = usage(client().parse_from(args.clone()));
            assert!(line.starts_with("lesson-02: error: "), "{line}");
            assert!(line.contains(needle), "{args:?}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn help_fits_80_columns_chinese_counted_twice() {
        let help = ClientOptions::command(
            "lesson-02",
            "a client whose description is long enough to need more than one line of the help",
            "你好，我是客户端，这条消息很长，足以让帮助换行",
        )
        .help();
        for line in help.lines() {
            assert!(columns(line) <= 80, "{} columns: {line}", columns(line));
        }
        assert_eq!(columns("你好 ok"), 7);
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let Err(CliError::Help(text)) = client().parse_from(["--help"]) else {
            panic!("expected help");
        };
        for needle in [
            "--host HOST",
            "[default: 127.0.0.1]",
            "--port PORT",
            "[default: 8080]",
            "--message TEXT",
            "--encoding gbk|utf-8",
            "-h, --help",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn unencodable_message_is_a_usage_error_naming_the_character() {
        let command = client();
        let m = command.parse_from(["--message", "hi 😀"]).unwrap();
        let Err(CliError::Usage(line)) = ClientOptions::from_matches(&command, &m) else {
            panic!("expected a usage error");
        };
        assert!(line.contains("😀") && line.contains("U+1F600"), "{line}");
    }

    #[test]
    fn switches_counts_and_positionals() {
        let command = Command::new("x", "y")
            .switch("interactive", "ask")
            .count("repeat", "N", "times", Some(1))
            .count("max-clients", "N", "limit", None)
            .positional("EXPERIMENT", "which one");
        let m = command
            .parse_from(["3", "--interactive", "--repeat", "5"])
            .unwrap();
        assert!(m.switch("interactive"));
        assert_eq!(m.count("repeat"), Some(5));
        assert_eq!(m.count("max-clients"), None);
        assert_eq!(m.positional(), Some("3"));
        assert!(usage(command.parse_from(["1", "2"])).contains("unexpected argument '2'"));
        assert!(usage(command.parse_from(["--interactive=yes"])).contains("takes no value"));
    }

    #[test]
    fn counts_outside_their_range_are_usage_errors_naming_the_range() {
        let command = Command::new("x", "y")
            .count_in("runs", "N", "runs", Some(3), 1..=100)
            .count_in("idle", "SECS", "idle", None, 1..=u64::MAX);
        let m = command.parse_from(["--runs", "1", "--idle", "7"]).unwrap();
        assert_eq!((m.count("runs"), m.count("idle")), (Some(1), Some(7)));
        assert_eq!(
            command.parse_from(["--runs=100"]).unwrap().count("runs"),
            Some(100)
        );
        for (args, needle) in [
            (
                ["--runs", "0"],
                "'0' for --runs: expected a whole number from 1 to 100",
            ),
            (
                ["--runs", "101"],
                "'101' for --runs: expected a whole number from 1 to 100",
            ),
            (
                ["--idle", "0"],
                "'0' for --idle: expected a whole number, at least 1",
            ),
            (["--runs", "-1"], "'-1' for --runs"),
        ] {
            let line = usage(command.parse_from(args));
            assert!(line.contains(needle), "{args:?}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
        let plain = Command::new("x", "y").count("n", "N", "n", None);
        assert!(usage(plain.parse_from(["--n", "x"])).contains("expected a whole number ("));
    }

    #[test]
    fn given_tells_an_explicit_value_from_a_default() {
        let command = Command::new("x", "y")
            .count("repeat", "N", "times", Some(1))
            .text("svg", "FILE", "chart", "")
            .switch("interactive", "ask")
            .port(8080, "port");
        let m = command.parse_from(Vec::<String>::new()).unwrap();
        for name in ["repeat", "svg", "interactive", "port"] {
            assert!(!m.given(name), "{name}");
        }
        // Given with the default's own value still counts as given.
        let m = command
            .parse_from(["--repeat", "1", "--svg=", "--interactive", "--port", "8080"])
            .unwrap();
        for name in ["repeat", "svg", "interactive", "port"] {
            assert!(m.given(name), "{name}");
        }
    }

    #[test]
    #[should_panic(expected = "--nonsense was not declared")]
    fn given_panics_for_an_undeclared_option() {
        let m = client().parse_from(Vec::<String>::new()).unwrap();
        m.given("nonsense");
    }

    #[test]
    fn a_client_refuses_port_zero_and_an_empty_message() {
        let command = client();
        for (args, needle) in [
            (vec!["--port", "0"], "a client cannot connect to port 0"),
            (vec!["--message", ""], "--message is empty"),
            (vec!["--message="], "--message is empty"),
        ] {
            let m = command.parse_from(args.clone()).unwrap();
            let Err(CliError::Usage(line)) = ClientOptions::from_matches(&command, &m) else {
                panic!("{args:?}: expected a usage error");
            };
            assert!(line.contains(needle), "{args:?}: {line}");
            assert!(line.starts_with("lesson-02: error: "), "{line}");
        }
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
