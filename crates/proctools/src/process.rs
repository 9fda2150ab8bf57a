//! One process, or one of its threads, read from `/proc/PID` (Linux).
//!
//! - `/proc/PID/stat`: state, parent, process group, and CPU time (`utime`,
//!   `stime`, which count every thread of the process, those that have
//!   ended too). The command name in its second field is in parentheses and
//!   may itself hold spaces and parentheses (`(a (b) c)`), so fields are
//!   counted from after the *last* `)`.
//! - CPU times are in clock ticks: the kernel's `USER_HZ`, which user space
//!   learns from `sysconf(_SC_CLK_TCK)` ([`clock_ticks`]). It is 100 on
//!   every Linux architecture today, so a CPU time is a multiple of 10 ms; it
//!   is read, not assumed, so that a figure is never silently off by a
//!   factor on a system where it differs.
//! - `/proc/PID/status`: resident memory (`VmRSS`), its peak (`VmHWM`),
//!   threads and the real user id.
//! - `/proc/PID/task/TID/schedstat`: nanoseconds a thread ran and waited for
//!   a CPU.
//! - `/proc/PID/task/TID/status`: each thread's context switches, summed
//!   ([`context_switches`]).
//!
//! A process may end between two reads: every reader returns an error or
//! `None` then, never a panic.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Clock ticks per second in which `/proc` counts CPU time, as
/// `sysconf(_SC_CLK_TCK)` reports it; `None` where the system does not say
/// (or is not Unix).
pub fn clock_ticks() -> Option<u64> {
    // It is fixed for the life of the system: ask once.
    static TICKS: OnceLock<Option<u64>> = OnceLock::new();
    *TICKS.get_or_init(|| {
        #[cfg(unix)]
        {
            let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
            u64::try_from(ticks).ok().filter(|&t| t > 0)
        }
        #[cfg(not(unix))]
        {
            None
        }
    })
}

/// `ticks` clock ticks at `per_second` ticks a second, as a duration,
/// exact to the nanosecond (zero when `per_second` is zero).
pub fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    if per_second == 0 {
        return Duration::ZERO;
    }
    let nanos = (ticks % per_second) * 1_000_000_000 / per_second;
    Duration::new(ticks / per_second, nanos as u32)
}

/// CPU time, in user space and in the kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time spent in the program itself.
    pub user: Duration,
    /// Time spent in the kernel on its behalf (system calls, and on
    /// loopback the TCP work of delivering what it sends).
    pub system: Duration,
}

impl CpuTimes {
    /// User and system time together.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }
}

/// The fields of a `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) line
/// that the tools use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The state: `R` running, `S` sleeping, `Z` zombie (ended, not yet
    /// reaped), ...
    pub state: char,
    /// The parent's process id.
    pub ppid: u32,
    /// The process group.
    pub pgrp: i32,
    /// CPU time in user space, in clock ticks ([`clock_ticks`]).
    pub utime: u64,
    /// CPU time in the kernel, in clock ticks.
    pub stime: u64,
}

impl Stat {
    /// Parses a stat line; `None` when it is not one (or was cut short).
    pub fn parse(line: &str) -> Option<Stat> {
        // Field 2, the command name, is in parentheses and may hold spaces
        // and parentheses: the fields after it start after the last ')'.
        // There field 3 (state) is index 0, so ppid (4) is 1, pgrp (5) is
        // 2, utime (14) is 11 and stime (15) is 12.
        let after = &line[line.rfind(')')? + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        Some(Stat {
            state: fields.first()?.chars().next()?,
            ppid: fields.get(1)?.parse().ok()?,
            pgrp: fields.get(2)?.parse().ok()?,
            utime: fields.get(11)?.parse().ok()?,
            stime: fields.get(12)?.parse().ok()?,
        })
    }

    /// Reads `/proc/PID/stat`.
    pub fn read(pid: u32) -> io::Result<Stat> {
        read_parsed(&proc_path(pid).join("stat"), Stat::parse)
    }

    /// Reads one thread's `/proc/PID/task/TID/stat`: its own CPU times.
    pub fn read_thread(pid: u32, tid: u32) -> io::Result<Stat> {
        read_parsed(&task_path(pid, tid).join("stat"), Stat::parse)
    }

    /// Its CPU times at `per_second` clock ticks a second.
    pub fn cpu_times(&self, per_second: u64) -> CpuTimes {
        CpuTimes {
            user: ticks_to_duration(self.utime, per_second),
            system: ticks_to_duration(self.stime, per_second),
        }
    }
}

/// The CPU times of process `pid`: all its threads, those that have ended
/// too, with the system's real clock tick.
pub fn cpu_times(pid: u32) -> io::Result<CpuTimes> {
    Ok(Stat::read(pid)?.cpu_times(real_clock_ticks()?))
}

/// The CPU times of thread `tid` of process `pid`.
pub fn thread_cpu_times(pid: u32, tid: u32) -> io::Result<CpuTimes> {
    Ok(Stat::read_thread(pid, tid)?.cpu_times(real_clock_ticks()?))
}

fn real_clock_ticks() -> io::Result<u64> {
    clock_ticks().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "the system does not say how many clock ticks a second /proc counts",
        )
    })
}

/// The fields of `/proc/PID/status` that the tools use; each is `None`
/// where the file has no such line (a zombie has no memory lines, for
/// one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The real user id (the first number of `Uid:`).
    pub uid: Option<u32>,
    /// Threads (`Threads:`).
    pub threads: Option<u64>,
    /// Resident memory (`VmRSS:`), in bytes.
    pub rss_bytes: Option<u64>,
    /// The most resident memory it ever had (`VmHWM:`), in bytes.
    pub peak_rss_bytes: Option<u64>,
}

impl Status {
    /// Parses the text of a status file.
    pub fn parse(text: &str) -> Status {
        // "Name:\tvalue ...": the first word after the colon.
        let first = |name: &str| {
            text.lines().find_map(|line| {
                let rest = line.strip_prefix(name)?.strip_prefix(':')?;
                rest.split_whitespace().next()
            })
        };
        let number = |name: &str| first(name)?.parse::<u64>().ok();
        // Memory lines are in kB (KiB: the kernel's "kB" means 1024).
        let kib = |name: &str| number(name).map(|k| k * 1024);
        Status {
            uid: first("Uid").and_then(|u| u.parse().ok()),
            threads: number("Threads"),
            rss_bytes: kib("VmRSS"),
            peak_rss_bytes: kib("VmHWM"),
        }
    }

    /// Reads `/proc/PID/status`.
    pub fn read(pid: u32) -> io::Result<Status> {
        read_parsed(&proc_path(pid).join("status"), |t| Some(Status::parse(t)))
    }
}

/// One look at what a process costs: memory, threads and CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Resident memory (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// Threads (`Threads`).
    pub threads: u64,
    /// CPU time spent in the program itself.
    pub user: Duration,
    /// CPU time spent in the kernel on its behalf (system calls, and on
    /// loopback the TCP work of delivering what it sends).
    pub system: Duration,
}

impl Sample {
    /// User and system CPU time together.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }

    /// A sample from a status file, a stat line and the clock tick; `None`
    /// when one of them lacks a figure.
    fn from_parts(status: &str, stat: &str, per_second: u64) -> Option<Sample> {
        let status = Status::parse(status);
        let cpu = Stat::parse(stat)?.cpu_times(per_second);
        Some(Sample {
            rss_bytes: status.rss_bytes?,
            threads: status.threads?,
            user: cpu.user,
            system: cpu.system,
        })
    }
}

/// Reads `/proc/PID/status` and `/proc/PID/stat`. Without `/proc` (not
/// Linux) this is an [`io::ErrorKind::Unsupported`] error.
pub fn sample(pid: u32) -> io::Result<Sample> {
    if !cfg!(target_os = "linux") {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "reading a process's memory and CPU time needs Linux's /proc",
        ));
    }
    let status = std::fs::read_to_string(proc_path(pid).join("status"))?;
    let stat = std::fs::read_to_string(proc_path(pid).join("stat"))?;
    Sample::from_parts(&status, &stat, real_clock_ticks()?).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot read /proc/{pid}/status or /proc/{pid}/stat"),
        )
    })
}

/// What `/proc/PID/task/TID/schedstat` says of a thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Time it ran on a CPU.
    pub on_cpu: Duration,
    /// Time it was ready to run and waited for a CPU.
    pub waiting: Duration,
    /// How many times it was given a CPU.
    pub timeslices: u64,
}

impl SchedStat {
    /// Parses the three numbers of a schedstat file (nanoseconds on a CPU,
    /// nanoseconds waiting, timeslices).
    pub fn parse(text: &str) -> Option<SchedStat> {
        let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().ok());
        Some(SchedStat {
            on_cpu: Duration::from_nanos(numbers.next()??),
            waiting: Duration::from_nanos(numbers.next()??),
            timeslices: numbers.next()??,
        })
    }

    /// Reads thread `tid` of process `pid`.
    pub fn read_thread(pid: u32, tid: u32) -> io::Result<SchedStat> {
        read_parsed(&task_path(pid, tid).join("schedstat"), SchedStat::parse)
    }

    /// The time the thread wanted a CPU: on one, or waiting for one. Unlike
    /// CPU time, this does not shrink when the machine is busy.
    pub fn wanted(&self) -> Duration {
        self.on_cpu + self.waiting
    }
}

/// Context switches of a process, summed over its threads: how often its
/// threads gave up a CPU because they had to wait (`voluntary`: a `recv`
/// with nothing to read, a lock held by another thread, `epoll_wait`) and
/// how often the scheduler took the CPU from them (`nonvoluntary`).
///
/// `/proc/PID/status` counts the main thread only; the sum is over
/// `/proc/PID/task/*/status`. A thread that has ended takes its counts with
/// it: read while the threads that matter are alive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextSwitches {
    /// `voluntary_ctxt_switches`.
    pub voluntary: u64,
    /// `nonvoluntary_ctxt_switches`.
    pub nonvoluntary: u64,
}

impl ContextSwitches {
    /// The two counts of one status file; `None` where it lacks them.
    pub fn parse(status: &str) -> Option<ContextSwitches> {
        let number = |name: &str| {
            status.lines().find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(':')?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        };
        Some(ContextSwitches {
            voluntary: number("voluntary_ctxt_switches")?,
            nonvoluntary: number("nonvoluntary_ctxt_switches")?,
        })
    }

    /// Both counts of `later` minus those of `self` (zero where a count
    /// went down: threads ended in between).
    pub fn until(&self, later: &ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: later.voluntary.saturating_sub(self.voluntary),
            nonvoluntary: later.nonvoluntary.saturating_sub(self.nonvoluntary),
        }
    }
}

/// The context switches of every live thread of process `pid`, summed. A
/// thread that ends while it is read is left out; a process that has ended
/// is an error.
pub fn context_switches(pid: u32) -> io::Result<ContextSwitches> {
    let tasks = proc_path(pid).join("task");
    let mut sum = ContextSwitches::default();
    for entry in std::fs::read_dir(&tasks)? {
        let Ok(entry) = entry else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("status")) else {
            continue; // ended since the folder was listed
        };
        if let Some(one) = ContextSwitches::parse(&text) {
            sum.voluntary += one.voluntary;
            sum.nonvoluntary += one.nonvoluntary;
        }
    }
    Ok(sum)
}

/// Every process on the machine (empty without `/proc`).
pub fn pids() -> Vec<u32> {
    numbered_entries(Path::new("/proc"))
}

/// The threads of process `pid`, by thread id (empty once it has ended).
pub fn thread_ids(pid: u32) -> Vec<u32> {
    numbered_entries(&proc_path(pid).join("task"))
}

/// The live processes (zombies left out) of process group `pgid`.
pub fn group_members(pgid: i32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&pid| Stat::read(pid).is_ok_and(|s| s.pgrp == pgid && s.state != 'Z'))
        .collect()
}

/// The live processes (zombies left out) descended from process `root`,
/// by their parent process ids, `root` left out. A process stays its
/// parent's descendant whatever it does to its session, process group or
/// namespaces; only an orphan leaves the tree, adopted by the nearest
/// reaper (inside a PID namespace, its init).
pub fn descendants(root: u32) -> Vec<u32> {
    let stats: Vec<(u32, Stat)> = pids()
        .into_iter()
        .filter_map(|pid| Some((pid, Stat::read(pid).ok()?)))
        .collect();
    let mut found = Vec::new();
    let mut parents = vec![root];
    // A process is read once: a bound of one pass per process, whatever a
    // /proc that changes meanwhile says about parents.
    for _ in 0..=stats.len() {
        let Some(parent) = parents.pop() else { break };
        for (pid, stat) in &stats {
            if stat.ppid == parent && *pid != root && !found.contains(pid) {
                found.push(*pid);
                parents.push(*pid);
            }
        }
    }
    found.retain(|pid| stats.iter().any(|(p, s)| p == pid && s.state != 'Z'));
    found
}

/// The children of process `pid` (of its main thread), from
/// `/proc/PID/task/PID/children`; `None` where the kernel does not list
/// them.
pub fn children(pid: u32) -> Option<Vec<u32>> {
    let text = std::fs::read_to_string(task_path(pid, pid).join("children")).ok()?;
    Some(
        text.split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect(),
    )
}

/// The inodes of the sockets process `pid` holds open (its
/// `/proc/PID/fd` links to `socket:[INODE]`), to match against
/// [`crate::tcp::Socket::inode`].
pub fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir(proc_path(pid).join("fd")) else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let target = std::fs::read_link(entry.ok()?.path()).ok()?;
        target
            .to_str()?
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// The PID namespace process `pid` lives in, as `/proc/PID/ns/pid` names
/// it (`pid:[4026531836]`): two processes are in the same namespace when
/// the names are equal.
pub fn pid_namespace(pid: u32) -> Option<OsString> {
    std::fs::read_link(proc_path(pid).join("ns/pid"))
        .ok()
        .map(PathBuf::into_os_string)
}

/// Whether `tid` is a thread of this very process (a thread id is a pid
/// too: a scan of [`pids`] sees this process's threads only by asking).
pub fn is_own_thread(tid: u32) -> bool {
    Path::new(&format!("/proc/self/task/{tid}")).exists()
}

fn proc_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

fn task_path(pid: u32, tid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/task/{tid}"))
}

/// The entries of `dir` whose names are numbers.
fn numbered_entries(dir: &Path) -> Vec<u32> {
    std::fs::read_dir(dir)
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `path` and parses it; a file that does not parse is
/// [`io::ErrorKind::InvalidData`].
fn read_parsed<T>(path: &Path, parse: impl FnOnce(&str) -> Option<T>) -> io::Result<T> {
    let text = std::fs::read_to_string(path)?;
    parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse {}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stat line as the kernel writes it, for a command named
    /// `a (b) c` (spaces and parentheses, as a program may name itself).
    const STAT: &str = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0 100 0 0\n";

    #[test]
    fn context_switches_are_read_from_a_status_file_and_subtracted() {
        let status = "Name:\tx\nThreads:\t1\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
        let one = ContextSwitches::parse(status).unwrap();
        assert_eq!(
            one,
            ContextSwitches {
                voluntary: 120,
                nonvoluntary: 7
            }
        );
        assert_eq!(ContextSwitches::parse("Name:\tx\n"), None);
        let later = ContextSwitches {
            voluntary: 150,
            nonvoluntary: 5,
        };
        assert_eq!(
            one.until(&later),
            ContextSwitches {
                voluntary: 30,
                nonvoluntary: 0
            }
        );
        if cfg!(target_os = "linux") {
            let mine = context_switches(std::process::id()).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            let again = context_switches(std::process::id()).unwrap();
            assert!(again.voluntary > mine.voluntary, "{mine:?} {again:?}");
        }
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let stat = Stat::parse(STAT).unwrap();
        assert_eq!(
            stat,
            Stat {
                state: 'S',
                ppid: 1,
                pgrp: 2,
                utime: 150,
                stime: 25,
            }
        );
        // A name that looks like the end of the fields: ") R 7 8".
        let tricky = "7 (x) R 7 8 (y) Z 9 10 11 12 13 14 15 16 17 18 19 20 21 22\n";
        let stat = Stat::parse(tricky).unwrap();
        assert_eq!((stat.state, stat.ppid, stat.pgrp), ('Z', 9, 10));
        assert_eq!((stat.utime, stat.stime), (19, 20));
    }

    #[test]
    fn a_cut_or_foreign_line_is_refused_not_misread() {
        assert_eq!(Stat::parse(""), None);
        assert_eq!(Stat::parse("42 (name)"), None);
        assert_eq!(Stat::parse("42 (name) S 1 2"), None);
        assert_eq!(Stat::parse("42 name S 1 2 3 4 5 6 7 8 9 10 150 25"), None);
        assert_eq!(Stat::parse("42 (n) S x 2 3 4 5 6 7 8 9 10 150 25"), None);
    }

    #[test]
    fn ticks_become_durations_at_the_rate_given() {
        assert_eq!(ticks_to_duration(150, 100), Duration::from_millis(1500));
        assert_eq!(ticks_to_duration(150, 250), Duration::from_millis(600));
        assert_eq!(ticks_to_duration(1, 3), Duration::from_nanos(333_333_333));
        assert_eq!(ticks_to_duration(7, 0), Duration::ZERO);
        let cpu = Stat::parse(STAT).unwrap().cpu_times(1000);
        assert_eq!(cpu.user, Duration::from_millis(150));
        assert_eq!(cpu.system, Duration::from_millis(25));
        assert_eq!(cpu.total(), Duration::from_millis(175));
    }

    #[test]
    fn parses_status() {
        let text = "Name:\tx (y)\nUid:\t1000\t1000\t1000\t1000\nVmHWM:\t  4096 kB\nVmRSS:\t  2048 kB\nThreads:\t7\n";
        assert_eq!(
            Status::parse(text),
            Status {
                uid: Some(1000),
                threads: Some(7),
                rss_bytes: Some(2048 * 1024),
                peak_rss_bytes: Some(4096 * 1024),
            }
        );
        // A zombie's status has no memory lines; a prefix is not a name.
        let zombie = "Name:\tz\nVmRSSx:\t1 kB\nThreads:\t1\n";
        assert_eq!(Status::parse(zombie).rss_bytes, None);
        assert_eq!(Status::parse(zombie).threads, Some(1));
    }

    #[test]
    fn a_sample_needs_memory_threads_and_cpu() {
        let status = "Name:\tx\nVmRSS:\t  2048 kB\nThreads:\t7\n";
        let s = Sample::from_parts(status, STAT, 100).unwrap();
        assert_eq!(s.rss_bytes, 2048 * 1024);
        assert_eq!(s.threads, 7);
        assert_eq!(s.user, Duration::from_millis(1500));
        assert_eq!(s.system, Duration::from_millis(250));
        assert_eq!(s.cpu(), Duration::from_millis(1750));
        assert_eq!(Sample::from_parts("Threads:\t7\n", STAT, 100), None);
        assert_eq!(Sample::from_parts(status, "42 (x) S", 100), None);
    }

    #[test]
    fn parses_schedstat() {
        let s = SchedStat::parse("1500000 250000 12\n").unwrap();
        assert_eq!(s.on_cpu, Duration::from_micros(1500));
        assert_eq!(s.waiting, Duration::from_micros(250));
        assert_eq!(s.timeslices, 12);
        assert_eq!(s.wanted(), Duration::from_micros(1750));
        assert_eq!(SchedStat::parse("1 2"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let s = sample(me).unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.threads >= 1);
        let stat = Stat::read(me).unwrap();
        assert_eq!(stat.ppid, std::os::unix::process::parent_id());
        assert!(pids().contains(&me));
        assert!(thread_ids(me).contains(&me));
        assert!(is_own_thread(me));
        let status = Status::read(me).unwrap();
        assert!(status.peak_rss_bytes >= status.rss_bytes);
        assert!(SchedStat::read_thread(me, me).is_ok_and(|s| s.timeslices > 0));
        let namespace = pid_namespace(me).unwrap();
        assert!(
            namespace.to_string_lossy().starts_with("pid:["),
            "{namespace:?}"
        );
    }

    /// The clock tick agrees with `getconf CLK_TCK`, which asks the C
    /// library the same question another way.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_clock_tick_is_the_systems() {
        let ticks = clock_ticks().expect("sysconf(_SC_CLK_TCK)");
        let getconf = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output();
        if let Ok(out) = getconf
            && out.status.success()
        {
            let said = String::from_utf8_lossy(&out.stdout);
            assert_eq!(said.trim().parse::<u64>().ok(), Some(ticks));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn cpu_time_grows_with_work_done() {
        let me = std::process::id();
        // Tests run on threads of their own: this thread's times are its
        // own, part of the process's.
        let tid = nix::unistd::gettid().as_raw() as u32;
        let before = cpu_times(me).unwrap();
        let thread_before = thread_cpu_times(me, tid).unwrap();
        // Spin until both figures have moved (a CPU time moves a tick, 10
        // ms, at a time), for 20 s at most however loaded the machine is.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        let (thread_after, after) = loop {
            let spin = std::time::Instant::now();
            while spin.elapsed() < Duration::from_millis(20) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            let thread_after = thread_cpu_times(me, tid).unwrap();
            let after = cpu_times(me).unwrap();
            if thread_after.total() > thread_before.total() && after.total() > before.total() {
                break (thread_after, after);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no CPU time counted in 20 s of spinning: {before:?} -> {after:?}"
            );
        };
        assert!(thread_after.total() <= after.total());
    }

    #[cfg(target_os = "linux")]
    /// A grandchild in a session of its own (`setsid`) is still found:
    /// it left its process group, not the tree.
    #[test]
    fn descendants_include_a_grandchild_in_its_own_session() {
        use std::os::unix::process::CommandExt;
        // The shell leads a process group of its own (its pid); the sleep
        // leaves it for a new session.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let root = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let (mut found, mut pgrps) = (Vec::new(), Vec::new());
        while std::time::Instant::now() < deadline {
            found = descendants(root);
            pgrps = found
                .iter()
                .filter_map(|&pid| Stat::read(pid).ok())
                .map(|stat| stat.pgrp)
                .collect();
            if pgrps.iter().any(|&pgrp| pgrp != root as i32) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for &pid in &found {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            !found.contains(&root) && pgrps.iter().any(|&pgrp| pgrp != root as i32),
            "descendants of {root}: {found:?}, in process groups {pgrps:?}"
        );
    }

    #[test]
    fn a_process_that_has_gone_is_an_error_not_a_panic() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(Stat::read(pid).is_err());
        assert!(sample(pid).is_err());
        assert!(socket_inodes(pid).is_empty());
        assert_eq!(children(pid), None);
    }
}
