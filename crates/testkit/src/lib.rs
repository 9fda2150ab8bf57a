//! `testkit`: the harness of the course's tests. It runs a real lesson
//! binary, waits for it to listen, talks to it over loopback, and never
//! leaves it running.
//!
//! It is a dev-dependency only, of the lessons, the exercises, the
//! cross-lesson tests (`tests/`) and the tools' tests: no lesson's build
//! compiles it, and the grader does not use it when it grades. The child
//! process guard and the `listening on` line come from `proctools`, which
//! the benchmarks use to run the same servers.
//!
//! The pattern follows tokio's mini-redis tests: a server under test binds
//! port 0 (so two tests never fight over a port) and prints
//! `listening on IP:PORT`; the test reads that line, with a timeout, instead
//! of sleeping or guessing a free port. [`Process`] kills and reaps the child
//! when it is dropped, even when the test panics.
//!
//! Every wait here is bounded by a timeout; a failure is a `String` that says
//! what was expected and shows what the program printed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use proctools::child::{Guard, connectable, listening_addr};

/// How long a test waits for a program to do something it should do at
/// once. Generous: CI machines are shared and slow, and a passing test never
/// waits this long.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The line a server prints once it listens, before it accepts.
pub use proctools::child::LISTENING_PREFIX;

/// The environment variable that makes a missing `python3` a test failure
/// rather than a skip; `.ci/run` sets it.
pub const REQUIRE_PYTHON_ENV: &str = "SOCKET_LESSONS_REQUIRE_PYTHON";

/// The variables that choose a program's language when it is not given
/// `--lang` ([`netcore::lang::Lang::from_env`] reads them in this order).
pub const LOCALE_VARS: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];

/// Removes the locale variables from `command`'s environment, so that the
/// program speaks English, its default, on a machine set to Chinese too: a
/// learner with `LANG=zh_CN.UTF-8` runs the same tests. Every program a test
/// starts goes through this ([`Process::spawn`] calls it); a test of the
/// Chinese output passes `--lang zh` or sets a variable after it.
pub fn in_english(command: &mut Command) -> &mut Command {
    for var in LOCALE_VARS {
        command.env_remove(var);
    }
    command
}

/// A running program under test, with its stdout read line by line and its
/// stderr collected. Killed and reaped on drop (by its [`Guard`]).
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Guard,
    lines: Receiver<Vec<u8>>,
    stdout: Vec<u8>,
    stdout_closed: bool,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<thread::JoinHandle<()>>,
    listening: Option<SocketAddr>,
}

impl Process {
    /// Starts `command` with piped stdout and stderr and no stdin.
    pub fn spawn(mut command: Command) -> Result<Self, String> {
        let name = command.get_program().to_string_lossy().into_owned();
        let mut child = Guard::spawn(
            in_english(&mut command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .map_err(|err| format!("cannot start {name}: {err}"))?;
        let lines = read_lines(child.child_mut().stdout.take().ok_or("no stdout pipe")?);
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.child_mut().stderr.take().ok_or("no stderr pipe")?;
        let sink = Arc::clone(&stderr);
        let stderr_reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
        Ok(Process {
            name,
            child,
            lines,
            stdout: Vec::new(),
            stdout_closed: false,
            stderr,
            stderr_reader: Some(stderr_reader),
            listening: None,
        })
    }

    /// Starts a server and waits for its `listening on IP:PORT` line.
    pub fn start_server(command: Command) -> Result<Self, String> {
        let mut process = Self::spawn(command)?;
        process.wait_for_listening(TIMEOUT)?;
        Ok(process)
    }

    /// Starts the server `program` on a port the OS chooses, as
    /// `program --host 127.0.0.1 --port 0 EXTRA...`, and waits for its
    /// `listening on` line. Panics, showing what it printed, if it does not
    /// listen: a test can do nothing without its server.
    pub fn start_on_loopback(program: impl AsRef<std::ffi::OsStr>, extra: &[&str]) -> Self {
        let mut command = Command::new(program);
        command
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(extra);
        Self::start_server(command).unwrap_or_else(|err| panic!("{err}"))
    }

    /// Waits for the `listening on IP:PORT` line and returns the address.
    pub fn wait_for_listening(&mut self, timeout: Duration) -> Result<SocketAddr, String> {
        let line = self.expect_line(LISTENING_PREFIX, timeout)?;
        let line = String::from_utf8_lossy(&line);
        let addr = listening_addr(&line).ok_or_else(|| {
            format!(
                "{}: cannot read an address from {:?}",
                self.name,
                line.trim()
            )
        })?;
        self.listening = Some(addr);
        Ok(addr)
    }

    /// The address to connect to: the one the server printed, with an
    /// unspecified IP (`0.0.0.0`, `::`) replaced by loopback.
    ///
    /// # Panics
    /// When the server has not printed its `listening on` line yet.
    pub fn addr(&self) -> SocketAddr {
        connectable(
            self.listening
                .expect("the server has not printed `listening on` yet"),
        )
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Reads stdout lines until one contains `needle` (as bytes) and returns
    /// it, without its newline. Every line read is kept in
    /// [`stdout`](Self::stdout).
    pub fn expect_line(&mut self, needle: &str, timeout: Duration) -> Result<Vec<u8>, String> {
        self.expect_line_bytes(needle.as_bytes(), timeout)
    }

    /// [`expect_line`](Self::expect_line) for a needle that is not UTF-8.
    pub fn expect_line_bytes(
        &mut self,
        needle: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.extend_from_slice(&line);
                    self.stdout.push(b'\n');
                    if contains(&line, needle) {
                        return Ok(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.failure(format!(
                        "no line containing {:?} within {timeout:?}",
                        String::from_utf8_lossy(needle)
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.stdout_closed = true;
                    let status = self.wait_briefly();
                    // The stderr reader may not have read the program's
                    // last words yet: give it a moment, so the failure
                    // shows them.
                    self.settle_stderr(Duration::from_secs(2));
                    return Err(self.failure(format!(
                        "stdout closed ({status}) before a line containing {:?}",
                        String::from_utf8_lossy(needle)
                    )));
                }
            }
        }
    }

    /// Everything read from stdout so far, including lines that arrived
    /// since the last [`expect_line`](Self::expect_line).
    pub fn stdout(&mut self) -> &[u8] {
        while let Ok(line) = self.lines.try_recv() {
            self.stdout.extend_from_slice(&line);
            self.stdout.push(b'\n');
        }
        &self.stdout
    }

    /// Everything read from stderr so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits up to `timeout` for the program to exit by itself, then reads
    /// the rest of its output. Fails (leaving the child to `Drop`) when it
    /// is still running.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        let status = match self.child.wait_timeout(timeout) {
            Ok(Some(status)) => status,
            Ok(None) => return Err(self.failure(format!("still running after {timeout:?}"))),
            Err(err) => return Err(format!("{}: cannot wait: {err}", self.name)),
        };
        self.drain(deadline + TIMEOUT);
        Ok(status)
    }

    /// Sends `signal` (e.g. `"INT"`, `"TERM"`) to the program with `kill(1)`.
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .map_err(|err| format!("cannot run kill: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "kill -{signal} {} failed: {status}",
                self.child.id()
            ))
        }
    }

    fn drain(&mut self, deadline: Instant) {
        while !self.stdout_closed {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.extend_from_slice(&line);
                    self.stdout.push(b'\n');
                }
                Err(_) => self.stdout_closed = true,
            }
        }
        if let Some(reader) = self.stderr_reader.take() {
            // The pipe closes when the process (and anything it started
            // that inherited it) exits.
            let _ = reader.join();
        }
    }

    /// Waits up to `timeout` for the stderr reader to reach the end of the
    /// pipe (the program and anything it started have closed it).
    fn settle_stderr(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while let Some(reader) = &self.stderr_reader {
            if reader.is_finished() {
                let _ = self.stderr_reader.take().map(thread::JoinHandle::join);
            } else if Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            } else {
                break;
            }
        }
    }

    fn wait_briefly(&mut self) -> String {
        match self.child.wait_timeout(Duration::from_secs(2)) {
            Ok(Some(status)) => status.to_string(),
            _ => "still running".to_owned(),
        }
    }

    fn failure(&mut self, what: String) -> String {
        let stdout = String::from_utf8_lossy(self.stdout()).into_owned();
        let stderr = String::from_utf8_lossy(&self.stderr()).into_owned();
        format!(
            "{}: {what}\n--- stdout so far ---\n{stdout}--- stderr so far ---\n{stderr}",
            self.name
        )
    }
}

fn read_lines(stdout: ChildStdout) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Whether `haystack` contains `needle`, as bytes (GBK output is compared as
/// bytes, never through a UTF-8 conversion).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The tutorial's reply, "ok, 收到了", in GBK: what the servers of lessons
/// 05 and 07-09 send for every message.
pub const REPLY_GBK: &[u8] = b"ok, \xca\xd5\xb5\xbd\xc1\xcb";

/// `text` in GBK, as the tutorial's programs send it.
pub fn gbk(text: &str) -> Vec<u8> {
    netcore::text::Encoding::Gbk
        .encode(text)
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Sends `message` and reads exactly one reply the length of
/// [`REPLY_GBK`], which it returns for the test to compare. Panics if the
/// server closes or stays silent past the client's timeout.
pub fn ask(client: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    client
        .write_all(message)
        .unwrap_or_else(|err| panic!("send: {err}"));
    let mut reply = vec![0; REPLY_GBK.len()];
    client
        .read_exact(&mut reply)
        .unwrap_or_else(|err| panic!("reading a reply: {err}"));
    reply
}

/// A TCP client for tests: connected to `addr`, with read and write
/// timeouts so that a test never hangs on a silent server.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("set_read_timeout");
    stream
        .set_write_timeout(Some(TIMEOUT))
        .expect("set_write_timeout");
    stream
}

/// A loopback listener on a free port, for a test that plays the server.
pub fn fake_server() -> TcpListener {
    netcore::listener::ListenerBuilder::new(SocketAddr::from(([127, 0, 0, 1], 0)))
        .listen()
        .unwrap_or_else(|err| panic!("cannot listen on loopback: {err}"))
}

/// Accepts one connection within `timeout`, or fails: a test that plays the
/// server never waits forever for a client that does not come. The stream
/// comes back blocking, with read and write timeouts.
pub fn accept(
    listener: &TcpListener,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), String> {
    listener
        .set_nonblocking(true)
        .map_err(|err| err.to_string())?;
    let deadline = Instant::now() + timeout;
    let result = loop {
        match listener.accept() {
            Ok(pair) => break Ok(pair),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    break Err(format!("no client connected within {timeout:?}"));
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(err) => break Err(format!("accept failed: {err}")),
        }
    };
    let _ = listener.set_nonblocking(false);
    let (stream, peer) = result?;
    stream
        .set_nonblocking(false)
        .map_err(|err| err.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|err| err.to_string())?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|err| err.to_string())?;
    Ok((stream, peer))
}

/// Reads until end of stream (bounded by the stream's read timeout).
pub fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .unwrap_or_else(|err| panic!("reading until end of stream: {err}"));
    out
}

/// The path of a workspace binary, for tests outside its package (inside it,
/// use `env!("CARGO_BIN_EXE_<name>")`). It sits beside the test executable's
/// `deps/` folder; `cargo test --workspace` builds every lesson's binary
/// before it runs any test. When it is missing (one package's tests run
/// alone), it is built with `cargo build`.
pub fn cargo_bin(name: &str) -> PathBuf {
    cargo_bin_of(name, name)
}

/// [`cargo_bin`] for a binary `name` of package `package` (lesson-05's
/// `hardened`, say).
pub fn cargo_bin_of(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe
        .parent()
        .expect("test executable has a folder")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--package", package, "--bin", name])
            .status()
            .unwrap_or_else(|err| panic!("cannot run cargo build for {name}: {err}"));
        assert!(status.success(), "cargo build -p {name} failed");
    }
    assert!(
        path.exists(),
        "{} is missing after building it",
        path.display()
    );
    path
}

/// The `python3` interpreter, if this machine has one that runs.
pub fn python3() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("python3"))
}

/// `python3` for an interoperability test, or `None` (after saying so on
/// stderr) when the machine has none. Fails the test instead when
/// [`REQUIRE_PYTHON_ENV`] is set, as it is in CI, so that the tests never
/// skip silently there.
pub fn python3_or_skip(test: &str) -> Option<PathBuf> {
    let python = python3();
    if python.is_none() {
        assert!(
            std::env::var_os(REQUIRE_PYTHON_ENV).is_none(),
            "{test}: python3 is required ({REQUIRE_PYTHON_ENV} is set) but was not found"
        );
        eprintln!(
            "{test}: skipped, python3 not found (install Python 3 to run the interoperability tests)"
        );
    }
    python
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn reads_the_listening_line_and_kills_on_drop() {
        let mut server = Process::start_server(sh(
            "echo hello; echo 'listening on 0.0.0.0:4242'; exec sleep 60",
        ))
        .unwrap();
        assert_eq!(server.addr(), "127.0.0.1:4242".parse().unwrap());
        assert!(contains(server.stdout(), b"hello\n"));
        let proc_dir = PathBuf::from(format!("/proc/{}", server.id()));
        drop(server);
        if cfg!(target_os = "linux") {
            assert!(!proc_dir.exists(), "the child was not reaped");
        }
    }

    #[test]
    fn a_silent_program_times_out_with_a_clear_message() {
        let mut process = Process::spawn(sh("echo working >&2; exec sleep 60")).unwrap();
        let err = process
            .wait_for_listening(Duration::from_millis(300))
            .unwrap_err();
        assert!(
            err.contains("no line containing \"listening on \""),
            "{err}"
        );
        assert!(err.contains("working"), "stderr should be shown: {err}");
    }

    #[test]
    fn a_program_that_exits_early_is_reported_with_its_status() {
        let mut process = Process::spawn(sh("echo boom >&2; exit 3")).unwrap();
        let err = process.wait_for_listening(TIMEOUT).unwrap_err();
        assert!(err.contains("stdout closed"), "{err}");
        assert!(err.contains('3'), "{err}");
        assert!(err.contains("boom"), "{err}");
    }

    #[test]
    fn wait_collects_all_output() {
        let mut process = Process::spawn(sh("printf 'a\\nb\\n'; echo e >&2; exit 0")).unwrap();
        assert!(process.wait(TIMEOUT).unwrap().success());
        assert_eq!(process.stdout(), b"a\nb\n");
        assert_eq!(process.stderr(), b"e\n");
    }

    #[test]
    fn wait_fails_for_a_program_still_running() {
        let mut process = Process::spawn(sh("exec sleep 60")).unwrap();
        let err = process.wait(Duration::from_millis(100)).unwrap_err();
        assert!(err.contains("still running"), "{err}");
    }

    #[test]
    fn accept_gives_up_when_no_client_comes() {
        let listener = fake_server();
        let err = accept(&listener, Duration::from_millis(50)).unwrap_err();
        assert!(err.contains("no client connected"), "{err}");
        let client = connect(listener.local_addr().unwrap());
        let (_, peer) = accept(&listener, TIMEOUT).unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    }

    #[test]
    fn contains_matches_bytes() {
        assert!(contains(b"\xce\xd2\xca\xc7", b"\xd2\xca"));
        assert!(!contains(b"\xce\xd2", b"\xd2\xca"));
    }
}
