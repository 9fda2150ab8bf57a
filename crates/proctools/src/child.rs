//! A child process that never outlives its owner, waited for with a
//! deadline; and the `listening on IP:PORT` line by which every server of
//! the course says where it listens.
//!
//! The tools start servers (the benchmarks, the tests' harness in
//! `testkit`) and other programs (iperf3, a batch's `grader check`) and
//! must neither hang on one that does not end nor leave one running when
//! they fail: [`Guard`] kills and reaps its child when dropped, panics
//! included, and [`wait_timeout`] bounds every wait.
//!
//! A guarded child is killed alone, not with the processes it started: the
//! course's servers start none. The grader's sandbox, which runs programs it
//! does not trust, signals whole process groups and namespaces instead.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Child, Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// The start of the line a server prints once it listens, before it
/// accepts: `listening on 127.0.0.1:40215`.
pub const LISTENING_PREFIX: &str = "listening on ";

/// The address of a `listening on IP:PORT` line (spaces around it allowed);
/// `None` when the line is not one or its address does not parse.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix(LISTENING_PREFIX)?
        .trim()
        .parse()
        .ok()
}

/// The address a client on this machine connects to, for a server that
/// listens on `addr`: an unspecified IP (`0.0.0.0`, `::`) is replaced by
/// loopback of the same family.
pub fn connectable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// Waits up to `timeout` for `child` to exit: its status, or `None` when it
/// is still running then (it is left running; the caller decides).
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    // A short first pause notices a quick exit at once; later ones grow to
    // 20 ms so that a long wait costs next to no CPU.
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A child process that is killed and reaped when dropped, unless it was
/// seen to exit first.
#[derive(Debug)]
pub struct Guard {
    child: Child,
    status: Option<ExitStatus>,
}

impl Guard {
    /// Starts `command` under guard.
    pub fn spawn(command: &mut Command) -> io::Result<Guard> {
        Ok(Guard::new(command.spawn()?))
    }

    /// Guards a child already started.
    pub fn new(child: Child) -> Guard {
        Guard {
            child,
            status: None,
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child itself, to take its pipes. Waiting for it through
    /// [`Guard`]'s methods keeps the guard aware of its exit.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Its exit status, once it has been seen to exit.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits up to `timeout` for it to exit by itself ([`wait_timeout`]).
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = wait_timeout(&mut self.child, timeout)?;
        }
        Ok(self.status)
    }

    /// Kills it (SIGKILL on Unix) unless it has exited, and reaps it.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        // It may exit by itself between the two calls: then kill fails,
        // and wait still reaps it.
        let _ = self.child.kill();
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    fn alive(pid: u32) -> bool {
        crate::process::Stat::read(pid).is_ok_and(|s| s.state != 'Z')
    }

    #[test]
    fn reads_the_listening_line() {
        assert_eq!(
            listening_addr("listening on 127.0.0.1:4242\n"),
            Some("127.0.0.1:4242".parse().unwrap())
        );
        assert_eq!(
            listening_addr("  listening on [::]:80 "),
            Some("[::]:80".parse().unwrap())
        );
        assert_eq!(listening_addr("listening on somewhere"), None);
        assert_eq!(listening_addr("not listening on 127.0.0.1:1"), None);
        assert_eq!(
            connectable("0.0.0.0:7".parse().unwrap()),
            "127.0.0.1:7".parse().unwrap()
        );
        assert_eq!(
            connectable("[::]:7".parse().unwrap()),
            "[::1]:7".parse().unwrap()
        );
        assert_eq!(
            connectable("10.1.2.3:7".parse().unwrap()),
            "10.1.2.3:7".parse().unwrap()
        );
    }

    #[test]
    fn a_dropped_guard_kills_and_reaps_its_child() {
        let guard = Guard::spawn(&mut sh("exec sleep 60")).unwrap();
        let pid = guard.id();
        assert!(alive(pid));
        drop(guard);
        // Reaped, not a zombie: no /proc entry at all.
        if cfg!(target_os = "linux") {
            assert!(crate::process::Stat::read(pid).is_err(), "not reaped");
        }
    }

    #[test]
    fn waits_are_bounded_and_see_the_exit() {
        let mut running = Guard::spawn(&mut sh("exec sleep 60")).unwrap();
        let started = Instant::now();
        assert_eq!(
            running.wait_timeout(Duration::from_millis(100)).unwrap(),
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(started.elapsed() < Duration::from_secs(10));
        let killed = running.kill().unwrap();
        assert!(!killed.success());
        assert_eq!(running.status(), Some(killed));

        let mut quick = Guard::spawn(&mut sh("exit 3")).unwrap();
        let status = quick
            .wait_timeout(Duration::from_secs(20))
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(3));
        // Once seen, the status stays: killing an exited child is a no-op.
        assert_eq!(quick.kill().unwrap().code(), Some(3));
        assert_eq!(quick.try_wait().unwrap().and_then(|s| s.code()), Some(3));
    }
}
