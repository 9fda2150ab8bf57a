//! Lesson 08's flags: the mode (`reply`, the default, or `echo`), the
//! server's `--host`, `--port` and `--encoding`, and `--quiet`.

use lexopt::prelude::*;
use netcore::cli::{self, ServerOptions};

use crate::{ABOUT, NAME};

/// What the server does with the bytes a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Lesson 05's conversation: each `recv` is a message, printed, and
    /// answered with `ok, 收到了`.
    Reply,
    /// Every byte goes back to the client unchanged, in order.
    Echo,
}

/// What the command line asks for.
pub(crate) struct Args {
    /// Where to listen, and the encoding of messages and replies.
    pub(crate) server: ServerOptions,
    /// `reply` or `echo`.
    pub(crate) mode: Mode,
    /// `--quiet`: no line per client or message.
    pub(crate) quiet: bool,
}

/// Reads the command line; `--help` and a usage error end the program.
pub(crate) fn parse() -> Args {
    let help = ServerOptions::help(NAME, ABOUT)
        .positional(
            "MODE",
            "reply: print each message and answer `ok, 收到了` (lesson 05's conversation); echo: send every byte back unchanged [default: reply]",
        )
        .option(
            "--quiet",
            "print no line per client or message (for benchmarks)",
        );
    cli::parse_or_exit(NAME, |parser| {
        let (mut server, mut mode, mut quiet) = (ServerOptions::default(), None, false);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if mode.is_none() => {
                    mode = Some(match value.string()?.as_str() {
                        "reply" => Mode::Reply,
                        "echo" => Mode::Echo,
                        other => {
                            return Err(netcore::tr!(
                                "unknown mode '{other}': expected reply or echo",
                                "未知的模式 '{other}'：应为 reply 或 echo"
                            )
                            .into());
                        }
                    });
                }
                Long("host") => server.host = parser.value()?.string()?,
                Long("port") => server.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => server.encoding = cli::encoding("--encoding", parser.value()?)?,
                Long("quiet") => quiet = true,
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(Args {
            server,
            mode: mode.unwrap_or(Mode::Reply),
            quiet,
        })
    })
}
