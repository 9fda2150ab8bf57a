//! Where one submission's programs run: namespaces of their own, a private
//! size-capped `/tmp` that holds a copy of the submission, a user of their
//! own and a memory cgroup. docs/grading.md ("Safety") says what each part
//! guarantees.
//!
//! A `grader check` process enters its jail once, before it starts any
//! thread ([`Jail::enter`]):
//!
//! - a **network namespace** with only loopback, in which the grader itself
//!   connects: a program reaches no other machine, and jobs graded side by
//!   side cannot take each other's ports;
//! - a **mount namespace** with a tmpfs of `--disk` MiB, which the programs
//!   see as `/tmp`; the submission is copied into `/tmp/work`, where its
//!   build step and its runs happen. The tmpfs goes away with the grader;
//! - where the grader is not root, a **user namespace** first, which gives
//!   it the right to make the others (and the programs run with the
//!   grader's own uid, seen as root inside, with no capabilities);
//! - as root, a **memory cgroup** for the submission's processes together.
//!
//! Every program run then starts in a **PID namespace** of its own, under a
//! small init process (the grader binary again, [`init_main`]): it makes
//! every mount read-only but `/tmp`, mounts a `/proc` that shows only the
//! namespace, and starts the program as the job's user. When the program's
//! first process ends, init ends, and the kernel kills whatever is left in
//! the namespace, however it forked: nothing outlives the run.
//!
//! Where the kernel refuses namespaces (Docker's default seccomp profile),
//! [`Isolation::Fallback`] says why, programs run as before (process group,
//! subreaper, resource limits), and the report's first line says so.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid};

use crate::i18n::tr;

/// The file descriptor on which a jail's init reports to the grader: `S`
/// once the program has started, then its wait status (4 bytes, little
/// endian) when it has ended.
pub const STATUS_FD: i32 = 3;

/// The hidden subcommand that runs a jail's init.
pub const INIT_COMMAND: &str = "__jail-init";

/// The first uid of the range given to jobs: each `grader check` process
/// run as root gives its programs uid `JOB_UID_BASE + its pid`, which no
/// other live job has and no account on the machine uses.
pub const JOB_UID_BASE: u32 = 2_100_000_000;

/// The work space's size unless told otherwise: `/tmp` and the copy of
/// the submission together.
pub const DEFAULT_DISK_MIB: u64 = 256;

/// How well a submission's programs are kept apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Namespaces of their own (PID, network, mounts; a user namespace
    /// where the grader is not root).
    Namespaces {
        /// Whether a user namespace was needed (the grader is not root).
        user_namespace: bool,
        /// Whether a memory cgroup holds the submission's processes.
        cgroup: bool,
    },
    /// None could be made: why.
    Fallback(String),
}

impl Isolation {
    /// A line for a report's header where the isolation is weaker than
    /// docs/grading.md promises, in the grading's language; `None` where
    /// it is all there.
    pub fn warning(&self) -> Option<String> {
        match self {
            Isolation::Namespaces {
                user_namespace: true,
                ..
            } => Some(
                tr(
                    "note: the grader is not root, so programs run with its own uid (in namespaces of their own: \
                     they can read what it can read, but write only their /tmp); their memory is limited per process only",
                    "注意：评分程序不是 root，所以程序以评分程序自己的 uid 运行（在它们自己的命名空间里：\
                     评分程序能读的它们都能读，但只能写自己的 /tmp）；内存只能按进程分别限制",
                )
                .to_owned(),
            ),
            Isolation::Namespaces { cgroup: false, .. } => Some(
                tr(
                    "note: no memory cgroup could be made, so memory is limited per process only",
                    "注意：无法建立内存 cgroup，所以内存只能按进程分别限制",
                )
                .to_owned(),
            ),
            Isolation::Namespaces { .. } => None,
            Isolation::Fallback(why) => {
                let rights = if Uid::effective().is_root() {
                    ""
                } else {
                    tr(
                        "; they run with the grader's own rights, and can write whatever it can",
                        "；它们以评分程序自己的权限运行，评分程序能写的它们都能写",
                    )
                };
                Some(crate::tr!(
                    "warning: programs ran without namespaces ({why}): they share the machine's network and /tmp, \
                     and a process that escapes its group may outlive the grading{rights}",
                    "警告：程序是在没有命名空间的情况下运行的（{why}）：它们共用这台机器的网络和 /tmp，\
                     逃出进程组的进程可能在评分结束后仍然存活{rights}"
                ))
            }
        }
    }
}

/// One submission's jail. Dropping it removes its work space and cgroup.
#[derive(Debug)]
pub struct Jail {
    /// The isolation its programs get.
    pub isolation: Isolation,
    /// The private file system's root as the grader sees it (the
    /// programs' `/tmp` under namespaces).
    base: PathBuf,
    /// The folder the programs run in, as they see it.
    work: PathBuf,
    /// The submission's folder, copied into the work folder.
    source: Option<PathBuf>,
    /// The programs' user and group, where not the grader's.
    user: Option<(u32, u32)>,
    /// The programs' memory cgroup, where one was made.
    cgroup: Option<PathBuf>,
    /// Their CPU cgroup (cgroup v1, where its memory one is apart), which
    /// gives each submission an equal share of the CPU however many
    /// processes it runs.
    cpu_cgroup: Option<PathBuf>,
    /// The work space's size cap, in bytes.
    disk_bytes: u64,
    /// Whether `base` is a tmpfs mounted by this process.
    mounted: bool,
}

impl Jail {
    /// Enters the jail: must be called while the process has one thread
    /// (a user namespace demands it). `dir`, the submission's folder, is
    /// copied into the work folder; `user` is who runs the programs (root
    /// only); `memory_bytes` caps the submission's processes together;
    /// `namespaces` false skips them (as where the kernel refuses them).
    /// `Err` only for what the submission's teacher must fix: a folder that
    /// cannot be read, or is larger than the work space.
    pub fn enter(
        dir: Option<&Path>,
        user: Option<(u32, u32)>,
        memory_bytes: u64,
        disk_bytes: u64,
        namespaces: bool,
    ) -> Result<Jail, String> {
        // Resolved before the mount namespace exists, while relative paths
        // still mean what the teacher meant.
        let dir = match dir {
            Some(dir) => Some(fs::canonicalize(dir).map_err(|err| {
                let dir = dir.display();
                crate::tr!(
                    "cannot open the folder {dir}: {err}",
                    "无法打开文件夹 {dir}：{err}"
                )
            })?),
            None => None,
        };
        let root = Uid::effective().is_root();
        clean_stale();
        let entered = if namespaces {
            enter_namespaces(root)
        } else {
            Err(tr("--no-namespaces was given", "给出了 --no-namespaces").to_owned())
        };
        let isolation = match entered {
            Ok(()) => Isolation::Namespaces {
                user_namespace: !root,
                cgroup: false,
            },
            Err(why) => Isolation::Fallback(why),
        };
        let namespaces = matches!(isolation, Isolation::Namespaces { .. });
        let base = private_folder()?;
        let mut jail = Jail {
            isolation,
            work: if namespaces {
                PathBuf::from("/tmp/work")
            } else {
                base.join("work")
            },
            base,
            source: dir.clone(),
            user: if root { user } else { None },
            cgroup: None,
            cpu_cgroup: None,
            disk_bytes,
            mounted: false,
        };
        if namespaces {
            let options = format!("size={disk_bytes},mode=1777,nr_inodes=65536");
            mount(
                Some("grader"),
                &jail.base,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some(options.as_str()),
            )
            .map_err(|err| {
                crate::tr!(
                    "cannot mount the work space: {err}",
                    "无法挂载工作空间：{err}"
                )
            })?;
            jail.mounted = true;
        }
        jail.fill()?;
        if root {
            jail.cgroup = make_cgroup(memory_bytes);
            jail.cpu_cgroup = make_cpu_cgroup();
            if let Isolation::Namespaces { cgroup, .. } = &mut jail.isolation {
                *cgroup = jail.cgroup.is_some();
            }
        }
        Ok(jail)
    }

    /// Makes the work folder: a copy of the submission, owned by the
    /// programs' user, that only it can enter.
    fn fill(&self) -> Result<(), String> {
        let work = self.base.join("work");
        fs::create_dir(&work).map_err(|err| {
            crate::tr!(
                "cannot make the work folder: {err}",
                "无法创建工作文件夹：{err}"
            )
        })?;
        if let Some(dir) = &self.source {
            let mut budget = self.disk_bytes;
            copy_tree(dir, &work, &mut budget).map_err(|err| {
                let (dir, mib) = (dir.display(), self.disk_bytes >> 20);
                crate::tr!(
                    "cannot copy {dir} into the work space ({mib} MiB, --disk): {err}",
                    "无法把 {dir} 复制到工作空间（{mib} MiB，--disk）：{err}"
                )
            })?;
        }
        if let Some((uid, gid)) = self.user {
            chown_tree(&work, uid, gid).map_err(|err| {
                crate::tr!(
                    "cannot give the work folder to uid {uid}: {err}",
                    "无法把工作文件夹交给 uid {uid}：{err}"
                )
            })?;
        }
        fs::set_permissions(&work, fs::Permissions::from_mode(0o700)).map_err(|err| {
            crate::tr!(
                "cannot protect the work folder: {err}",
                "无法保护工作文件夹：{err}"
            )
        })
    }

    /// Copies the submission again, afresh (`--watch`, after a change).
    pub fn renew(&self) -> Result<(), String> {
        let work = self.base.join("work");
        fs::remove_dir_all(&work).map_err(|err| {
            crate::tr!(
                "cannot empty the work folder: {err}",
                "无法清空工作文件夹：{err}"
            )
        })?;
        self.fill()
    }

    /// Whether programs run under namespaces (through [`init_main`]).
    pub fn namespaces(&self) -> bool {
        matches!(self.isolation, Isolation::Namespaces { .. })
    }

    /// The folder programs run in, as they see it: the copy of the
    /// submission; `None` where no folder was given (they run in the
    /// grader's own, read-only under namespaces).
    pub fn work_dir(&self) -> Option<&Path> {
        self.source.as_ref().map(|_| self.work.as_path())
    }

    /// Where the grader finds `path` as a program sees it: its `/tmp` is
    /// the work space, a relative path starts in the folder it runs in
    /// (the work folder, else `dir` or the grader's own).
    pub fn host_path(&self, path: &Path, dir: Option<&Path>) -> PathBuf {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            match (self.work_dir(), dir) {
                (Some(work), _) => work.join(path),
                (None, Some(dir)) => dir.join(path),
                (None, None) => return path.to_path_buf(),
            }
        };
        if self.namespaces()
            && let Ok(rest) = absolute.strip_prefix("/tmp")
        {
            return self.base.join(rest);
        }
        absolute
    }

    /// `HOME` for the programs: the work folder.
    pub fn home(&self) -> &Path {
        &self.work
    }

    /// `TMPDIR` for the programs.
    pub fn tmp(&self) -> PathBuf {
        if self.namespaces() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        }
    }

    /// The programs' user and group, where not the grader's.
    pub fn user(&self) -> Option<(u32, u32)> {
        self.user
    }

    /// The cgroups' `cgroup.procs` files, into which a program's first
    /// process moves itself.
    pub fn cgroup_procs(&self) -> Vec<PathBuf> {
        self.cgroup
            .iter()
            .chain(&self.cpu_cgroup)
            .map(|c| c.join("cgroup.procs"))
            .collect()
    }

    /// The work space's size cap, in bytes (RLIMIT_FSIZE without a tmpfs).
    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// The arguments of [`init_main`] for one run of `argv` (after the
    /// subcommand's name).
    pub fn init_args(&self, argv: &[String], exposed: &[PathBuf]) -> Vec<String> {
        // Programs drop every privilege, but those a teacher runs as root on
        // purpose (`--run-as root`, and only where the grader is root).
        let drop_privileges = self.user.is_some()
            || matches!(
                self.isolation,
                Isolation::Namespaces {
                    user_namespace: true,
                    ..
                }
            );
        let mut args = vec![
            INIT_COMMAND.to_owned(),
            self.base.to_string_lossy().into_owned(),
            match self.cgroup_procs() {
                procs if procs.is_empty() => "-".to_owned(),
                procs => procs
                    .iter()
                    .map(|p| p.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(":"),
            },
            match self.user {
                Some((uid, gid)) => format!("{uid}:{gid}"),
                None => "-".to_owned(),
            },
            if drop_privileges { "drop" } else { "keep" }.to_owned(),
            self.work_dir()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| "-".to_owned()),
        ];
        args.extend(exposed.iter().map(|p| p.to_string_lossy().into_owned()));
        args.push("--".to_owned());
        args.extend(argv.iter().cloned());
        args
    }
}

/// The folders of the machine's `/tmp` that a run needs to see, read-only,
/// in its private `/tmp`: those its command names (a program built under
/// `/tmp`, as a repository cloned there builds it) and the folder it runs
/// in. Each is the top folder under `/tmp` (`/tmp/ci` for
/// `/tmp/ci/target/debug/x`); none is named `work`, the work folder's name.
pub fn exposures(argv: &[String], cwd: Option<&Path>) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let cwd = cwd.map(Path::to_path_buf);
    let candidates = argv
        .iter()
        .map(PathBuf::from)
        .chain(cwd)
        .filter(|p| p.is_absolute());
    for path in candidates {
        let Ok(rest) = path.strip_prefix("/tmp") else {
            continue;
        };
        let Some(std::path::Component::Normal(top)) = rest.components().next() else {
            continue;
        };
        let top = Path::new("/tmp").join(top);
        if top.file_name().is_some_and(|n| n != "work") && top.exists() && !found.contains(&top) {
            found.push(top);
        }
    }
    found
}

/// Shows the machine's `source` (a folder or file under `/tmp`) at the
/// same place in the work space `base`, read-only.
fn expose(base: &str, source: &str) -> Result<(), String> {
    let name = Path::new(source)
        .file_name()
        .ok_or_else(|| format!("cannot show {source}"))?;
    let target = Path::new(base).join(name);
    if Path::new(source).is_dir() {
        let _ = fs::create_dir(&target);
    } else {
        let _ = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&target);
    }
    let fail = |err: Errno| format!("cannot show {source} in the private /tmp: {err}");
    mount(
        Some(source),
        &target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(fail)?;
    remount_read_only(&target.to_string_lossy()).map_err(fail)
}

impl Drop for Jail {
    fn drop(&mut self) {
        if self.mounted {
            let _ = umount2(&self.base, MntFlags::MNT_DETACH);
        } else {
            let _ = fs::remove_dir_all(self.base.join("work"));
        }
        let _ = fs::remove_dir(&self.base);
        for cgroup in self.cgroup.iter().chain(&self.cpu_cgroup) {
            // Its processes are gone; the kernel may take a moment to say so.
            for _ in 0..50 {
                if fs::remove_dir(cgroup).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// Removes what a `grader check` process killed before it could clean up
/// (its pid was `pid`) left: its empty work-space folders and its cgroup.
/// Its programs are gone already: each run's init ends when the grader's
/// end of its status pipe closes.
pub fn clean_after(pid: u32) {
    for attempt in 0..100u32 {
        let folder = std::env::temp_dir().join(format!("socket-lessons-grader-{pid}-{attempt}"));
        if !folder.exists() {
            break;
        }
        // A work space without namespaces is a plain folder.
        let _ = fs::remove_dir_all(folder.join("work"));
        let _ = fs::remove_dir(&folder);
    }
    let name = format!("socket-lessons-grader-{pid}");
    for root in CGROUP_ROOTS {
        let cgroup = Path::new(root).join(&name);
        for _ in 0..50 {
            if !cgroup.exists() || fs::remove_dir(&cgroup).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Cleans up after every grader that was killed before it could (a
/// `--watch` ended with Ctrl+C, a batch's time limit): the work-space
/// folders and cgroups named after a process that no longer runs.
fn clean_stale() {
    let dead = |name: &str| -> Option<u32> {
        let pid: u32 = name
            .strip_prefix("socket-lessons-grader-")?
            .split('-')
            .next()?
            .parse()
            .ok()?;
        (!Path::new(&format!("/proc/{pid}")).exists()).then_some(pid)
    };
    let mut pids: Vec<u32> = Vec::new();
    for folder in std::iter::once(std::env::temp_dir()).chain(CGROUP_ROOTS.map(PathBuf::from)) {
        if let Ok(entries) = fs::read_dir(&folder) {
            pids.extend(
                entries
                    .flatten()
                    .filter_map(|e| dead(&e.file_name().to_string_lossy())),
            );
        }
    }
    pids.sort_unstable();
    pids.dedup();
    for pid in pids {
        clean_after(pid);
    }
}

/// Unshares the network and mount namespaces (after a user namespace
/// where the grader is not root), makes mounts private, and brings up
/// loopback.
fn enter_namespaces(root: bool) -> Result<(), String> {
    if !root {
        let (uid, gid) = (Uid::current(), Gid::current());
        unshare(CloneFlags::CLONE_NEWUSER).map_err(|err| {
            crate::tr!(
                "the kernel refused an unprivileged user namespace: {err}",
                "内核拒绝了非特权用户命名空间：{err}"
            )
        })?;
        // Inside, the grader is root (with the rights it needs to make the
        // other namespaces); outside, it is still its own uid.
        fs::write("/proc/self/setgroups", "deny")
            .and_then(|()| fs::write("/proc/self/uid_map", format!("0 {uid} 1")))
            .and_then(|()| fs::write("/proc/self/gid_map", format!("0 {gid} 1")))
            .map_err(|err| {
                crate::tr!(
                    "cannot map the user namespace's ids: {err}",
                    "无法映射用户命名空间的 id：{err}"
                )
            })?;
    }
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS).map_err(|err| {
        crate::tr!(
            "the kernel refused network and mount namespaces: {err}",
            "内核拒绝了网络和挂载命名空间：{err}"
        )
    })?;
    mounts_private()?;
    loopback_up()
        .map_err(|err| crate::tr!("cannot bring up loopback: {err}", "无法启用回环接口：{err}"))?;
    // A PID namespace can be made too (each run makes its own): tried now,
    // so that a kernel that refuses it means the fallback, not a failed run.
    let probe = std::thread::spawn(|| unshare(CloneFlags::CLONE_NEWPID))
        .join()
        .map_err(|_| tr("cannot try a PID namespace", "无法试建 PID 命名空间").to_owned())?;
    probe.map_err(|err| {
        crate::tr!(
            "the kernel refused a PID namespace: {err}",
            "内核拒绝了 PID 命名空间：{err}"
        )
    })?;
    Ok(())
}

/// Makes every mount of this mount namespace private: nothing mounted
/// here shows outside, nor anything mounted outside here.
fn mounts_private() -> Result<(), String> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|err| {
        crate::tr!(
            "cannot make mounts private: {err}",
            "无法把挂载设为私有：{err}"
        )
    })
}

/// Brings up `lo` in a new network namespace (down until then).
fn loopback_up() -> io::Result<()> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // struct ifreq: the name (16 bytes) then a union whose first member
    // here is `short ifr_flags`.
    let mut request = [0u8; 40];
    request[..2].copy_from_slice(b"lo");
    // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read and write a struct ifreq;
    // `request` is larger than one (40 bytes) and outlives the calls.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, request.as_mut_ptr()) < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = i16::from_ne_bytes([request[16], request[17]])
            | (libc::IFF_UP | libc::IFF_RUNNING) as i16;
        request[16..18].copy_from_slice(&flags.to_ne_bytes());
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, request.as_ptr()) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A new empty folder only the grader can enter: the work space's
/// mount point (or, without namespaces, the work space itself).
fn private_folder() -> Result<PathBuf, String> {
    let parent = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = parent.join(format!(
            "socket-lessons-grader-{}-{attempt}",
            std::process::id()
        ));
        match fs::DirBuilder::new().mode_0711().create(&path) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                let parent = parent.display();
                return Err(crate::tr!(
                    "cannot make a work folder in {parent}: {err}",
                    "无法在 {parent} 里创建工作文件夹：{err}"
                ));
            }
        }
    }
    let parent = parent.display();
    Err(crate::tr!(
        "cannot make a work folder in {parent}: too many left there",
        "无法在 {parent} 里创建工作文件夹：那里留下的太多了"
    ))
}

trait Mode0711 {
    fn mode_0711(&mut self) -> &mut Self;
}

impl Mode0711 for fs::DirBuilder {
    fn mode_0711(&mut self) -> &mut Self {
        std::os::unix::fs::DirBuilderExt::mode(self, 0o711)
    }
}

/// Copies `from` into `to` (which exists): folders, files with their
/// permission bits, and symbolic links as links (never followed, so that a
/// link to a file outside the submission copies nothing of it). Fails once
/// more than `budget` bytes would be copied.
fn copy_tree(from: &Path, to: &Path, budget: &mut u64) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target, budget)?;
        } else if kind.is_file() {
            let size = entry.metadata()?.len();
            if size > *budget {
                return Err(io::Error::other(format!(
                    "{} does not fit",
                    entry.path().display()
                )));
            }
            *budget -= size;
            fs::copy(entry.path(), &target)?;
            let mode = entry.metadata()?.mode() & 0o777;
            fs::set_permissions(&target, fs::Permissions::from_mode(mode | 0o600))?;
        }
        // Sockets, pipes and devices are not a submission's.
    }
    Ok(())
}

/// Gives `path` and everything under it to `uid`:`gid`, links included.
fn chown_tree(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if fs::symlink_metadata(path)?.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Where this grader's cgroups are made (cgroup v1's memory and cpu
/// hierarchies, or v2's single one).
const CGROUP_ROOTS: [&str; 3] = [
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup",
];

/// A cgroup v1 CPU cgroup for this grader's programs, with the default
/// weight: every submission graded at once gets an equal share of the CPU,
/// however many processes it starts. (Under cgroup v2 the memory cgroup
/// weighs CPU too, where the root offers the `cpu` controller.)
fn make_cpu_cgroup() -> Option<PathBuf> {
    let v1 = Path::new("/sys/fs/cgroup/cpu");
    if !v1.join("cpu.shares").exists() {
        return None;
    }
    let path = v1.join(format!("socket-lessons-grader-{}", std::process::id()));
    fs::create_dir(&path).ok()?;
    Some(path)
}

/// A memory cgroup for this grader's programs, limited to `bytes`: cgroup
/// v1's memory controller, or v2 where its root offers one. `None` where
/// neither can be made.
fn make_cgroup(bytes: u64) -> Option<PathBuf> {
    let name = format!("socket-lessons-grader-{}", std::process::id());
    let v1 = Path::new("/sys/fs/cgroup/memory");
    if v1.join("memory.limit_in_bytes").exists() {
        let path = v1.join(&name);
        fs::create_dir(&path).ok()?;
        let limited = fs::write(path.join("memory.limit_in_bytes"), bytes.to_string()).is_ok();
        // With swap accounting, swap counts too (absent without it).
        let _ = fs::write(path.join("memory.memsw.limit_in_bytes"), bytes.to_string());
        if limited {
            return Some(path);
        }
        let _ = fs::remove_dir(&path);
        return None;
    }
    let v2 = Path::new("/sys/fs/cgroup");
    let controllers = fs::read_to_string(v2.join("cgroup.subtree_control")).ok()?;
    if !controllers.split_whitespace().any(|c| c == "memory") {
        return None;
    }
    let path = v2.join(&name);
    fs::create_dir(&path).ok()?;
    if fs::write(path.join("memory.max"), bytes.to_string()).is_ok() {
        let _ = fs::write(path.join("memory.swap.max"), "0");
        return Some(path);
    }
    let _ = fs::remove_dir(&path);
    None
}

/// The machine's folders a program sees empty: where services keep their
/// Unix-domain sockets, and a `/tmp` that lasts.
pub const HIDDEN: &[&str] = &["/run", "/var/run", "/var/tmp"];

/// `grader __jail-init BASE CGROUP_PROCS UID:GID drop|keep WORKDIR --
/// ARGV...`: the first process of a run's PID namespace (the grader starts
/// it so). It joins the cgroup, makes its mount namespace (the work space
/// as `/tmp`, every other mount read-only, a `/proc` of the namespace),
/// starts the program as the job's user, reaps whatever is orphaned in the
/// namespace, and reports the program's wait status on [`STATUS_FD`] when
/// its first process ends. Its own exit then ends the namespace.
pub fn init_main(args: &[String]) -> ExitCode {
    match init(args) {
        Ok(never) => match never {},
        Err(message) => {
            let _ = writeln!(io::stderr(), "grader: cannot start the program: {message}");
            ExitCode::from(125)
        }
    }
}

enum Never {}

fn init(args: &[String]) -> Result<Never, String> {
    let split = args
        .iter()
        .position(|a| a == "--")
        .ok_or("the jail's init needs -- and a command")?;
    let (head, argv) = (&args[..split], &args[split + 1..]);
    let [base, cgroup, user, privileges, workdir, exposed @ ..] = head else {
        return Err("the jail's init needs 5 arguments".to_owned());
    };
    // SAFETY: the grader opened STATUS_FD for this process (dup2 in its
    // pre_exec) and nothing else here uses it.
    let status = unsafe { fs::File::from_raw_fd(STATUS_FD) };
    if cgroup != "-" {
        for procs in cgroup.split(':') {
            fs::write(procs, "0")
                .map_err(|err| format!("cannot join the cgroup {procs}: {err}"))?;
        }
    }
    // Mounts of its own, and System V IPC of its own: a shared-memory
    // segment or message queue ends with the run, and no classmate sees it.
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWIPC)
        .map_err(|err| format!("mount and IPC namespaces: {err}"))?;
    mounts_private()?;
    for source in exposed {
        expose(base, source)?;
    }
    mount(
        Some(base.as_str()),
        "/tmp",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|err| format!("cannot put the work space at /tmp: {err}"))?;
    read_only_but_tmp()?;
    // The machine's own run-time folders, where its services keep their
    // Unix-domain sockets (a read-only mount does not stop a connect()),
    // hidden behind empty read-only folders; and a /dev/shm of its own.
    for hidden in HIDDEN {
        if Path::new(hidden).is_dir() && !Path::new(hidden).is_symlink() {
            mount(
                Some("grader"),
                *hidden,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=4k,mode=0755"),
            )
            .map_err(|err| format!("cannot hide {hidden}: {err}"))?;
        }
    }
    if Path::new("/dev/shm").is_dir() {
        mount(
            Some("grader"),
            "/dev/shm",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=64m,mode=1777"),
        )
        .map_err(|err| format!("cannot make a private /dev/shm: {err}"))?;
    }
    // A /proc that shows this namespace's processes only (best effort: a
    // kernel that refuses it still hides the others' pids from kill).
    let _ = mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    );
    if workdir != "-" {
        std::env::set_current_dir(workdir)
            .map_err(|err| format!("cannot enter {workdir}: {err}"))?;
    }
    let user = match user.split_once(':') {
        Some((uid, gid)) => Some((
            uid.parse::<u32>().map_err(|_| "bad uid")?,
            gid.parse::<u32>().map_err(|_| "bad gid")?,
        )),
        None => None,
    };
    let argv: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| format!("a NUL byte in {a:?}")))
        .collect::<Result<_, _>>()?;
    if argv.is_empty() {
        return Err("no command".to_owned());
    }
    // SAFETY: this process has one thread, so the child may run any code.
    match unsafe { nix::unistd::fork() }.map_err(|err| format!("fork: {err}"))? {
        ForkResult::Child => {
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            drop(status);
            let error = become_user(user, privileges == "drop")
                .and_then(|()| nix::unistd::execvp(&argv[0], &argv).map(|_| ()));
            let (code, what) = match error {
                Err(Errno::ENOENT) => (127, "command not found"),
                Err(Errno::EACCES | Errno::ENOEXEC) => (126, "not executable or permission denied"),
                Err(_) => (126, "cannot run it"),
                Ok(()) => (126, "exec returned"),
            };
            let first = argv[0].to_string_lossy();
            let private = if first.starts_with("/tmp/") {
                " (the program's /tmp is a private one: give the program's folder with --dir, and its command relative to it)"
            } else {
                ""
            };
            let _ = writeln!(
                io::stderr(),
                "{first}: {what} ({}){private}",
                error.err().map(|e| e.desc()).unwrap_or("")
            );
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            let _ = nix::unistd::setpgid(child, child);
            let _ = nix::unistd::write(status.as_fd(), b"S");
            supervise(child, &status)
        }
    }
}

/// The init's life after the fork: reaps whatever ends in the namespace,
/// reports the program's status when its first process ends, and ends
/// itself (and so the namespace) when the grader is gone, so that a killed
/// grader leaves nothing running either.
fn supervise(child: Pid, status: &fs::File) -> ! {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use nix::sys::wait::WaitPidFlag;
    // SIGCHLD becomes readable on a descriptor instead of being ignored;
    // a child that ended before this is found by the first round of
    // reaping below.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    let _ = mask.thread_block();
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok();
    loop {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                    report_status(status, (code & 0xff) << 8)
                }
                Ok(WaitStatus::Signaled(pid, signal, core)) if pid == child => {
                    report_status(status, signal as i32 | if core { 0x80 } else { 0 })
                }
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => report_status(status, 255 << 8),
            }
        }
        let mut fds = vec![PollFd::new(status.as_fd(), PollFlags::empty())];
        if let Some(signals) = &signals {
            fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
        }
        // Without a signalfd, reap every 50 ms.
        let timeout = if signals.is_some() {
            PollTimeout::NONE
        } else {
            PollTimeout::from(50u8)
        };
        if poll(&mut fds, timeout).is_ok() {
            let gone = fds[0]
                .revents()
                .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP));
            if gone {
                // The grader closed its end: it is gone.
                std::process::exit(0);
            }
        }
        if let Some(signals) = &signals {
            while let Ok(Some(_)) = signals.read_signal() {}
        }
    }
}

/// Writes the program's wait status for the grader, and ends the
/// namespace.
fn report_status(status: &fs::File, raw: i32) -> ! {
    let _ = nix::unistd::write(status.as_fd(), &raw.to_le_bytes());
    std::process::exit(0)
}

/// Drops to the job's user (as root) or, staying root in a user namespace,
/// drops every capability; either way no setuid program can give any back.
fn become_user(user: Option<(u32, u32)>, drop_privileges: bool) -> nix::Result<()> {
    if let Some((uid, gid)) = user {
        nix::unistd::setgroups(&[])?;
        nix::unistd::setgid(Gid::from_raw(gid))?;
        nix::unistd::setuid(Uid::from_raw(uid))?;
    } else if drop_privileges {
        let last: libc::c_ulong = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40);
        for cap in 0..=last {
            // SAFETY: PR_CAPBSET_DROP takes a capability number.
            if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
                return Err(Errno::last());
            }
        }
    }
    if drop_privileges {
        nix::sys::prctl::set_no_new_privs()?;
    }
    Ok(())
}

/// Remounts every mount read-only, but `/tmp` and what is under it: a
/// program can write its work space and nothing else of the machine's.
fn read_only_but_tmp() -> Result<(), String> {
    let table = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|err| format!("cannot read the mount table: {err}"))?;
    let points: Vec<String> = table
        .lines()
        .filter_map(|line| line.split(' ').nth(4).map(unescape_mount_path))
        .filter(|p| p != "/tmp" && !p.starts_with("/tmp/"))
        .collect();
    for point in points {
        match remount_read_only(&point) {
            Ok(()) => {}
            // Gone, hidden under another mount, or no longer a mount point.
            Err(Errno::ENOENT | Errno::EACCES | Errno::EINVAL) if point != "/" => {}
            Err(err) => return Err(format!("cannot make {point} read-only: {err}")),
        }
    }
    Ok(())
}

/// Makes the mount at `point` read-only, keeping its other flags (which a
/// user namespace may not clear).
fn remount_read_only(point: &str) -> Result<(), Errno> {
    let stat = statvfs(point)?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (fs_flag, ms_flag) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if stat.flags().contains(fs_flag) {
            flags |= ms_flag;
        }
    }
    mount(None::<&str>, point, None::<&str>, flags, None::<&str>)
}

/// A mount point as the kernel writes it in mountinfo (`\040` for a space).
fn unescape_mount_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && let Ok(code) = u8::from_str_radix(&path[i + 1..i + 4], 8)
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens a pipe for an init's reports: the read end for the grader, the
/// write end for the init (both close on exec; the init's end is put at
/// [`STATUS_FD`] after the fork).
pub fn status_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_unescaped() {
        assert_eq!(unescape_mount_path("/a\\040b"), "/a b");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
    }

    #[test]
    fn copies_files_links_and_modes_within_a_budget() {
        let from = std::env::temp_dir().join(format!("jail-copy-from-{}", std::process::id()));
        let to = std::env::temp_dir().join(format!("jail-copy-to-{}", std::process::id()));
        let _ = fs::remove_dir_all(&from);
        let _ = fs::remove_dir_all(&to);
        fs::create_dir_all(from.join("src")).unwrap();
        fs::write(from.join("src/main.py"), "print(1)\n").unwrap();
        fs::write(from.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(from.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", from.join("link")).unwrap();
        fs::create_dir(&to).unwrap();
        let mut budget = 1 << 20;
        copy_tree(&from, &to, &mut budget).unwrap();
        assert_eq!(
            fs::read_to_string(to.join("src/main.py")).unwrap(),
            "print(1)\n"
        );
        assert_eq!(
            fs::metadata(to.join("run.sh")).unwrap().mode() & 0o777,
            0o755
        );
        assert!(fs::symlink_metadata(to.join("link")).unwrap().is_symlink());
        let mut small = 4;
        let _ = fs::remove_dir_all(&to);
        fs::create_dir(&to).unwrap();
        assert!(copy_tree(&from, &to, &mut small).is_err());
        let _ = fs::remove_dir_all(&from);
        let _ = fs::remove_dir_all(&to);
    }
}
