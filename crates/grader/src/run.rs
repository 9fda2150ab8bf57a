//! What every lesson's checks share: starting the program with the port put
//! into its command, waiting for it to listen, talking to it with timeouts,
//! and recording each check's outcome with its reason.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitStatus;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Check, Lesson};
use crate::i18n::Text;
use crate::sandbox::{Ending, Limits, Program, RunAs, Spec, describe_status};
use crate::tr;

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
    /// The locale the program runs in (`LANG` and `LC_ALL`); `None` keeps
    /// the grader's own.
    pub locale: Option<String>,
    /// Environment variables the teacher adds (`--env`), over the clean
    /// environment programs get.
    pub env: Vec<(String, String)>,
    /// The submission's jail, once entered.
    pub jail: Option<std::sync::Arc<crate::jail::Jail>>,
}

/// The locale programs get unless the teacher says otherwise: without a
/// UTF-8 locale (a plain Docker image has none set) Java prints `?` for
/// every Chinese character.
pub const DEFAULT_LOCALE: &str = "C.UTF-8";

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
        self.hint.as_deref().unwrap_or(self.check.hint.tr())
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

    /// The lesson whose checks it records.
    pub fn lesson(&self) -> &'static Lesson {
        self.lesson
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

    /// Fails every check in `ids` that has no outcome yet as "not
    /// checked", because of `reason`. Their hint sends the student to the
    /// check that failed first (its own hint would talk about something
    /// that was never tried), and the program's output is not repeated: it
    /// is under that check.
    pub fn fail_rest(&mut self, ids: &[&str], reason: &str) {
        let blocker = self.outcomes.iter().find(|o| !o.passed());
        let hint = blocker.map(|b| {
            let id = b.check.id;
            tr!(
                "first make `{id}` pass: this check could not run without it",
                "先让 `{id}` 通过：没有它，这一项无法检查"
            )
        });
        for id in ids {
            if !self.outcomes.iter().any(|o| o.check.id == *id) {
                let check = self.check(id);
                self.outcomes.push(Outcome {
                    check,
                    score: 0,
                    reason: Some(tr!("not checked: {reason}", "未检查：{reason}")),
                    duration: Duration::ZERO,
                    output_tail: None,
                    hint: hint.clone(),
                });
            }
        }
        self.started = Instant::now();
    }

    /// The outcomes, in the catalog's order.
    pub fn finish(mut self) -> Vec<Outcome> {
        let order: Vec<&str> = self.lesson.checks.iter().map(|c| c.id).collect();
        for id in &order {
            if !self.outcomes.iter().any(|o| o.check.id == *id) {
                self.fail(
                    id,
                    tr!(
                        "not checked: the grader's time limit for the whole run (--timeout) was reached",
                        "未检查：已经到了评分程序整次运行的时间上限（--timeout）"
                    ),
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
pub const BUILD_HINT: Text = Text::new(
    "fix the build first: the compiler's message is in the output of the first check",
    "先修好构建：编译器的报错在第一个检查项的输出里",
);

/// One grading run's context: settings, the whole run's deadline, and
/// whether the program could be started at all.
pub struct Ctx {
    /// The settings.
    pub settings: Settings,
    deadline: Instant,
    setup_error: Mutex<Option<String>>,
}

impl Ctx {
    /// A context whose run ends after `settings.total_timeout`.
    pub fn new(settings: Settings) -> Self {
        let deadline = Instant::now() + settings.total_timeout;
        Ctx {
            settings,
            deadline,
            setup_error: Mutex::new(None),
        }
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

    /// Why the program could not be started at all (a missing interpreter,
    /// a file its user cannot read, a runtime that cannot start): a setup
    /// problem, not the student's failure. Once seen, no further run is
    /// tried.
    pub fn setup_error(&self) -> Option<String> {
        lock(&self.setup_error).clone()
    }

    fn set_setup_error(&self, reason: &str) {
        lock(&self.setup_error).get_or_insert_with(|| reason.to_owned());
    }

    /// The port for the next run: the fixed one, or a free one.
    pub fn port(&self) -> Result<u16, String> {
        match self.settings.port {
            Some(port) => Ok(port),
            None => free_port(),
        }
    }

    /// The command with its placeholders filled in: `{port}`, `{host}`,
    /// `{mode}` and each of `vars` (`("bytes", "5000")` fills `{bytes}`);
    /// a placeholder with no value becomes empty.
    pub fn argv(&self, port: u16, mode: Option<&str>, vars: &[(&str, String)]) -> Vec<String> {
        self.settings
            .command
            .iter()
            .map(|arg| {
                let mut arg = arg
                    .replace("{port}", &port.to_string())
                    .replace("{host}", HOST)
                    .replace("{mode}", mode.unwrap_or(""));
                for (name, value) in vars {
                    arg = arg.replace(&format!("{{{name}}}"), value);
                }
                arg.replace("{bytes}", "")
            })
            .collect()
    }

    /// Starts the program on `port` (in `mode`), with `stdin` written to it.
    pub fn start(&self, port: u16, mode: Option<&str>, stdin: &[u8]) -> Result<Program, String> {
        self.start_with(port, mode, stdin, &[])
    }

    /// [`Ctx::start`], with more placeholders: each of `vars` fills
    /// `{name}` in the command and is set as `NAME` in the environment.
    pub fn start_with(
        &self,
        port: u16,
        mode: Option<&str>,
        stdin: &[u8],
        vars: &[(&str, String)],
    ) -> Result<Program, String> {
        if let Some(error) = self.setup_error() {
            return Err(tr!("not run: {error}", "未运行：{error}"));
        }
        let mut env = self.settings.env.clone();
        env.extend([
            ("PORT".to_owned(), port.to_string()),
            ("HOST".to_owned(), HOST.to_owned()),
            // Python: print UTF-8 whatever the locale, so that the output
            // can be read.
            ("PYTHONIOENCODING".to_owned(), "utf-8".to_owned()),
        ]);
        match &self.settings.locale {
            Some(locale) => {
                env.push(("LANG".to_owned(), locale.clone()));
                env.push(("LC_ALL".to_owned(), locale.clone()));
            }
            None => {
                for name in ["LANG", "LC_ALL", "LC_CTYPE"] {
                    if let Ok(value) = std::env::var(name) {
                        env.push((name.to_owned(), value));
                    }
                }
            }
        }
        if let Some(mode) = mode {
            env.push(("MODE".to_owned(), mode.to_owned()));
        }
        for (name, value) in vars {
            env.push((name.to_uppercase(), value.clone()));
        }
        let spec = Spec {
            argv: self.argv(port, mode, vars),
            env,
            dir: self.settings.dir.clone(),
            stdin: stdin.to_vec(),
            pty: self.settings.pty,
            limits: self.settings.limits,
            run_as: self.settings.run_as.clone(),
            jail: self.settings.jail.clone(),
        };
        Program::start(&spec).map_err(|err| {
            let hint = match (&self.settings.run_as, err.kind()) {
                (RunAs::User { name, .. }, std::io::ErrorKind::PermissionDenied) => tr!(
                    " (the program runs as user {name}: make it and its folders readable by others, or pass --run-as root)",
                    "（程序以用户 {name} 的身份运行：让它和它所在的文件夹对其他用户可读，或者传入 --run-as root）"
                ),
                (_, std::io::ErrorKind::NotFound) => tr!(
                    " (is the command's first word a program on the PATH?)",
                    "（命令的第一个词是 PATH 上的程序吗？）"
                ),
                _ => String::new(),
            };
            let argv = spec.argv.join(" ");
            let reason = tr!(
                "cannot start `{argv}`: {err}{hint}",
                "无法启动 `{argv}`：{err}{hint}"
            );
            self.set_setup_error(&reason);
            reason
        })
    }

    /// Why `program`, which ended before doing anything, could not be
    /// started, when that is what its status and output say; recorded as
    /// the run's setup error.
    fn launch_failure(&self, program: &Program, status: ExitStatus) -> Option<String> {
        let output = [program.stdout(), program.stderr()].concat();
        let failure = launch_failure(status, &output)?;
        // A runtime that says it cannot find the program's file, where that
        // file is there: the program itself printed it (a student cannot
        // turn a failing program into "not graded" so).
        if let Some(file) = named_file(&String::from_utf8_lossy(&output))
            && self.program_file(&file).exists()
        {
            return None;
        }
        self.set_setup_error(&failure);
        Some(failure)
    }

    /// Where the grader finds `path` as the program sees it.
    fn program_file(&self, path: &str) -> std::path::PathBuf {
        let path = std::path::Path::new(path);
        if let Some(jail) = &self.settings.jail {
            return jail.host_path(path, self.settings.dir.as_deref());
        }
        match &self.settings.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The reason a program ended before it listened or connected: its
    /// status, or why it could not be started at all. `without` says what
    /// it did not do, in the grading's language: "listening on port N"
    /// ("在端口 N 上监听").
    fn ended_early(&self, program: &Program, status: ExitStatus, without: &str) -> String {
        match self.launch_failure(program, status) {
            Some(failure) => tr!(
                "the program could not be started: {failure}",
                "程序无法启动：{failure}"
            ),
            None => {
                let status = describe_status(status);
                tr!(
                    "the program ended ({status}) without {without}",
                    "程序还没有{without}就结束了（{status}）"
                )
            }
        }
    }

    /// Starts a server program (in `mode`) on the next port and waits until
    /// it listens. `Err` holds the reason and the program, stopped, when it
    /// started at all (its output goes with the reason). A program whose
    /// `bind` found its port taken, by a process that took it between the
    /// grader's choice and the program's start (another grading on the
    /// machine), is started again on another port: that is not the
    /// program's fault. With a fixed `--port` it is reported as it is.
    pub fn start_server(
        &self,
        mode: Option<&str>,
    ) -> Result<(Program, u16), (String, Option<Program>)> {
        const TRIES: usize = 3;
        for attempt in 1..=TRIES {
            let port = self.port().map_err(|err| (err, None))?;
            let mut program = self.start(port, mode, b"").map_err(|err| (err, None))?;
            match self.wait_listening(&mut program, port) {
                Ok(()) => return Ok((program, port)),
                Err(reason) => {
                    self.stop(&mut program);
                    let raced = self.settings.port.is_none()
                        && attempt < TRIES
                        && program
                            .ending()
                            .is_some_and(|e| matches!(e, Ending::ByItself(_)))
                        && address_in_use(&[program.stdout(), program.stderr()].concat());
                    if !raced {
                        return Err((reason, Some(program)));
                    }
                }
            }
        }
        unreachable!("the last try returns")
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
            if let Some(far) = program
                .listening_sockets()
                .into_iter()
                .find(|s| s.port == port && !s.reachable_on_loopback())
            {
                let addr = far.addr;
                return Err(tr!(
                    "the program listens on port {port}, but only on the address {addr}, which a client on 127.0.0.1 cannot reach (its connections are refused): bind to every address (\"\" or 0.0.0.0) or to 127.0.0.1, and check bind()'s result",
                    "程序在端口 {port} 上监听，但只监听地址 {addr}，127.0.0.1 上的客户端连不到它（连接会被拒绝）：绑定到所有地址（\"\" 或 0.0.0.0）或者 127.0.0.1，并检查 bind() 的结果"
                ));
            }
            if let Some(status) = program.exited() {
                // A program that forked a daemon may have exited while its
                // child listens.
                if crate::probe::is_listening(port) && !program.listening_ports().is_empty() {
                    return Ok(());
                }
                return Err(self.ended_early(
                    program,
                    status,
                    &tr!("listening on port {port}", "在端口 {port} 上监听"),
                ));
            }
            if Instant::now() >= deadline {
                // Asked once more, so that the reason is read from the same
                // moment as the verdict: a program that began to listen just
                // now (a machine kept busy, by the program's own processes
                // too) passes rather than being told it listens elsewhere.
                if crate::probe::is_listening(port) && self.listens_on(program, port) {
                    return Ok(());
                }
                return Err(not_listening(program, port, timeout));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the program (not some other process) owns a listener on
    /// `port` that the grader can reach on loopback, where that can be
    /// told.
    fn listens_on(&self, program: &Program, port: u16) -> bool {
        !crate::probe::available()
            || program
                .listening_sockets()
                .iter()
                .any(|s| s.port == port && s.reachable_on_loopback())
    }

    /// Listens on the next port and starts a client program (in `mode`)
    /// that is to connect to it: the grader plays the server.
    pub fn start_client(
        &self,
        mode: Option<&str>,
        stdin: &[u8],
    ) -> Result<(TcpListener, Program), String> {
        self.start_client_with(mode, stdin, &[])
    }

    /// [`Ctx::start_client`] with more placeholders (see [`Ctx::start_with`]).
    pub fn start_client_with(
        &self,
        mode: Option<&str>,
        stdin: &[u8],
        vars: &[(&str, String)],
    ) -> Result<(TcpListener, Program), String> {
        // The grader listens first, on a port the system chooses: nothing
        // can take it between the choice and the listening.
        let listener = listen(self.settings.port.unwrap_or(0))
            .map_err(|err| tr!("the grader cannot listen: {err}", "评分程序无法监听：{err}"))?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| e.to_string())?;
        let program = self.start_with(port, mode, stdin, vars)?;
        Ok((listener, program))
    }

    /// Accepts the client program's connection within 10 s (scaled),
    /// giving up early, with the reason, when the program ends first.
    pub fn accept(
        &self,
        listener: &TcpListener,
        program: &mut Program,
    ) -> Result<TcpStream, String> {
        let timeout = self.timeout(Duration::from_secs(10));
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + timeout;
        loop {
            match listener.accept() {
                Ok((stream, _)) => return blocking_with_timeouts(stream),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(tr!("accept failed: {err}", "accept 失败：{err}")),
            }
            if let Some(status) = program.exited() {
                // It may have connected just before it ended.
                if let Ok((stream, _)) = listener.accept() {
                    return blocking_with_timeouts(stream);
                }
                return Err(self.ended_early(program, status, &tr!("connecting", "连接")));
            }
            if Instant::now() >= deadline {
                return Err(tr!(
                    "the program did not connect within {timeout:.1?}",
                    "程序没有在 {timeout:.1?} 内连接上来"
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
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
        .map_err(|err| tr!("cannot connect to {addr}: {err}", "无法连接 {addr}：{err}"))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn blocking_with_timeouts(stream: TcpStream) -> Result<TcpStream, String> {
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Why a program that is still running does not listen on `port` after
/// `waited`: it listens elsewhere (a port of its own, or one the system
/// chose because its `bind` failed), or on nothing; or the port was taken
/// by another process.
fn not_listening(program: &Program, port: u16, waited: Duration) -> String {
    let elsewhere = program.listening_ports();
    if elsewhere.contains(&port) {
        return tr!(
            "the program began to listen on port {port} only after {waited:.1?}, the time a program has to listen (a machine kept busy, by the program's own processes too, slows it: pass --time-scale to give programs more time)",
            "程序过了 {waited:.1?} 才开始在端口 {port} 上监听，这是留给程序开始监听的全部时间（机器太忙会拖慢程序，程序自己的进程也会让机器变忙：传入 --time-scale 给程序更多时间）"
        );
    }
    if elsewhere.is_empty() {
        if crate::probe::is_listening(port) {
            return tr!(
                "port {port} was taken by another process, not the program: the program did not listen on it within {waited:.1?} (grade it again; if it persists, something else on this machine uses the port)",
                "端口 {port} 被另一个进程占用了，不是被程序占用：程序没有在 {waited:.1?} 内在这个端口上监听（请重新评分；如果一直这样，说明这台机器上有别的东西在用这个端口）"
            );
        }
        return tr!(
            "the program did not listen on port {port} within {waited:.1?}",
            "程序没有在 {waited:.1?} 内在端口 {port} 上监听"
        );
    }
    let swapped = port.swap_bytes();
    if elsewhere.contains(&swapped) {
        return tr!(
            "the program listens on port {swapped}, which is {port} with its two bytes swapped: a port number goes into the socket address in network byte order; C: sin_port = htons(port)",
            "程序在端口 {swapped} 上监听，这是把 {port} 的两个字节对调后的数：端口号要按网络字节序放进套接字地址；C：sin_port = htons(port)"
        );
    }
    let ports = join(&elsewhere);
    let ephemeral = ephemeral_ports();
    if elsewhere.iter().all(|p| ephemeral.contains(p)) {
        tr!(
            "the program listens on port {ports}, not on {port}: a port the system chose, as it does when bind() failed unchecked (for example for an address that is not this machine's), was never called, or asked for port 0; check bind()'s result, and bind the port given on the command line ({{port}}) or in PORT",
            "程序在端口 {ports} 上监听，而不是 {port}：这是系统挑选的端口，当 bind() 失败了却没有检查（例如绑定的地址不属于本机）、根本没有调用 bind()，或者要的是端口 0 时，系统就会这样做；请检查 bind() 的结果，并绑定命令行（{{port}}）或 PORT 给出的端口"
        )
    } else {
        tr!(
            "the program listens on port {ports}, not on {port}: take the port from the command line ({{port}}) or the PORT variable",
            "程序在端口 {ports} 上监听，而不是 {port}：请从命令行（{{port}}）或 PORT 变量读取端口"
        )
    }
}

/// The range the system picks ports from when a socket is not bound
/// (Linux: `net.ipv4.ip_local_port_range`).
fn ephemeral_ports() -> std::ops::RangeInclusive<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
            Some(parts.next()??..=parts.next()??)
        })
        .unwrap_or(32768..=60999)
}

/// Why a program that ended at once could not be started at all, read
/// from its exit status and output: the shell found no such command or
/// could not run it, an interpreter could not open the program's file, a
/// runtime could not start. `None` when it looks like the program's own
/// doing.
pub fn launch_failure(status: ExitStatus, output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .map(|l| crate::sandbox::escape_line(l.trim(), 200))
    };
    const RUNTIME: &[(&str, Text)] = &[
        (
            "can't open file",
            Text::new(
                "Python cannot open the program's file",
                "Python 打不开程序的文件",
            ),
        ),
        (
            "Cannot find module",
            Text::new(
                "Node.js cannot find the program's file",
                "Node.js 找不到程序的文件",
            ),
        ),
        (
            "Could not find or load main class",
            Text::new(
                "Java cannot find the program's class",
                "Java 找不到程序的类",
            ),
        ),
        (
            "Error occurred during initialization of VM",
            Text::new(
                "the Java VM could not start (not the program's fault: raise --memory, or see the line below)",
                "Java 虚拟机无法启动（不是程序的错：调大 --memory，或者看下面那一行）",
            ),
        ),
        (
            "Could not reserve enough space",
            Text::new(
                "the Java VM could not reserve its heap (not the program's fault: raise --memory)",
                "Java 虚拟机无法预留它的堆（不是程序的错：调大 --memory）",
            ),
        ),
        (
            "insufficient memory for the Java Runtime Environment",
            Text::new(
                "the Java VM ran out of memory as it started (its initial heap is a share of the machine's memory: raise --memory, or give java -Xms)",
                "Java 虚拟机在启动时内存不足（它的初始堆按机器内存的一定比例分配：调大 --memory，或者给 java 传入 -Xms）",
            ),
        ),
        (
            "error while loading shared libraries",
            Text::new(
                "a library the program needs is missing",
                "缺少程序需要的一个库",
            ),
        ),
    ];
    for (needle, what) in RUNTIME {
        if let Some(line) = line(needle) {
            let detail = text
                .lines()
                .skip_while(|l| !l.contains(needle))
                .nth(1)
                .filter(|_| needle.starts_with("Error occurred"))
                .map(|l| format!(" / {}", crate::sandbox::escape_line(l.trim(), 200)))
                .unwrap_or_default();
            let what = what.tr();
            return Some(tr!("{what}: {line}{detail}", "{what}：{line}{detail}"));
        }
    }
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(": {}", crate::sandbox::escape_line(l.trim(), 200)))
        .unwrap_or_default();
    match status.code() {
        Some(127) => Some(tr!(
            "the command was not found (exit status 127){first}; is it on the PATH of the user the program runs as?",
            "找不到这个命令（退出码 127）{first}；它在运行程序的那个用户的 PATH 上吗？"
        )),
        Some(126) => Some(tr!(
            "the command could not be run (exit status 126: not executable, or permission denied){first}",
            "这个命令无法运行（退出码 126：不可执行，或者权限不足）{first}"
        )),
        _ => None,
    }
}

/// The file a runtime's "cannot find the program" message names: Python's
/// `can't open file 'F'`, Node.js's `Cannot find module 'F'`, Java's
/// `Could not find or load main class C` (as `C.class`).
fn named_file(output: &str) -> Option<String> {
    for (before, after) in [("can't open file '", "'"), ("Cannot find module '", "'")] {
        if let Some(rest) = output.split(before).nth(1) {
            return rest.split(after).next().map(str::to_owned);
        }
    }
    let class = output
        .split("Could not find or load main class ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(format!("{}.class", class.replace('.', "/")))
}

fn join(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a program's output says its `bind` found the address in use
/// (Python, C's perror, Java, Node.js, Go and Rust all say it so).
fn address_in_use(output: &[u8]) -> bool {
    let text = String::from_utf8_lossy(output).to_lowercase();
    text.contains("address already in use") || text.contains("eaddrinuse")
}

/// A port that nothing uses right now, for a program to listen on. It is
/// taken below the range the system picks client ports from (Linux:
/// `ip_local_port_range`, 32768 and up), so that none of the many client
/// connections on the machine (the grader's own, other gradings') can take
/// it before the program binds it.
pub fn free_port() -> Result<u16, String> {
    let ephemeral = ephemeral_ports();
    let low = 10_000u16;
    if *ephemeral.start() > low + 1000 {
        let span = u64::from(*ephemeral.start() - low);
        for _ in 0..200 {
            let port = low + (random_u64() % span) as u16;
            if bindable(port) {
                return Ok(port);
            }
        }
    }
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|err| tr!("cannot find a free port: {err}", "找不到空闲的端口：{err}"))
}

/// Whether a program without SO_REUSEADDR could bind `port` on every
/// address now (std's `TcpListener` sets SO_REUSEADDR, which would not
/// notice a connection of an earlier run in TIME_WAIT).
fn bindable(port: u16) -> bool {
    use socket2::{Domain, Socket, Type};
    Socket::new(Domain::IPV4, Type::STREAM, None)
        .and_then(|socket| socket.bind(&SocketAddr::from(([0, 0, 0, 0], port)).into()))
        .is_ok()
}

/// Listens on loopback `port` for a client program.
pub fn listen(port: u16) -> Result<TcpListener, String> {
    netcore::listener::ListenerBuilder::new(SocketAddr::from(([127, 0, 0, 1], port)))
        .listen()
        .map_err(|err| err.to_string())
}

/// A number that differs from run to run (not for cryptography): what the
/// grader sends and expects varies, so that a program cannot pass by
/// knowing it in advance.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
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
    stream.write_all(data).map_err(|err| {
        tr!(
            "cannot send to the program: {err}",
            "无法向程序发送数据：{err}"
        )
    })
}

/// Ends the grader's side of a conversation as the tutorial's programs do
/// once they have said everything: a FIN (`shutdown(SHUT_WR)`), reading
/// still possible. A program that closes gracefully (Node.js's `end()`,
/// a half-close and a read until end of stream) waits for it; the grader
/// sends it before it waits for the program to exit.
pub fn finish_sending(stream: &TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// The verdict of an "exits with status 0" check: `exited` is what
/// waiting for the program gave, `ending` how it was finally stopped, and
/// `after` says after what it was still running, in the grading's
/// language ("the reply", "回复").
pub fn exit_zero(
    exited: Option<std::process::ExitStatus>,
    ending: Ending,
    after: &str,
) -> Result<(), String> {
    match exited {
        Some(status) if status.success() => Ok(()),
        Some(status) => {
            let status = describe_status(status);
            Err(tr!(
                "the program ended with {status}",
                "程序结束了，{status}"
            ))
        }
        None => {
            let ending = self::ending(ending);
            Err(tr!(
                "the program was still running 5 s after {after} ({ending})",
                "{after}之后过了 5 秒，程序仍在运行（{ending}）"
            ))
        }
    }
}

/// Whether the text shows an uncaught error: a Python traceback, a Rust
/// panic, a Java stack trace, a Node.js exception; what it is, in the
/// grading's language.
pub fn crashed(output: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(output);
    [
        (
            "Traceback (most recent call last)",
            Text::new("a Python traceback", "Python 的 traceback"),
        ),
        ("panicked at", Text::new("a Rust panic", "Rust 的 panic")),
        (
            "Exception in thread",
            Text::new("a Java exception", "Java 异常"),
        ),
        (
            "Segmentation fault",
            Text::new("a segmentation fault", "segmentation fault（段错误）"),
        ),
        (
            "Node.js v",
            Text::new("a Node.js exception", "Node.js 异常"),
        ),
    ]
    .into_iter()
    .find(|(needle, _)| text.contains(needle))
    .map(|(_, what)| what.tr())
}

/// Whether the program printed `text`, on stdout or stderr (Python's
/// `logging` and C's `fprintf(stderr, ...)` write to stderr), as UTF-8 or
/// as GBK bytes.
pub fn printed(program: &Program, text: &str) -> bool {
    let gbk = netcore::text::Encoding::Gbk
        .encode(text)
        .unwrap_or_default();
    [program.stdout(), program.stderr()]
        .iter()
        .any(|output| contains(output, text.as_bytes()) || contains(output, &gbk))
}

/// The verdict of the `prints-messages` checks: a client talked to the
/// server (`talked`, the error if it could not), and the server printed
/// the `message` it sent, in UTF-8 or GBK, on stdout or stderr.
pub fn printed_message(
    program: &Program,
    talked: Result<(), String>,
    message: &str,
) -> Result<(), String> {
    match talked {
        Err(err) => Err(tr!(
            "a client could not talk to the server: {err}",
            "一个客户端无法和服务端对话：{err}"
        )),
        Ok(()) if printed(program, message) => Ok(()),
        Ok(()) => Err(tr!(
            "neither stdout nor stderr holds the message {message} a client sent (in GBK)",
            "stdout 和 stderr 里都没有客户端发送的消息 {message}（GBK 编码）"
        )),
    }
}

/// Whether `haystack` holds `needle`, compared as bytes: GBK output never
/// goes through a UTF-8 conversion, which would turn it into `�`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The reason a run ended as it did, for messages.
pub fn ending(ending: Ending) -> String {
    match ending {
        Ending::ByItself(status) => describe_status(status),
        Ending::Stopped(signal, status) => {
            let status = describe_status(status);
            tr!(
                "stopped by the grader with {signal}, {status}",
                "被评分程序用 {signal} 停止，{status}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_compares_bytes() {
        // "我是" in GBK, and a needle that straddles its two characters.
        assert!(contains(b"\xce\xd2\xca\xc7", b"\xd2\xca"));
        assert!(!contains(b"\xce\xd2", b"\xd2\xca"));
        assert!(contains(b"", b""));
        assert!(!contains(b"", b"x"));
    }
}
