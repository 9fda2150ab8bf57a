//! The exercise's flags, written for you: the course's server flags
//! (`--host`, `--port`, `--encoding`, `--lang`), the pool's size
//! (`--workers`, `--queue`) and its deadline (`--idle-timeout`), with
//! lesson 07's defaults and ranges.
//!
//! 中文：练习的命令行选项，已经为你写好：课程通用的服务端选项（`--host`、`--port`、
//! `--encoding`、`--lang`），线程池的大小（`--workers`、`--queue`）和截止时间
//! （`--idle-timeout`），默认值和取值范围都和第 07 课一样。

use std::time::Duration;

use lexopt::prelude::*;
use netcore::cli::{self, ServerOptions};

use crate::{ABOUT, NAME};

/// What the command line asks for.
pub(crate) struct Args {
    /// Where to listen, and the encoding.
    pub(crate) server: ServerOptions,
    /// `--workers`: how many clients are served at once.
    pub(crate) workers: usize,
    /// `--queue`: how many accepted clients may wait for a worker.
    pub(crate) queue: usize,
    /// `--idle-timeout`: how long a client may stay silent; `None` (0) is
    /// no deadline at all.
    pub(crate) idle_timeout: Option<Duration>,
}

/// The command line; `--help` and a usage error (one line, exit code 2)
/// end the program.
pub(crate) fn parse() -> Args {
    let help = ServerOptions::help(NAME, ABOUT)
        .option(
            "--workers N",
            "worker threads: how many clients are served at once",
        )
        .default(4)
        .option(
            "--queue Q",
            "accepted clients that may wait for a worker; beyond, a client gets the busy reply",
        )
        .default(16)
        .option(
            "--idle-timeout SECS",
            "close a client that sends nothing for SECS seconds; 0 never does",
        )
        .default(5);
    cli::parse_or_exit(NAME, |parser| {
        let mut server = ServerOptions::default();
        let (mut workers, mut queue, mut idle) = (4, 16, 5);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => server.host = parser.value()?.string()?,
                Long("port") => server.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => server.encoding = cli::encoding("--encoding", parser.value()?)?,
                Long("workers") => workers = cli::count("--workers", parser.value()?, 1..=1024)?,
                Long("queue") => queue = cli::count("--queue", parser.value()?, 1..=65_536)?,
                Long("idle-timeout") => {
                    idle = cli::count("--idle-timeout", parser.value()?, 0..=365 * 24 * 3600)?;
                }
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(Args {
            server,
            workers: workers as usize,
            queue: queue as usize,
            idle_timeout: (idle > 0).then(|| Duration::from_secs(idle)),
        })
    })
}
