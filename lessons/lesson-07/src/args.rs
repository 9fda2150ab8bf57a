//! Lesson 07's flags: the course's server flags (`--host`, `--port`,
//! `--encoding`, `--lang`), the pool's size (`--workers`, `--queue`), its
//! deadline (`--idle-timeout`) and `--quiet`.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// The defaults: 4 workers, a queue of 16, a deadline of 5 s.
const WORKERS: u64 = 4;
const QUEUE: u64 = 16;
const IDLE_TIMEOUT_SECS: u64 = 5;
/// The largest values: a pool is small by design, and `sync_channel`
/// allocates its queue's slots up front. Each worker and each queued
/// client also holds a file descriptor.
const MAX_WORKERS: u64 = 1024;
const MAX_QUEUE: u64 = 65_536;
/// The longest `--idle-timeout`: a year, in seconds (a deadline must stay a
/// time the clock can reach).
const MAX_IDLE_SECS: u64 = 365 * 24 * 3600;

impl Args {
    /// The pool, in a line printed once at start: the learner sees what
    /// the flags made of it.
    pub(crate) fn pool_line(&self) -> String {
        let (workers, queue) = (self.workers, self.queue);
        match self.idle_timeout {
            Some(idle) => netcore::tr!(
                "pool: {workers} worker(s), a queue of {queue}, silent clients closed after {secs} s",
                "线程池: {workers} 个工作线程，有界队列容纳 {queue} 个客户端，空闲 {secs} 秒的客户端被关闭",
                secs = idle.as_secs()
            ),
            None => netcore::tr!(
                "pool: {workers} worker(s), a queue of {queue}, no deadline: a silent client keeps its worker",
                "线程池: {workers} 个工作线程，有界队列容纳 {queue} 个客户端，没有截止时间：不说话的客户端一直占着工作线程"
            ),
        }
    }
}

/// `--quiet`, read by [`say!`] from every thread.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `--quiet` turned off the lines about single clients and
/// messages.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `println!` for a line about one client or one message, in English or in
/// Chinese (`netcore::tr!`, both side by side); `--quiet` (the benchmark's)
/// leaves it out. Warnings and errors go to stderr all the same.
macro_rules! say {
    ($en:literal, $zh:literal $(, $($arg:tt)*)?) => {
        if !$crate::args::quiet() {
            println!("{}", netcore::tr!($en, $zh $(, $($arg)*)?));
        }
    };
}
pub(crate) use say;

/// The command line; `--help` and a usage error (one line, exit code 2)
/// end the program.
pub(crate) fn parse() -> Args {
    let help = ServerOptions::help(NAME, ABOUT)
        .option(
            "--workers N",
            "worker threads: how many clients are served at once",
        )
        .default(WORKERS)
        .option(
            "--queue Q",
            "accepted clients that may wait for a worker; beyond, a client gets the busy reply",
        )
        .default(QUEUE)
        .option(
            "--idle-timeout SECS",
            "close a client that sends nothing for SECS seconds, freeing its worker; 0 never does (to show the pool starve)",
        )
        .default(IDLE_TIMEOUT_SECS)
        .option(
            "--quiet",
            "print no line about single clients or messages (for benchmarks)",
        );
    cli::parse_or_exit(NAME, |parser| {
        let mut server = ServerOptions::default();
        let (mut workers, mut queue, mut idle) = (WORKERS, QUEUE, IDLE_TIMEOUT_SECS);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("host") => server.host = parser.value()?.string()?,
                Long("port") => server.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => server.encoding = cli::encoding("--encoding", parser.value()?)?,
                Long("workers") => {
                    workers = cli::count("--workers", parser.value()?, 1..=MAX_WORKERS)?;
                }
                Long("queue") => queue = cli::count("--queue", parser.value()?, 1..=MAX_QUEUE)?,
                Long("idle-timeout") => {
                    idle = cli::count("--idle-timeout", parser.value()?, 0..=MAX_IDLE_SECS)?;
                }
                Long("quiet") => QUIET.store(true, Ordering::Relaxed),
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(Args {
            server,
            // Both fit: they are at most MAX_WORKERS and MAX_QUEUE.
            workers: workers as usize,
            queue: queue as usize,
            idle_timeout: (idle > 0).then(|| Duration::from_secs(idle)),
        })
    })
}
