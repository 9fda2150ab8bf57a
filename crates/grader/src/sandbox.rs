//! Running a program the grader does not trust.
//!
//! - It runs in a process group of its own, so that everything it starts
//!   can be signalled at once; and the grader is a "child subreaper"
//!   (Linux), so that a grandchild that escapes the group still comes back
//!   to the grader to be killed and reaped.
//! - Resource limits (CPU time, memory, processes, no core files) contain
//!   fork bombs and memory hogs. Memory is limited with RLIMIT_DATA (the
//!   heap and writable private mappings a process uses), not RLIMIT_AS (the
//!   address space it reserves): a JVM, V8 or Go reserves gigabytes it never
//!   touches and cannot start under an address-space limit. When the grader runs as root, the
//!   program runs as an unprivileged user (`nobody` unless told otherwise),
//!   since the kernel does not apply a process limit to root.
//! - Its stdout is a pseudo-terminal where possible, so that C's stdio and
//!   Python print line by line instead of holding output in a buffer; its
//!   stderr is a pipe. Both are captured with a size cap: the first part
//!   and the last part are kept, the middle of an endless stream is not.
//! - Stopping it sends SIGINT first (Python and many programs flush their
//!   output on it), then SIGTERM, then SIGKILL, each to the whole group,
//!   and reaps everything.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use crate::i18n::tr;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::Pid;
use proctools::process::{self, SchedStat, Stat, Status};

use crate::jail::{self, Jail};

/// Limits applied to the program and everything it starts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// CPU seconds per process (RLIMIT_CPU).
    pub cpu_seconds: u64,
    /// Memory per process, in bytes (RLIMIT_DATA: heap and writable
    /// private mappings; address space merely reserved does not count).
    pub memory_bytes: u64,
    /// Processes and threads the program may add (RLIMIT_NPROC, on top of
    /// what its user already runs).
    pub processes: u64,
    /// Bytes of each output stream kept: half from the start, half from
    /// the end.
    pub output_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_seconds: 60,
            memory_bytes: 2 << 30,
            processes: 512,
            output_cap: 256 * 1024,
        }
    }
}

/// Who the program runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunAs {
    /// The grader's own user.
    Same,
    /// Another user, by uid and gid (the grader must be root).
    User {
        /// The user's name, for messages.
        name: String,
        /// Its user id.
        uid: u32,
        /// Its group id.
        gid: u32,
    },
}

impl RunAs {
    /// A uid of this grading's own when the grader is root (see
    /// [`crate::jail::JOB_UID_BASE`]: no other job, and no account, has
    /// it), the grader's user otherwise; or the user named (`root` or the
    /// grader's own name mean "the same").
    pub fn choose(name: Option<&str>) -> Result<RunAs, String> {
        let root = nix::unistd::Uid::effective().is_root();
        let name = match name {
            Some(name) => name,
            None if root => {
                let uid = crate::jail::JOB_UID_BASE + std::process::id();
                return Ok(RunAs::User {
                    name: crate::tr!(
                        "{uid} (a uid of this grading's own)",
                        "{uid}（本次评分专用的 uid）"
                    ),
                    uid,
                    gid: uid,
                });
            }
            None => return Ok(RunAs::Same),
        };
        if name == "root" || name == "same" {
            return Ok(RunAs::Same);
        }
        let (uid, gid) = lookup_user(name)
            .ok_or_else(|| format!("no user named '{name}' on this machine (see /etc/passwd)"))?;
        if !root {
            if uid == nix::unistd::Uid::current().as_raw() {
                return Ok(RunAs::Same);
            }
            return Err(format!("--run-as {name} needs the grader to run as root"));
        }
        Ok(RunAs::User {
            name: name.to_owned(),
            uid,
            gid,
        })
    }
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The working directory; the grader's own if `None`.
    pub dir: Option<PathBuf>,
    /// Written to the program's stdin at start; stdin then stays open
    /// (a program waiting for more input waits, as at a terminal).
    pub stdin: Vec<u8>,
    /// Give stdout a pseudo-terminal.
    pub pty: bool,
    /// Resource limits.
    pub limits: Limits,
    /// Who runs it (without a jail; a jail has its own user).
    pub run_as: RunAs,
    /// The submission's jail, if any: namespaces, work space, user, cgroup.
    pub jail: Option<Arc<Jail>>,
}

/// The `PATH` programs get unless the teacher sets one (`--env PATH=...`):
/// the system's folders, not the grader's own.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Everything written to one output stream, within the cap.
#[derive(Debug, Default)]
struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
    cap: usize,
}

impl Captured {
    fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let head_room = (self.cap / 2).saturating_sub(self.head.len());
        let (to_head, rest) = data.split_at(head_room.min(data.len()));
        self.head.extend_from_slice(to_head);
        self.tail.extend(rest);
        let tail_cap = self.cap / 2;
        if self.tail.len() > tail_cap {
            let excess = self.tail.len() - tail_cap;
            self.tail.drain(..excess);
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        if self.total > (self.head.len() + self.tail.len()) as u64 {
            let skipped = self.total - (self.head.len() + self.tail.len()) as u64;
            let marker = crate::tr!(
                "\n[... {skipped} bytes not kept ...]\n",
                "\n[... 有 {skipped} 个字节没有保留 ...]\n"
            );
            out.extend_from_slice(marker.as_bytes());
        }
        out.extend(self.tail.iter());
        out
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited (or died of a signal) by itself, before the grader asked.
    ByItself(ExitStatus),
    /// It ended after the grader's SIGINT, SIGTERM or SIGKILL (named).
    Stopped(&'static str, ExitStatus),
}

impl Ending {
    /// The exit status.
    pub fn status(self) -> ExitStatus {
        match self {
            Ending::ByItself(status) | Ending::Stopped(_, status) => status,
        }
    }
}

/// Describes an exit status for a person, in the grading's language:
/// "exit status 1", "killed by signal 11 (SIGSEGV, a crash)"; "退出码 1",
/// "被信号 11 终止（SIGSEGV，程序崩溃）".
pub fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(126) => return tr(
            "exit status 126: the command could not be run (not executable, or permission denied)",
            "退出码 126：这个命令无法运行（不可执行，或者权限不足）",
        )
        .to_owned(),
        Some(127) => return tr(
            "exit status 127: command not found (is it on the PATH of the user the program runs as?)",
            "退出码 127：找不到命令（它在运行程序的那个用户的 PATH 上吗？）",
        )
        .to_owned(),
        Some(code) => return crate::tr!("exit status {code}", "退出码 {code}"),
        None => {}
    }
    match status.signal() {
        Some(signal) => {
            let name = signal_name(signal);
            crate::tr!(
                "killed by signal {signal} ({name})",
                "被信号 {signal} 终止（{name}）"
            )
        }
        None => status.to_string(),
    }
}

/// A signal's name, and what it usually means for a student's program.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGKILL => tr(
            "SIGKILL, perhaps a resource limit",
            "SIGKILL，可能是超出了资源限制",
        ),
        libc::SIGSEGV => tr("SIGSEGV, a crash", "SIGSEGV，程序崩溃"),
        libc::SIGABRT => tr("SIGABRT, an abort", "SIGABRT，程序中止（abort）"),
        libc::SIGXCPU => tr(
            "SIGXCPU, the CPU-time limit",
            "SIGXCPU，超出了 CPU 时间限制",
        ),
        libc::SIGPIPE => tr(
            "SIGPIPE, writing to a closed connection",
            "SIGPIPE，向已经关闭的连接写数据",
        ),
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        _ => tr("a signal", "某个信号"),
    }
}

/// A running program under the grader's control. Dropping it stops it.
pub struct Program {
    /// The program itself, or its jail's init.
    child: Child,
    /// The program's process group (its first process's pid).
    pgid: i32,
    /// In a jail: the init's status pipe and the PID namespace.
    jailed: Option<Box<Jailed>>,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Captured>>,
    stderr: Arc<Mutex<Captured>>,
    ending: Option<Ending>,
}

/// What the grader keeps of a program started in a PID namespace.
struct Jailed {
    /// Where the init reports the program's wait status.
    status: File,
    /// The namespace, as `/proc/PID/ns/pid` names it.
    namespace: std::ffi::OsString,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl Program {
    /// Starts the program: in its jail's PID namespace, under the jail's
    /// init, where the spec has a jail that made namespaces; directly
    /// otherwise.
    pub fn start(spec: &Spec) -> io::Result<Program> {
        become_subreaper();
        let (program, args) = spec
            .argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command to run"))?;
        let jail = spec.jail.as_deref();
        let namespaces = jail.filter(|j| j.namespaces());
        let user = match (jail, &spec.run_as) {
            (Some(jail), _) => jail.user(),
            (None, RunAs::User { uid, gid, .. }) => Some((*uid, *gid)),
            (None, RunAs::Same) => None,
        };
        let mut command = match namespaces {
            Some(jail) => {
                let mut command = Command::new(own_binary()?);
                command.arg0("grader");
                // The folder it runs in: the work folder, or (without
                // one) the grader's own or --dir, which it may need to see.
                let cwd = match (jail.work_dir(), &spec.dir) {
                    (Some(_), _) => None,
                    (None, Some(dir)) => Some(dir.clone()),
                    (None, None) => std::env::current_dir().ok(),
                };
                command
                    .args(jail.init_args(&spec.argv, &jail::exposures(&spec.argv, cwd.as_deref())));
                command
            }
            None => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
        };
        // A clean environment, not the grader's: what docs/grading.md lists.
        command
            .env_clear()
            .env("PATH", DEFAULT_PATH)
            .env(
                "HOME",
                jail.map(|j| j.home().to_path_buf())
                    .unwrap_or_else(|| PathBuf::from("/tmp")),
            )
            .env(
                "TMPDIR",
                jail.map(Jail::tmp).unwrap_or_else(std::env::temp_dir),
            )
            .envs(spec.env.iter().map(|(k, v)| (k, v)));
        match (namespaces, jail.and_then(Jail::work_dir), &spec.dir) {
            // The init enters the work folder once it is mounted.
            (Some(_), Some(_), _) => {}
            (None, Some(work), _) => {
                command.current_dir(work);
            }
            (_, None, Some(dir)) => {
                command.current_dir(dir);
            }
            (_, None, None) => {}
        }
        command.stdin(Stdio::piped()).stderr(Stdio::piped());
        let mut master = None;
        if spec.pty
            && let Ok((m, slave)) = open_pty()
        {
            command.stdout(Stdio::from(slave));
            master = Some(m);
        }
        if master.is_none() {
            command.stdout(Stdio::piped());
        }
        command.process_group(0);
        let limits = spec.limits;
        let nproc = existing_tasks(user) + limits.processes;
        // Without a tmpfs, no file may outgrow the work space's cap.
        let file_size = jail
            .filter(|j| !j.namespaces())
            .map(Jail::disk_bytes)
            .unwrap_or(nix::sys::resource::RLIM_INFINITY);
        // Without namespaces, the program joins the cgroups itself.
        let cgroups: Vec<OwnedFd> = match (namespaces, jail) {
            (None, Some(jail)) => jail
                .cgroup_procs()
                .into_iter()
                .map(|procs| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(procs)
                        .map(OwnedFd::from)
                })
                .collect::<io::Result<_>>()?,
            _ => Vec::new(),
        };
        let (status_read, status_write) = match namespaces {
            Some(_) => {
                let (read, write) = jail::status_pipe()?;
                (Some(read), Some(write))
            }
            None => (None, None),
        };
        // With namespaces the init drops to the program's user; it needs
        // root (or the user namespace's root) to make its mounts.
        let setuid = if namespaces.is_some() { None } else { user };
        // SAFETY: the closure runs in the child between fork and exec, and
        // only makes async-signal-safe system calls on values it owns.
        unsafe {
            command.pre_exec(move || {
                // The program starts with the default signal dispositions
                // and no blocked signals, whatever the grader inherited: a
                // grader started with `nohup` or `&` ignores SIGINT, which
                // would pass on to the program, and neither Python nor a
                // shell's trap would then see the SIGINT that lets them
                // flush their output.
                for signal in [
                    Signal::SIGINT,
                    Signal::SIGQUIT,
                    Signal::SIGTERM,
                    Signal::SIGHUP,
                ] {
                    nix::sys::signal::signal(signal, SigHandler::SigDfl)?;
                }
                nix::sys::signal::sigprocmask(
                    SigmaskHow::SIG_SETMASK,
                    Some(&SigSet::empty()),
                    None,
                )?;
                set_limit(Resource::RLIMIT_CORE, 0)?;
                set_limit(Resource::RLIMIT_CPU, limits.cpu_seconds)?;
                set_limit(Resource::RLIMIT_DATA, limits.memory_bytes)?;
                set_limit(Resource::RLIMIT_FSIZE, file_size)?;
                for procs in &cgroups {
                    nix::unistd::write(procs, b"0")?;
                }
                if let Some(write) = &status_write
                    && libc::dup2(write.as_raw_fd(), jail::STATUS_FD) < 0
                {
                    return Err(io::Error::last_os_error());
                }
                if let Some((uid, gid)) = setuid {
                    nix::unistd::setgroups(&[])?;
                    nix::unistd::setgid(nix::unistd::Gid::from_raw(gid))?;
                    nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))?;
                }
                set_limit(Resource::RLIMIT_NPROC, nproc)?;
                Ok(())
            });
        }
        let mut child = match namespaces {
            // A thread of its own unshares the PID namespace, so that the
            // child it starts (and only that one) is the namespace's first
            // process; the thread ends with the spawn.
            Some(_) => thread::scope(|scope| {
                scope
                    .spawn(|| {
                        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)?;
                        spawn_adopted(&mut command)
                    })
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("the spawning thread panicked")))
            })?,
            None => spawn_adopted(&mut command)?,
        };
        // The child has its copy of the pty's slave side (and of the status
        // pipe); ours must close, or reading them would never see their end.
        drop(command);
        let mut pgid = child.id() as i32;
        let stdout = Arc::new(Mutex::new(Captured {
            cap: limits.output_cap,
            ..Captured::default()
        }));
        let stderr = Arc::new(Mutex::new(Captured {
            cap: limits.output_cap,
            ..Captured::default()
        }));
        match master {
            Some(master) => capture(File::from(master), &stdout),
            None => {
                if let Some(out) = child.stdout.take() {
                    capture(out, &stdout);
                }
            }
        }
        if let Some(err) = child.stderr.take() {
            capture(err, &stderr);
        }
        let mut stdin = child.stdin.take();
        if let Some(pipe) = stdin.as_mut() {
            // A program that never reads stdin must not block the grader:
            // the input is small, well within a pipe's buffer.
            let _ = pipe.write_all(&spec.stdin);
        }
        let mut jailed = None;
        if let Some(read) = status_read {
            let init = child.id();
            match wait_started(&read) {
                Ok(()) => {
                    pgid = first_child(init).map_or(pgid, |pid| pid as i32);
                    jailed = Some(Box::new(Jailed {
                        status: File::from(read),
                        namespace: process::pid_namespace(init).unwrap_or_default(),
                    }));
                }
                Err(()) => {
                    // The init could not set the jail up: it said why on
                    // stderr.
                    let _ = nix::sys::signal::kill(Pid::from_raw(init as i32), Signal::SIGKILL);
                    let _ = child.wait();
                    release(init);
                    thread::sleep(Duration::from_millis(50));
                    let said = String::from_utf8_lossy(&lock(&stderr).bytes()).into_owned();
                    let line = said
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .map(|l| escape_line(l.trim(), 200))
                        .unwrap_or_else(|| {
                            tr("the jail could not be set up", "无法建立隔离环境（jail）")
                                .to_owned()
                        });
                    return Err(io::Error::other(line));
                }
            }
        }
        Ok(Program {
            child,
            pgid,
            jailed,
            stdin,
            stdout,
            stderr,
            ending: None,
        })
    }

    /// The program's process id (also its process group's id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if let Some(ending) = self.ending {
            return Some(ending.status());
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                let status = self.jailed_status().unwrap_or(status);
                self.ending = Some(Ending::ByItself(status));
                Some(status)
            }
            Ok(None) => None,
            Err(_) => {
                // Reaped elsewhere (it should not happen): it has ended,
                // with a status nobody can know; never wait for it forever.
                let status = ExitStatus::from_raw(255 << 8);
                self.ending = Some(Ending::ByItself(status));
                Some(status)
            }
        }
    }

    /// The program's own wait status, as its jail's init reported it
    /// (the init has ended, so the pipe holds it or is at its end).
    fn jailed_status(&mut self) -> Option<ExitStatus> {
        let jailed = self.jailed.as_mut()?;
        let mut raw = [0u8; 4];
        jailed.status.read_exact(&mut raw).ok()?;
        Some(ExitStatus::from_raw(i32::from_le_bytes(raw)))
    }

    /// How it ended, once it has: by itself, or stopped by the grader.
    pub fn ending(&self) -> Option<Ending> {
        self.ending
    }

    /// Waits up to `timeout` for it to end by itself.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it: SIGINT (so it may flush its output), then SIGTERM, then
    /// SIGKILL, each to its whole process group, waiting `grace` after
    /// each; then kills and reaps whatever it left behind.
    pub fn stop(&mut self, grace: Duration) -> Ending {
        let ending = match self.exited() {
            Some(_) => self
                .ending
                .unwrap_or(Ending::ByItself(ExitStatus::from_raw(0))),
            None => {
                let mut ending = None;
                for (signal, name) in [
                    (Signal::SIGINT, "SIGINT"),
                    (Signal::SIGTERM, "SIGTERM"),
                    (Signal::SIGKILL, "SIGKILL"),
                ] {
                    signal_group(self.pgid, signal);
                    if let Some(status) = self.wait(grace) {
                        ending = Some(Ending::Stopped(name, status));
                        break;
                    }
                }
                let ending = ending.unwrap_or_else(|| {
                    self.kill_init();
                    let status = self.child.wait().unwrap_or(ExitStatus::from_raw(9));
                    Ending::Stopped("SIGKILL", status)
                });
                self.ending = Some(ending);
                ending
            }
        };
        // Whatever it started is stopped too, in its group or not (in a
        // PID namespace, the init's end has already ended everything).
        signal_group(self.pgid, Signal::SIGKILL);
        self.kill_init();
        let pid = self.child.id();
        lock(&SPAWNED).retain(|&p| p != pid);
        reap_orphans();
        self.stdin = None;
        // Give the readers a moment to take the last output.
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline
            && Arc::strong_count(&self.stdout) + Arc::strong_count(&self.stderr) > 2
        {
            thread::sleep(Duration::from_millis(5));
        }
        ending
    }

    /// Kills a jail's init, which ends everything in its PID namespace, and
    /// reaps it.
    fn kill_init(&mut self) {
        if self.jailed.is_some() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The live processes of the program, whose threads, CPU time and
    /// memory the checks measure. In the jail: every descendant of its
    /// init, which is every process of its PID namespace and of any
    /// namespace nested in it (an orphan there is adopted by that
    /// namespace's init, a descendant too), whatever sessions or process
    /// groups they make. Without the jail: its process group and the
    /// descendants of its first process; a process that leaves both (a
    /// new session, then an orphan) is not seen, one of the reasons to
    /// grade in the jail.
    fn members(&self) -> Vec<u32> {
        let root = self.child.id();
        let mut members = process::descendants(root);
        match &self.jailed {
            Some(jailed) => {
                let namespace = process::pids().into_iter().filter(|&pid| {
                    pid != root
                        && process::pid_namespace(pid).is_some_and(|ns| ns == jailed.namespace)
                        && Stat::read(pid).is_ok_and(|s| s.state != 'Z')
                });
                for pid in namespace.collect::<Vec<_>>() {
                    if !members.contains(&pid) {
                        members.push(pid);
                    }
                }
            }
            None => {
                if Stat::read(root).is_ok_and(|s| s.state != 'Z') {
                    members.push(root);
                }
                for pid in process::group_members(self.pgid) {
                    if !members.contains(&pid) {
                        members.push(pid);
                    }
                }
            }
        }
        members
    }

    /// Its stdout so far (within the cap), with a terminal's `\r\n` turned
    /// back into `\n`.
    pub fn stdout(&self) -> Vec<u8> {
        let bytes = lock(&self.stdout).bytes();
        let mut out = Vec::with_capacity(bytes.len());
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                continue;
            }
            out.push(b);
        }
        out
    }

    /// Its stderr so far (within the cap).
    ///
    /// When the grader ended the program with SIGINT, a Python traceback
    /// ending in `KeyboardInterrupt` at the very end is the grader's doing,
    /// not the student's: it is left out, so that it neither hides the
    /// program's own last words nor passes for a crash.
    pub fn stderr(&self) -> Vec<u8> {
        let bytes = lock(&self.stderr).bytes();
        if matches!(self.ending, Some(Ending::Stopped("SIGINT", _))) {
            return strip_interrupt_traceback(bytes);
        }
        bytes
    }

    /// How many bytes it wrote to stdout and stderr in all.
    pub fn output_total(&self) -> (u64, u64) {
        (lock(&self.stdout).total, lock(&self.stderr).total)
    }

    /// The last `lines` lines of stdout and of stderr, for a report. The
    /// first line of a crash report (`panicked at`, a Java exception, a
    /// Python traceback) is kept even when a long backtrace pushes it out of
    /// the window, and control characters are shown escaped, so that no
    /// program can write escape sequences into a teacher's terminal.
    pub fn output_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for (name, bytes) in [("stdout", self.stdout()), ("stderr", self.stderr())] {
            let texts: Vec<String> = bytes.split(|&b| b == b'\n').map(line_text).collect();
            let mut all: Vec<&str> = texts.iter().map(String::as_str).collect();
            if all.last() == Some(&"") {
                all.pop();
            }
            if all.is_empty() {
                continue;
            }
            let start = all.len().saturating_sub(lines);
            out.push_str(&format!("{name}:\n"));
            let crash = all[..start]
                .iter()
                .position(|line| CRASH_HEADERS.iter().any(|header| line.contains(header)));
            let mut shown: Vec<&str> = Vec::new();
            if let Some(at) = crash {
                // The header and the line after it (a Rust panic's message).
                let header_end = (at + 2).min(start);
                shown.extend(&all[at..header_end]);
                if header_end < start {
                    shown.push("...");
                }
            }
            shown.extend(&all[start..]);
            for line in shown {
                out.push_str(&format!("  | {}\n", escape_line(line, 300)));
            }
        }
        out
    }

    /// CPU time used so far by every live process of its group.
    pub fn cpu_time(&self) -> Option<Duration> {
        let ticks = process::clock_ticks()?;
        let total: u64 = self
            .members()
            .into_iter()
            .filter_map(|pid| Stat::read(pid).ok())
            .map(|stat| stat.utime + stat.stime)
            .sum();
        Some(process::ticks_to_duration(total, ticks))
    }

    /// How long each thread of its processes has wanted a CPU so far, by
    /// thread id: time on a CPU plus time waiting for one (Linux:
    /// `/proc/PID/task/TID/schedstat`). Unlike CPU time, this does not
    /// shrink when the machine is busy: a spinning thread wants the CPU all
    /// the time, however little of it it gets. `None` where the kernel does
    /// not say.
    pub fn runnable_times(&self) -> Option<Vec<(u32, Duration)>> {
        let mut times = Vec::new();
        let mut seen = false;
        for pid in self.members() {
            for tid in process::thread_ids(pid) {
                let Ok(sched) = SchedStat::read_thread(pid, tid) else {
                    continue;
                };
                seen = true;
                times.push((tid, sched.wanted()));
            }
        }
        seen.then_some(times)
    }

    /// How many threads its live processes have together (`Threads:` in
    /// each `/proc/PID/status`): a program run under a shell, an
    /// interpreter or a launcher is counted whole, and a program that
    /// forks a process per client shows as many threads as that. `None`
    /// where the kernel does not say.
    pub fn threads(&self) -> Option<u64> {
        self.status_sum(|status| status.threads)
    }

    /// The memory its live processes hold together, in bytes: their
    /// resident memory (`VmRSS:` in each `/proc/PID/status`), plus, in the
    /// jail, the files they keep in its `/tmp` and `/dev/shm`, which are
    /// memory too (tmpfs) but not in any process's `VmRSS`; `None` where
    /// the kernel does not say.
    pub fn resident_bytes(&self) -> Option<u64> {
        let resident = self.status_sum(|status| status.rss_bytes)?;
        Some(resident + self.stored_bytes())
    }

    /// The bytes stored in the jail's memory-backed file systems (its
    /// `/tmp`, the work space, and its `/dev/shm`), seen through its
    /// init's root; 0 outside the jail, where the files are on the
    /// machine's own disks.
    fn stored_bytes(&self) -> u64 {
        if self.jailed.is_none() {
            return 0;
        }
        let root = PathBuf::from(format!("/proc/{}/root", self.child.id()));
        ["tmp", "dev/shm"]
            .iter()
            .filter_map(|dir| nix::sys::statvfs::statvfs(&root.join(dir)).ok())
            .map(|fs| {
                let used = fs.blocks().saturating_sub(fs.blocks_free());
                used.saturating_mul(fs.fragment_size())
            })
            .sum()
    }

    /// `field` of every live process's status, added up; `None` when no
    /// process's status had it.
    fn status_sum(&self, field: impl Fn(&Status) -> Option<u64>) -> Option<u64> {
        let values: Vec<u64> = self
            .members()
            .into_iter()
            .filter_map(|pid| Status::read(pid).ok())
            .filter_map(|status| field(&status))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    }

    /// The TCP ports its processes listen on (Linux: from /proc).
    pub fn listening_ports(&self) -> Vec<u16> {
        self.listening_sockets().iter().map(|s| s.port).collect()
    }

    /// The listening TCP sockets of its processes (Linux: from /proc).
    pub fn listening_sockets(&self) -> Vec<crate::probe::Listening> {
        let inodes: Vec<u64> = self
            .members()
            .into_iter()
            .flat_map(process::socket_inodes)
            .collect();
        crate::probe::listening_sockets()
            .into_iter()
            .filter(|s| inodes.contains(&s.inode))
            .collect()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        if self.ending.is_none() {
            self.stop(Duration::from_millis(200));
        } else {
            signal_group(self.pgid, Signal::SIGKILL);
            self.kill_init();
            reap_orphans();
        }
    }
}

/// One line of output as text: UTF-8 as it is; else GBK (a program that
/// prints the GBK bytes it received, which the grader accepts), so that it
/// is not shown as mojibake; else UTF-8 with what is invalid replaced.
fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Ok(text) = std::str::from_utf8(line) {
        return text.to_owned();
    }
    let decoded = netcore::text::Encoding::Gbk.decode(line);
    if decoded.has_invalid() {
        String::from_utf8_lossy(line).into_owned()
    } else {
        decoded.text
    }
}

/// The first lines of the crash reports a tail keeps.
const CRASH_HEADERS: &[&str] = &[
    "panicked at",
    "Exception in thread",
    "Traceback (most recent call last)",
];

/// One line of a program's output made safe for a terminal, a log or a
/// report: control characters (escape sequences, a `\r` that would let a
/// line overwrite another) and bidirectional overrides are shown as
/// `\u{1b}`, `\r`, `\u{202e}`; at most `max` characters are kept.
pub fn escape_line(line: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in line.chars().enumerate() {
        if i == max {
            out.push_str(" [...]");
            break;
        }
        match c {
            '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            // Controls, the two non-characters XML cannot hold, and the
            // marks that reorder text (a right-to-left override would show
            // a line other than the one written).
            c if c.is_control()
                || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The programs this grader started and has not reaped: never mistaken
/// for orphans.
static SPAWNED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Starts `command` as a child the grader waits for itself (a batch's
/// `grader check` processes), so that the orphan reaper never takes it for
/// a leftover. The spawn and the registration happen under one lock, which
/// the reaper holds too: no reaper can see the child unregistered.
pub fn spawn_adopted(command: &mut Command) -> io::Result<Child> {
    let mut spawned = lock(&SPAWNED);
    let child = command.spawn()?;
    spawned.push(child.id());
    Ok(child)
}

/// Forgets a child started with [`spawn_adopted`] once it has been waited for.
pub fn release(pid: u32) {
    lock(&SPAWNED).retain(|&p| p != pid);
}

/// `stderr` without a final Python `KeyboardInterrupt` traceback.
fn strip_interrupt_traceback(stderr: Vec<u8>) -> Vec<u8> {
    const START: &[u8] = b"Traceback (most recent call last):";
    let text = String::from_utf8_lossy(&stderr);
    if !text.trim_end().ends_with("KeyboardInterrupt") {
        return stderr;
    }
    match stderr.windows(START.len()).rposition(|w| w == START) {
        Some(start) => stderr[..start].to_vec(),
        None => stderr,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads `source` until its end into `sink`, on a thread of its own.
fn capture(mut source: impl Read + Send + 'static, sink: &Arc<Mutex<Captured>>) {
    let sink = Arc::clone(sink);
    let _ = thread::Builder::new()
        .name("capture".into())
        .spawn(move || {
            let mut buffer = [0u8; 8192];
            loop {
                match source.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => lock(&sink).push(&buffer[..n]),
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    // A pseudo-terminal reports EIO once every writer is gone.
                    Err(_) => break,
                }
            }
        });
}

fn set_limit(resource: Resource, value: u64) -> io::Result<()> {
    setrlimit(resource, value, value).map_err(io::Error::from)
}

/// A pseudo-terminal in raw mode (no `\n` to `\r\n`, no echo): the master
/// side for the grader, the slave side for the program's stdout.
fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    use std::os::unix::fs::OpenOptionsExt;
    let master = nix::pty::posix_openpt(
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_CLOEXEC,
    )?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let name = nix::pty::ptsname_r(&master)?;
    let slave = OwnedFd::from(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(name)?,
    );
    if let Ok(mut termios) = tcgetattr(&slave) {
        cfmakeraw(&mut termios);
        let _ = tcsetattr(&slave, SetArg::TCSANOW, &termios);
    }
    Ok((OwnedFd::from(master), slave))
}

/// The grader's own binary, to start again (a jail's init, a batch's
/// `grader check`): `/proc/self/exe` on Linux, which still runs the binary
/// this process runs after a rebuild or an upgrade replaced the file.
pub fn own_binary() -> io::Result<PathBuf> {
    let proc = PathBuf::from("/proc/self/exe");
    if proc.exists() {
        return Ok(proc);
    }
    std::env::current_exe()
}

fn signal_group(pgid: i32, signal: Signal) {
    // A process group this grader created (or the program's own).
    let _ = nix::sys::signal::killpg(Pid::from_raw(pgid), signal);
}

/// Makes the grader the reaper of its orphaned descendants (Linux), so that
/// a program's grandchild that left its process group is still found.
fn become_subreaper() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Kills and reaps every process that was reparented to the grader: the
/// leftovers of programs that forked and exited.
fn reap_orphans() {
    let me = nix::unistd::getpid().as_raw() as u32;
    // Holding the registry's lock, no child can be started (and be taken
    // for an orphan before it is registered) while the scan runs.
    let spawned = lock(&SPAWNED);
    for _ in 0..5 {
        let orphans: Vec<u32> = process::pids()
            .into_iter()
            .filter(|&pid| {
                Stat::read(pid).is_ok_and(|s| s.ppid == me) && !process::is_own_thread(pid)
            })
            .filter(|pid| !spawned.contains(pid))
            .collect();
        if orphans.is_empty() {
            return;
        }
        for pid in orphans {
            let pid = Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}

/// Waits (10 s at most) for a jail's init to say the program started.
fn wait_started(read: &OwnedFd) -> Result<(), ()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(());
        }
        let mut fds = [PollFd::new(read.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(left.as_millis()).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(0) => return Err(()),
            Ok(_) => {
                let mut byte = [0u8; 1];
                return match nix::unistd::read(read, &mut byte) {
                    Ok(1) if byte[0] == b'S' => Ok(()),
                    _ => Err(()),
                };
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Err(()),
        }
    }
}

/// The first child of process `pid` (a jail's init: the program), by its
/// pid outside the namespace.
fn first_child(pid: u32) -> Option<u32> {
    process::children(pid)
        .and_then(|children| children.first().copied())
        .or_else(|| {
            process::pids()
                .into_iter()
                .find(|&p| Stat::read(p).is_ok_and(|s| s.ppid == pid))
        })
}

/// How many tasks (processes and threads) `user` (the grader's own where
/// `None`) runs now: the process limit is counted per user, so the
/// program's allowance comes on top of those.
fn existing_tasks(user: Option<(u32, u32)>) -> u64 {
    let uid = user.map_or_else(|| nix::unistd::Uid::current().as_raw(), |(uid, _)| uid);
    process::pids()
        .into_iter()
        .filter_map(|pid| Status::read(pid).ok())
        .filter(|status| status.uid == Some(uid))
        .map(|status| status.threads.unwrap_or(1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Spec {
        Spec {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Vec::new(),
            dir: None,
            stdin: Vec::new(),
            pty: true,
            limits: Limits::default(),
            run_as: RunAs::Same,
            jail: None,
        }
    }

    /// Waits (at most 10 s, however busy the machine) until the script has
    /// printed `ready`: its traps are set.
    fn wait_for_ready(program: &Program) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !program.stdout().starts_with(b"ready\n") && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn captures_stdout_through_a_pty_and_stderr_through_a_pipe() {
        let mut program = Program::start(&sh("echo out; echo err >&2; exit 3")).unwrap();
        let status = program.wait(Duration::from_secs(10)).unwrap();
        assert_eq!(status.code(), Some(3));
        program.stop(Duration::from_millis(100));
        assert_eq!(program.stdout(), b"out\n");
        assert_eq!(program.stderr(), b"err\n");
    }

    #[test]
    fn an_endless_stream_is_capped_head_and_tail() {
        let mut spec = sh("yes 0123456789");
        spec.limits.output_cap = 64 * 1024;
        let mut program = Program::start(&spec).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while program.output_total().0 < 256 * 1024 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        program.stop(Duration::from_millis(200));
        let out = program.stdout();
        assert!(out.len() < 80 * 1024, "{} bytes kept", out.len());
        assert!(program.output_total().0 > 64 * 1024);
        assert!(String::from_utf8_lossy(&out).contains("bytes not kept"));
    }

    #[test]
    fn a_program_that_ignores_sigint_and_sigterm_is_killed() {
        let mut program = Program::start(&sh(
            "trap '' INT TERM; echo ready; while :; do sleep 1; done",
        ))
        .unwrap();
        wait_for_ready(&program);
        let ending = program.stop(Duration::from_millis(200));
        assert!(
            matches!(ending, Ending::Stopped("SIGKILL", _)),
            "{ending:?}"
        );
    }

    #[test]
    fn a_child_that_outlives_its_parent_is_killed_too() {
        let marker = format!("sleep 31{}.5", std::process::id() % 1000);
        let mut program = Program::start(&sh(&format!("({marker}) & exit 0"))).unwrap();
        program.wait(Duration::from_secs(5)).unwrap();
        program.stop(Duration::from_millis(100));
        thread::sleep(Duration::from_millis(100));
        let left: Vec<u32> = process::pids()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(&marker)
                })
            })
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn a_program_gets_sigint_even_from_a_grader_that_ignores_it() {
        // SAFETY: setting this test process's SIGINT disposition; the
        // grader's own tests never send it SIGINT.
        let before = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
        let program = Program::start(&sh(
            "trap 'echo flushed; exit 0' INT; echo ready; while :; do sleep 0.05; done",
        ));
        // SAFETY: as above, restoring what it was.
        unsafe { libc::signal(libc::SIGINT, before) };
        let mut program = program.unwrap();
        wait_for_ready(&program);
        let ending = program.stop(Duration::from_secs(5));
        assert!(matches!(ending, Ending::Stopped("SIGINT", _)), "{ending:?}");
        assert_eq!(program.stdout(), b"ready\nflushed\n");
    }

    #[test]
    fn sigint_comes_first_so_programs_can_flush() {
        let mut program = Program::start(&sh(
            "trap 'echo flushed; exit 0' INT; echo ready; while :; do sleep 0.05; done",
        ))
        .unwrap();
        wait_for_ready(&program);
        let ending = program.stop(Duration::from_secs(5));
        assert!(matches!(ending, Ending::Stopped("SIGINT", _)), "{ending:?}");
        assert_eq!(program.stdout(), b"ready\nflushed\n");
    }

    #[test]
    fn the_graders_own_keyboard_interrupt_is_left_out() {
        let stderr =
            b"real error\nTraceback (most recent call last):\n  File \"x.py\"\nKeyboardInterrupt\n"
                .to_vec();
        assert_eq!(strip_interrupt_traceback(stderr), b"real error\n");
        let crash = b"Traceback (most recent call last):\nValueError: x\n".to_vec();
        assert_eq!(strip_interrupt_traceback(crash.clone()), crash);
    }

    #[test]
    fn a_panics_first_line_outlives_a_long_backtrace_in_the_tail() {
        let script = "echo \"thread 'main' panicked at src/main.rs:3:5:\" >&2; echo 'boom: the real message' >&2; i=0; while [ $i -lt 40 ]; do echo \"  $i: frame\" >&2; i=$((i+1)); done; exit 101";
        let mut program = Program::start(&sh(script)).unwrap();
        program.wait(Duration::from_secs(10)).unwrap();
        program.stop(Duration::from_millis(100));
        let tail = program.output_tail(12);
        assert!(tail.contains("panicked at src/main.rs:3:5"), "{tail}");
        assert!(tail.contains("boom: the real message"), "{tail}");
        assert!(tail.contains("39: frame"), "{tail}");
        assert!(!tail.contains(" 5: frame"), "{tail}");
    }

    #[test]
    fn escape_sequences_never_reach_a_terminal() {
        let mut program = Program::start(&sh(
            "printf 'title\\033]0;pwned\\007 clear\\033[2J\\rPASS  forged\\n'",
        ))
        .unwrap();
        program.wait(Duration::from_secs(10)).unwrap();
        program.stop(Duration::from_millis(100));
        let tail = program.output_tail(12);
        assert!(
            !tail.chars().any(|c| c.is_control() && c != '\n'),
            "{tail:?}"
        );
        assert!(tail.contains("\\u{1b}]0;pwned"), "{tail}");
        assert!(tail.contains("\\rPASS  forged"), "{tail}");
    }

    #[test]
    fn text_direction_overrides_are_shown_escaped() {
        assert_eq!(
            escape_line("PASS\u{202e}LIAF bidi\u{2066}", 80),
            "PASS\\u{202e}LIAF bidi\\u{2066}"
        );
        assert_eq!(escape_line("你好 tab\there", 80), "你好 tab\there");
    }

    #[test]
    fn gbk_output_is_shown_as_text_not_mojibake() {
        let mut program =
            Program::start(&sh("printf 'received: \\316\\322\\312\\307\\n'")).unwrap();
        program.wait(Duration::from_secs(10)).unwrap();
        program.stop(Duration::from_millis(100));
        let tail = program.output_tail(12);
        assert!(tail.contains("received: 我是"), "{tail}");
    }

    #[test]
    fn describes_statuses() {
        assert_eq!(
            describe_status(ExitStatus::from_raw(1 << 8)),
            "exit status 1"
        );
        assert!(describe_status(ExitStatus::from_raw(11)).contains("SIGSEGV"));
        let zh = crate::i18n::with_lang(crate::i18n::Lang::Zh, || {
            describe_status(ExitStatus::from_raw(9))
        });
        assert_eq!(zh, "被信号 9 终止（SIGKILL，可能是超出了资源限制）");
    }
}
