//! What lesson-02 sends on its one connection: the tutorial's message once,
//! or with `--repeat N` that message N times (for the threaded server of
//! lesson 05), or with `--interactive` each line typed. `main.rs` sends
//! each with the tutorial's send, recv and decode.

use lexopt::prelude::*;
use netcore::cli::{self, ClientOptions, typed_lines};
use netcore::lang::tr;
use netcore::{Context, Error};

/// What to send on the connection.
pub(crate) enum Mode {
    /// The `--message`, this many times (the tutorial: once; 0: connect
    /// and close without sending).
    Repeat(u64),
    /// Each line typed on stdin, until end of input.
    Interactive,
}

/// The flags: the client's own (`--host`, `--port`, `--message`,
/// `--encoding`), `--repeat` and `--interactive`. `--help` and a usage
/// error end the program.
pub(crate) fn parse(
    name: &'static str,
    about: &'static str,
    message: &str,
) -> (ClientOptions, Mode) {
    let help = ClientOptions::help(name, about, message)
        .option(
            "--repeat N",
            "send the message N times on one connection, one reply each; 0 connects and closes without sending",
        )
        .default(1)
        .option(
            "--interactive",
            "send each line typed on stdin and print each reply; Ctrl+D closes",
        );
    cli::parse_or_exit(name, |parser| {
        let mut options = ClientOptions::new(message);
        let (mut repeat, mut interactive, mut message_given) = (None, false, false);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => options.host = parser.value()?.string()?,
                Long("port") => options.port = cli::port("--port", parser.value()?)?,
                Long("message") => {
                    options.message = parser.value()?.string()?;
                    message_given = true;
                }
                Long("encoding") => {
                    options.encoding = cli::encoding("--encoding", parser.value()?)?
                }
                Long("repeat") => {
                    repeat = Some(cli::count("--repeat", parser.value()?, 0..=u64::MAX)?)
                }
                Long("interactive") => interactive = true,
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        options.check()?;
        if !interactive {
            return Ok((options, Mode::Repeat(repeat.unwrap_or(1))));
        }
        // --interactive sends the lines typed, each once: a --repeat or a
        // --message would be silently ignored, so refuse them.
        for (flag, given) in [("repeat", repeat.is_some()), ("message", message_given)] {
            if given {
                return Err(netcore::tr!(
                    "--{flag} cannot be used with --interactive, which sends each line typed, once",
                    "--{flag} 不能与 --interactive 同用：--interactive 把输入的每一行发送一次"
                )
                .into());
            }
        }
        Ok((options, Mode::Interactive))
    })
}

/// Encoded messages, one at a time, or the error that ended reading them.
pub(crate) type Messages<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + 'a>;

/// The messages to send, encoded: `"...".encode("gbk")`. Text GBK cannot
/// represent (an emoji) in `--message` was refused with the flags; a typed
/// line it cannot represent is skipped with a note, and so is an empty line
/// (sending 0 bytes sends nothing, and no reply would ever come) and a line
/// that is not UTF-8.
pub(crate) fn to_send<'a>(
    name: &'static str,
    options: &'a ClientOptions,
    mode: Mode,
) -> Result<Messages<'a>, Error> {
    match mode {
        Mode::Repeat(times) => {
            let send_data = options.encoding.encode(&options.message)?;
            Ok(Box::new((0..times).map(move |_| Ok(send_data.clone()))))
        }
        Mode::Interactive => {
            eprintln!(
                "{}",
                tr(
                    "type a message and press Enter; Ctrl+D (end of input) closes the connection",
                    "输入一条消息后按回车发送；Ctrl+D（输入结束）关闭连接"
                )
            );
            let lines = typed_lines(name, std::io::stdin().lock());
            Ok(Box::new(lines.filter_map(move |line| {
                let line = match line.context(|| tr("cannot read the terminal", "无法读取终端输入"))
                {
                    Ok(line) => line,
                    Err(err) => return Some(Err(err)),
                };
                match options.encoding.encode(&line) {
                    Ok(send_data) => Some(Ok(send_data)),
                    Err(err) => {
                        eprintln!("{name}: {} {err}", tr("not sent:", "未发送:"));
                        None
                    }
                }
            })))
        }
    }
}
