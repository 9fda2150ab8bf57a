//! What every lesson's checks share: starting the program with the port put
//! into its command, waiting for it to listen, talking to it with timeouts,
//! and recording each check's outcome with its reason.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Check, Lesson};
use crate::sandbox::{Ending, Limits, Program, RunAs, Spec, describe_status};

/// How a whole grading run is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The command, with `{port}`, `{host}`, `{mode}` and `{bytes}` where
    /// the grader fills them in.
    pub command: Vec<String>,
    /// A fixed port for programs that hard-code one; otherwise a free port
    /// is chosen for every run.
    pub port: Option<u16>,
    /// Multiplies every timeout (for slow machines).
    pub time_scale: f64,
    /// The whole run's limit.
    pub total_timeout: Duration,
    /// Resource limits.
    pub limits: Limits,
    /// Who the program runs as.
    pub run_as: RunAs,
    /// Give the program's stdout a pseudo-terminal.
    pub pty: bool,
    /// The folder the program runs in; the grader's own if `None`.
    pub dir: Option<std::path::PathBuf>,
}

/// The address every program is given: loopback only.
pub const HOST: &str = "127.0.0.1";

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The check.
    pub check: &'static Check,
    /// Points earned: all or nothing.
    pub score: u32,
    /// Why points were lost.
    pub reason: Option<String>,
    /// How long the check took.
    pub duration: Duration,
    /// The end of the program's output, when the check failed.
    pub output_tail: Option<String>,
    /// A hint of its own, in place of the check's (a build that failed).
    pub hint: Option<String>,
}

impl Outcome {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.reason.is_none()
    }

    /// What to look at: this outcome's own hint, or the check's.
    pub fn hint(&self) -> &str {
        self.hint.as_deref().unwrap_or(self.check.hint)
    }
}

/// Collects outcomes in the lesson's check order.
pub struct Recorder {
    lesson: &'static Lesson,
    outcomes: Vec<Outcome>,
    started: Instant,
}

impl Recorder {
    /// For `lesson`.
    pub fn new(lesson: &'static Lesson) -> Self {
        Recorder {
            lesson,
            outcomes: Vec::new(),
            started: Instant::now(),
        }
    }

    fn check(&self, id: &str) -> &'static Check {
        self.lesson
            .check(id)
            .unwrap_or_else(|| panic!("{}: no check '{id}' in the catalog", self.lesson.id))
    }

    /// Starts timing the next check.
    pub fn start(&mut self) {
        self.started = Instant::now();
    }

    /// Records check `id` as passed.
    pub fn pass(&mut self, id: &str) {
        let check = self.check(id);
        self.outcomes.push(Outcome {
            check,
            score: check.points,
            reason: None,
            duration: self.started.elapsed(),
            output_tail: None,
            hint: None,
        });
        self.started = Instant::now();
    }

    /// Records check `id` as failed, with the reason and the program's
    /// output tail.
    pub fn fail(&mut self, id: &str, reason: impl Into<String>, program: Option<&Program>) {
        let check = self.check(id);
        self.outcomes.push(Outcome {
            check,
            score: 0,
            reason: Some(reason.into()),
            duration: self.started.elapsed(),
            output_tail: program.map(|p| p.output_tail(12)).filter(|t| !t.is_empty()),
            hint: None,
        });
        self.started = Instant::now();
    }

    /// Records `result` for check `id`.
    pub fn record(
        &mut self,
        id: &str,
        result: Result<(), String>,
        program: Option<&Program>,
    ) -> bool {
        match result {
            Ok(()) => {
                self.pass(id);
                true
            }
            Err(reason) => {
                self.fail(id, reason, program);
                false
            }
        }
    }

    /// Fails every check in `ids` that has no outcome yet, with `reason`.
    pub fn fail_rest(&mut self, ids: &[&str], reason: &str, program: Option<&Program>) {
        for id in ids {
            if !self.outcomes.iter().any(|o| o.check.id == *id) {
                self.fail(id, format!("not checked: {reason}"), program);
            }
        }
    }

    /// The outcomes, in the catalog's order.
    pub fn finish(mut self) -> Vec<Outcome> {
        let order: Vec<&str> = self.lesson.checks.iter().map(|c| c.id).collect();
        for id in &order {
            if !self.outcomes.iter().any(|o| o.check.id == *id) {
                self.fail(
                    id,
                    "not checked: the grader's time limit for the whole run was reached",
                    None,
                );
            }
        }
        self.outcomes.sort_by_key(|o| {
            order
                .iter()
                .position(|id| *id == o.check.id)
                .unwrap_or(usize::MAX)
        });
        self.outcomes
    }

    /// Whether check `id` passed.
    pub fn passed(&self, id: &str) -> bool {
        self.outcomes.iter().any(|o| o.check.id == id && o.passed())
    }
}

/// Every check of `lesson` failed for one reason that comes before any
/// check (a program that does not build, a setup step that failed), with
/// `hint` for every check and `tail` (the build's output) shown once, with
/// the first.
pub fn all_failed(
    lesson: &'static Lesson,
    reason: &str,
    hint: &str,
    tail: Option<String>,
) -> Vec<Outcome> {
    lesson
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| Outcome {
            check,
            score: 0,
            reason: Some(reason.to_owned()),
            duration: Duration::ZERO,
            output_tail: if i == 0 { tail.clone() } else { None },
            hint: Some(hint.to_owned()),
        })
        .collect()
}

/// The hint for a submission that does not build.
pub const BUILD_HINT: &str =
    "fix the build first: the compiler's message is in the output of the first check";

/// One grading run's context: settings, the whole run's deadline.
pub struct Ctx {
    /// The settings.
    pub settings: Settings,
    deadline: Instant,
}

/// The pattern size of lesson 06's source check.
pub const SOURCE_BYTES: usize = 8 * 1024 * 1024;

impl Ctx {
    /// A context whose run ends after `settings.total_timeout`.
    pub fn new(settings: Settings) -> Self {
        let deadline = Instant::now() + settings.total_timeout;
        Ctx { settings, deadline }
    }

    /// `base` scaled by `--time-scale`, and never past the run's deadline.
    pub fn timeout(&self, base: Duration) -> Duration {
        base.mul_f64(self.settings.time_scale)
            .min(self.deadline.saturating_duration_since(Instant::now()))
    }

    /// Whether the run's time is up.
    pub fn out_of_time(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// The port for the next run: the fixed one, or a free one.
    pub fn port(&self) -> Result<u16, String> {
        match self.settings.port {
            Some(port) => Ok(port),
            None => free_port(),
        }
    }

    /// The command with its placeholders filled in.
    pub fn argv(&self, port: u16, mode: Option<&str>) -> Vec<String> {
        self.settings
            .command
            .iter()
            .map(|arg| {
                arg.replace("{port}", &port.to_string())
                    .replace("{host}", HOST)
                    .replace("{mode}", mode.unwrap_or(""))
                    .replace("{bytes}", &SOURCE_BYTES.to_string())
            })
            .collect()
    }

    /// Starts the program on `port` (in `mode`), with `stdin` written to it.
    pub fn start(&self, port: u16, mode: Option<&str>, stdin: &[u8]) -> Result<Program, String> {
        let mut env = vec![
            ("PORT".to_owned(), port.to_string()),
            ("HOST".to_owned(), HOST.to_owned()),
            ("BYTES".to_owned(), SOURCE_BYTES.to_string()),
            // Python: print UTF-8 whatever the locale, so that the output
            // can be read.
            ("PYTHONIOENCODING".to_owned(), "utf-8".to_owned()),
        ];
        if let Some(mode) = mode {
            env.push(("MODE".to_owned(), mode.to_owned()));
        }
        let spec = Spec {
            argv: self.argv(port, mode),
            env,
            dir: self.settings.dir.clone(),
            stdin: stdin.to_vec(),
            pty: self.settings.pty,
            limits: self.settings.limits,
            run_as: self.settings.run_as.clone(),
        };
        Program::start(&spec).map_err(|err| {
            let hint = match (&self.settings.run_as, err.kind()) {
                (RunAs::User { name, .. }, std::io::ErrorKind::PermissionDenied) => format!(
                    " (the program runs as user {name}: make it and its folders readable by others, or pass --run-as root)"
                ),
                (_, std::io::ErrorKind::NotFound) => " (is the command's first word a program on the PATH?)".to_owned(),
                _ => String::new(),
            };
            format!("cannot start `{}`: {err}{hint}", spec.argv.join(" "))
        })
    }

    /// Waits until the program listens on `port`, and explains when it
    /// does not: it exited, or listens elsewhere, or never listened.
    pub fn wait_listening(&self, program: &mut Program, port: u16) -> Result<(), String> {
        let timeout = self.timeout(Duration::from_secs(10));
        let deadline = Instant::now() + timeout;
        loop {
            if crate::probe::is_listening(port) && self.listens_on(program, port) {
                return Ok(());
            }
            if let Some(status) = program.exited() {
                // A program that forked a daemon may have exited while its
                // child listens.
                if crate::probe::is_listening(port) && !program.listening_ports().is_empty() {
                    return Ok(());
                }
                return Err(format!(
                    "the program ended ({}) without listening on port {port}",
                    describe_status(status)
                ));
            }
            if Instant::now() >= deadline {
                let elsewhere = program.listening_ports();
                return Err(if elsewhere.is_empty() {
                    format!("the program did not listen on port {port} within {timeout:.1?}")
                } else {
                    format!(
                        "the program listens on port {}, not on {port}: take the port from the command line ({{port}}) or the PORT variable",
                        join(&elsewhere)
                    )
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the program (not some other process) owns the listener on
    /// `port`, where that can be told.
    fn listens_on(&self, program: &Program, port: u16) -> bool {
        !crate::probe::available() || program.listening_ports().contains(&port)
    }

    /// Listens on the next port and starts a client program (in `mode`)
    /// that is to connect to it: the grader plays the server.
    pub fn start_client(
        &self,
        mode: Option<&str>,
        stdin: &[u8],
    ) -> Result<(TcpListener, Program), String> {
        let listener = self
            .port()
            .and_then(listen)
            .map_err(|err| format!("the grader cannot listen: {err}"))?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| e.to_string())?;
        let program = self.start(port, mode, stdin)?;
        Ok((listener, program))
    }

    /// Stops the program and returns how it ended.
    pub fn stop(&self, program: &mut Program) -> Ending {
        program.stop(Duration::from_millis(1000))
    }

    /// Connects to the program on loopback `port`, with I/O timeouts.
    pub fn connect(&self, port: u16) -> Result<TcpStream, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loadgen::connect(
            addr,
            self.timeout(Duration::from_secs(5)),
            self.timeout(Duration::from_secs(5)),
        )
        .map_err(|err| format!("cannot connect to {addr}: {err}"))
    }
}

fn join(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A port that nothing listens on right now.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|err| format!("cannot find a free port: {err}"))
}

/// Listens on loopback `port` for a client program.
pub fn listen(port: u16) -> Result<TcpListener, String> {
    netcore::listener::ListenerBuilder::new(SocketAddr::from(([127, 0, 0, 1], port)))
        .listen()
        .map_err(|err| err.to_string())
}

/// Accepts one connection within `timeout`, giving up early (with the
/// reason) when the program ends first.
pub fn accept(
    listener: &TcpListener,
    program: &mut Program,
    timeout: Duration,
) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .map_err(|e| e.to_string())?;
                stream
                    .set_write_timeout(Some(Duration::from_secs(5)))
                    .map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(format!("accept failed: {err}")),
        }
        if let Some(status) = program.exited() {
            // It may have connected just before it ended.
            if let Ok((stream, _)) = listener.accept() {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            return Err(format!(
                "the program ended ({}) without connecting",
                describe_status(status)
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!("the program did not connect within {timeout:.1?}"));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Reads what the peer sends until it pauses for `quiet`, closes, or
/// `timeout` passes; at most `limit` bytes. Returns the bytes and whether
/// the stream ended.
pub fn read_message(
    stream: &mut TcpStream,
    timeout: Duration,
    quiet: Duration,
    limit: usize,
) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + timeout;
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || data.len() >= limit {
            return (data, false);
        }
        let wait = if data.is_empty() {
            left
        } else {
            quiet.min(left)
        };
        let _ = stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match stream.read(&mut buffer) {
            Ok(0) => return (data, true),
            Ok(n) => data.extend_from_slice(&buffer[..n]),
            Err(err) if loadgen::pingpong::is_timeout(&err) => {
                if !data.is_empty() {
                    return (data, false);
                }
            }
            Err(_) => return (data, true),
        }
    }
}

/// Reads until end of stream or `timeout`; returns the bytes and whether
/// the stream ended.
pub fn read_to_end(stream: &mut TcpStream, timeout: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + timeout;
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    while Instant::now() < deadline && data.len() < 16 << 20 {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = stream.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match stream.read(&mut buffer) {
            Ok(0) => return (data, true),
            Ok(n) => data.extend_from_slice(&buffer[..n]),
            Err(err) if loadgen::pingpong::is_timeout(&err) => {}
            // A reset also ends the stream.
            Err(_) => return (data, true),
        }
    }
    (data, false)
}

/// Sends all of `data`.
pub fn send(stream: &mut TcpStream, data: &[u8]) -> Result<(), String> {
    stream
        .write_all(data)
        .map_err(|err| format!("cannot send to the program: {err}"))
}

/// The verdict of an "exits with status 0" check: `exited` is what
/// waiting for the program gave, `ending` how it was finally stopped, and
/// `after` says after what it was still running ("the reply").
pub fn exit_zero(
    exited: Option<std::process::ExitStatus>,
    ending: Ending,
    after: &str,
) -> Result<(), String> {
    match exited {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(format!(
            "the program ended with {}",
            describe_status(status)
        )),
        None => Err(format!(
            "the program was still running 5 s after {after} ({})",
            self::ending(ending)
        )),
    }
}

/// Whether the text shows an uncaught error: a Python traceback, a Rust
/// panic, a Java stack trace.
pub fn crashed(output: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(output);
    [
        ("Traceback (most recent call last)", "a Python traceback"),
        ("panicked at", "a Rust panic"),
        ("Exception in thread", "a Java exception"),
        ("Segmentation fault", "a segmentation fault"),
    ]
    .into_iter()
    .find(|(needle, _)| text.contains(needle))
    .map(|(_, what)| what)
}

/// Whether the program's output holds `text`, as UTF-8 or as GBK bytes.
pub fn printed(program: &Program, text: &str) -> bool {
    let stdout = program.stdout();
    let gbk = netcore::text::Encoding::Gbk
        .encode(text)
        .unwrap_or_default();
    netcore::testing::contains(&stdout, text.as_bytes())
        || netcore::testing::contains(&stdout, &gbk)
}

/// The reason a run ended as it did, for messages.
pub fn ending(ending: Ending) -> String {
    match ending {
        Ending::ByItself(status) => describe_status(status),
        Ending::Stopped(signal, status) => format!(
            "stopped by the grader with {signal}, {}",
            describe_status(status)
        ),
    }
}
