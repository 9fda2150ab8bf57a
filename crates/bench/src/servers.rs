//! The servers under test: which they are, with which flags, and a handle
//! on a running one.

use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use proctools::child::{Guard, LISTENING_PREFIX, connectable, listening_addr};
use proctools::process;

use crate::Paths;

/// The longest any server may take to print `listening on`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Lesson 07's pool in the benchmark: a worker for every client of the
/// largest row (1,000), so that the pool neither refuses nor starves the
/// load generator's clients; the queue as large again. The lesson's
/// defaults (4 workers, a queue of 16) serve 4 clients at a time and
/// refuse the 21st: its point, shown by its tests, not a figure to time.
pub(crate) const POOL_WORKERS: &str = "1000";
pub(crate) const POOL_QUEUE: &str = "1000";

/// A server under test, its stdout going to a file (as a server's output
/// goes in the measurements: not through a pipe the benchmark would have to
/// read); killed and reaped on drop by its [`Guard`].
pub(crate) struct Server {
    child: Guard,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts `program args`, its stdout written to `log`, and waits for
    /// its `listening on IP:PORT` line there.
    pub(crate) fn start(program: &Path, args: &[&str], log: &Path) -> Result<Server, String> {
        let name = program.display().to_string();
        let out =
            File::create(log).map_err(|err| format!("cannot create {}: {err}", log.display()))?;
        let mut child = Guard::spawn(
            Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(Stdio::null()),
        )
        .map_err(|err| format!("cannot start {name}: {err}"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if let Some(line) = text
                .lines()
                .find(|l| l.trim_start().starts_with(LISTENING_PREFIX))
            {
                let addr = listening_addr(line)
                    .ok_or_else(|| format!("{name}: cannot read an address from {line:?}"))?;
                return Ok(Server {
                    child,
                    addr: connectable(addr),
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{name} exited ({status}) before listening"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{name} did not print `listening on` within {START_TIMEOUT:?}"
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the server has finished starting: lesson-07 prints
    /// `listening on` before it starts its workers, and a measurement's
    /// "before" must not miss them. Steady is the same threads and resident
    /// memory in two looks 50 ms apart; at most `timeout`.
    fn settle(self, timeout: Duration) -> Server {
        let until = Instant::now() + timeout;
        let look = || process::sample(self.pid()).map(|s| (s.threads, s.rss_bytes));
        let mut last = look().ok();
        while Instant::now() < until {
            thread::sleep(Duration::from_millis(50));
            let now = look().ok();
            if now.is_some() && now == last {
                break;
            }
            last = now;
        }
        self
    }

    /// Waits (bounded) for the server to exit by itself.
    pub(crate) fn wait(mut self, timeout: Duration) -> Result<(), String> {
        match self.child.wait_timeout(timeout) {
            Ok(Some(_)) => Ok(()),
            _ => Err(format!("the server did not exit within {timeout:?}")),
        }
    }

    /// Kills it now and waits until it is gone (its threads' memory given
    /// back to the kernel).
    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
    }
}

/// Which server, with which output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// lesson-05, the tutorial's server: a thread per client, a
    /// `println!` per message.
    Lesson05,
    /// lesson-05's hardened server (a thread per client, output batched).
    Hardened,
    /// lesson-05's hardened server, `--quiet`.
    HardenedQuiet,
    /// lesson-07, the thread pool, sized by [`POOL_WORKERS`].
    Lesson07,
    /// lesson-08, the mio event loop.
    Lesson08,
    /// lesson-08, `--quiet`.
    Lesson08Quiet,
    /// lesson-09, tokio.
    Lesson09,
    /// lesson-09, `--quiet`.
    Lesson09Quiet,
    /// The tutorial's threaded server in Python.
    Python,
}

/// What a server is started for: a conversation, or silent clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Talk,
    Idle,
}

impl Kind {
    /// The servers of the side-by-side tables, in the order of the course.
    pub(crate) const SIDE_BY_SIDE: [Kind; 6] = [
        Kind::Lesson05,
        Kind::Hardened,
        Kind::Lesson07,
        Kind::Lesson08,
        Kind::Lesson09,
        Kind::Python,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Lesson05 => "lesson-05",
            Kind::Hardened => "hardened",
            Kind::HardenedQuiet => "hardened --quiet",
            Kind::Lesson07 => "lesson-07",
            Kind::Lesson08 => "lesson-08",
            Kind::Lesson08Quiet => "lesson-08 --quiet",
            Kind::Lesson09 => "lesson-09",
            Kind::Lesson09Quiet => "lesson-09 --quiet",
            Kind::Python => "Python (tutorial)",
        }
    }

    /// A short name, for charts.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Kind::Python => "Python",
            Kind::HardenedQuiet => "hardened",
            Kind::Lesson08Quiet => "lesson-08",
            Kind::Lesson09Quiet => "lesson-09",
            other => other.name(),
        }
    }

    /// The lesson's package (the one whose folder must exist), if any.
    pub(crate) fn lesson(self) -> Option<&'static str> {
        match self {
            Kind::Lesson05 | Kind::Hardened | Kind::HardenedQuiet => Some("lesson-05"),
            Kind::Lesson07 => Some("lesson-07"),
            Kind::Lesson08 | Kind::Lesson08Quiet => Some("lesson-08"),
            Kind::Lesson09 | Kind::Lesson09Quiet => Some("lesson-09"),
            Kind::Python => None,
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Kind::Hardened | Kind::HardenedQuiet => "hardened",
            other => other.lesson().unwrap_or("python3"),
        }
    }

    fn quiet(self) -> bool {
        matches!(
            self,
            Kind::HardenedQuiet | Kind::Lesson08Quiet | Kind::Lesson09Quiet
        )
    }

    /// Whether this machine can run it: the lesson is in the workspace
    /// (lessons 07 and 09 arrive on their own branches) and built, or
    /// `python3` is there.
    pub(crate) fn available(self, paths: &Paths) -> bool {
        match self.lesson() {
            None => paths.python.is_some(),
            Some(lesson) => {
                paths
                    .root
                    .join("lessons")
                    .join(lesson)
                    .join("Cargo.toml")
                    .exists()
                    && paths.bin_dir.join(self.binary()).exists()
            }
        }
    }

    /// The flags it runs with, beyond `--host 127.0.0.1 --port 0`.
    pub(crate) fn flags(self, purpose: Purpose) -> Vec<&'static str> {
        let mut flags = Vec::new();
        if self == Kind::Lesson07 {
            flags.extend(["--workers", POOL_WORKERS, "--queue", POOL_QUEUE]);
            if purpose == Purpose::Idle {
                // Idle clients are the measurement: no deadline closes them.
                flags.extend(["--idle-timeout", "0"]);
            }
        }
        if self.quiet() {
            flags.push("--quiet");
        }
        flags
    }

    pub(crate) fn start(self, paths: &Paths, purpose: Purpose) -> Result<Server, String> {
        let log = paths
            .scratch
            .join(format!("{}.log", self.name().replace([' ', '(', ')'], "")));
        if self == Kind::Python {
            let python = paths.python.as_deref().ok_or("python3 is not available")?;
            let script = paths.root.join("tests/python/tutorial_threaded_server.py");
            let script = script.to_string_lossy();
            return Ok(
                Server::start(python, &[&script, "0", "127.0.0.1"], &log)?.settle(START_TIMEOUT)
            );
        }
        let mut args = vec!["--host", "127.0.0.1", "--port", "0"];
        args.extend(self.flags(purpose));
        Ok(Server::start(&paths.bin_dir.join(self.binary()), &args, &log)?.settle(START_TIMEOUT))
    }

    /// How it is started, for the tables' notes.
    pub(crate) fn command(self, purpose: Purpose) -> String {
        match self {
            Kind::Python => "`python3 tests/python/tutorial_threaded_server.py 0 127.0.0.1`".into(),
            Kind::Hardened | Kind::HardenedQuiet => {
                let mut words = vec!["cargo run --release -p lesson-05 --bin hardened --"];
                words.extend(self.flags(purpose));
                format!("`{}`", words.join(" ").trim_end_matches(" --"))
            }
            _ => {
                let lesson = self.lesson().unwrap_or("");
                let flags = self.flags(purpose);
                if flags.is_empty() {
                    format!("`cargo run --release -p {lesson}`")
                } else {
                    format!("`cargo run --release -p {lesson} -- {}`", flags.join(" "))
                }
            }
        }
    }
}
