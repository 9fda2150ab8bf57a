//! Exercise 09's flags, written for you as in lesson 09: the course's
//! server flags (`--host`, `--port`, `--encoding`), the mode (`reply` or
//! `echo`), the runtime's worker threads, `--quiet`, and the experiment
//! `--blocking-mistake`.

use lexopt::prelude::*;
use netcore::cli::{self, ServerOptions};

use crate::{ABOUT, NAME};

/// What the server does with what a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Lesson 05's conversation: print each message, reply `ok, 收到了`.
    Reply,
    /// Send every byte back, unchanged and in order; print nothing per
    /// message.
    Echo,
}

/// What the command line asks for.
pub(crate) struct Args {
    /// Where to listen, and the encoding.
    pub(crate) server: ServerOptions,
    /// `reply` (the default) or `echo`.
    pub(crate) mode: Mode,
    /// `--workers`: the runtime's worker threads.
    pub(crate) workers: usize,
    /// `--quiet`: no line per client or message.
    pub(crate) quiet: bool,
    /// `--blocking-mistake`: run the slow request's blocking call inside the
    /// task, on the worker thread, instead of on the blocking pool.
    pub(crate) blocking_mistake: bool,
}

/// The most worker threads `--workers` takes: far more than any machine has
/// cores, few enough that a typo cannot ask for a million threads.
const MAX_WORKERS: u64 = 1024;

/// The default of `--workers`: one per CPU, as tokio itself chooses.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The command line; `--help` and a usage error end the program.
pub(crate) fn parse() -> Args {
    let help = ServerOptions::help(NAME, ABOUT)
        .positional(
            "MODE",
            "reply (the default): print each message and answer ok, 收到了; echo: send every byte back, unchanged",
        )
        .option(
            "--workers N",
            "worker threads that run the clients' tasks [default: one per CPU]",
        )
        .option(
            "--quiet",
            "print no line about single clients or messages (for benchmarks)",
        )
        .option(
            "--blocking-mistake",
            "the experiment: run the slow request's blocking call inside the task, which stalls every client on its worker thread",
        );
    cli::parse_or_exit(NAME, |parser| {
        let mut server = ServerOptions::default();
        let (mut mode, mut workers) = (None, None);
        let (mut quiet, mut blocking_mistake) = (false, false);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => server.host = parser.value()?.string()?,
                Long("port") => server.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => server.encoding = cli::encoding("--encoding", parser.value()?)?,
                Long("workers") => {
                    let n = cli::count("--workers", parser.value()?, 1..=MAX_WORKERS)?;
                    workers = Some(n as usize);
                }
                Long("quiet") => quiet = true,
                Long("blocking-mistake") => blocking_mistake = true,
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
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
                _ => return Err(arg.unexpected()),
            }
        }
        let mode = mode.unwrap_or(Mode::Reply);
        if blocking_mistake && mode == Mode::Echo {
            return Err(netcore::tr!(
                "--blocking-mistake only applies to the reply mode (the slow request)",
                "--blocking-mistake 只适用于 reply 模式（慢请求）"
            )
            .into());
        }
        Ok(Args {
            server,
            mode,
            workers: workers.unwrap_or_else(cpus),
            quiet,
            blocking_mistake,
        })
    })
}
