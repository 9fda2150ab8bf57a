//! Many silent connections held open: what an idle client costs a server.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use proctools::process::{self, Sample};
use proctools::system::KernelMemory;

/// An idle run: open `clients` connections, send nothing, hold them for
/// `hold`, then check which the server kept open.
#[derive(Clone, Debug)]
pub struct Idle {
    /// The server, on loopback.
    pub addr: SocketAddr,
    /// Connections to open, one after another.
    pub clients: usize,
    /// How long to hold them once all are open.
    pub hold: Duration,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// How long opening all of them may take; the run holds what it has
    /// opened by then.
    pub open_deadline: Duration,
    /// The server's process id, to measure its memory and threads
    /// (Linux), before the first connection and at the end of the hold.
    pub server_pid: Option<u32>,
}

impl Idle {
    /// A run with 10 s per connection attempt and 60 s to open them all.
    pub fn new(addr: SocketAddr, clients: usize, hold: Duration) -> Self {
        Idle {
            addr,
            clients,
            hold,
            connect_timeout: Duration::from_secs(10),
            open_deadline: Duration::from_secs(60),
            server_pid: None,
        }
    }

    /// Runs it. Connections are opened from this thread, one at a time (a
    /// silent connection needs no thread of its own), and closed at the
    /// end.
    pub fn run(&self) -> Report {
        let mut report = Report {
            clients: self.clients,
            ..Report::default()
        };
        if let Err(err) = crate::require_loopback(self.addr) {
            report.failures.push(err.to_string());
            return report;
        }
        let measure = |report: &mut Report| {
            self.server_pid.map(process::sample).and_then(|s| {
                s.map_err(|err| {
                    report
                        .failures
                        .push(format!("cannot measure the server: {err}"))
                })
                .ok()
            })
        };
        report.before = measure(&mut report);
        report.kernel_before = KernelMemory::read().ok();
        let started = Instant::now();
        let deadline = started + self.open_deadline;
        let mut streams = Vec::with_capacity(self.clients);
        while streams.len() < self.clients {
            if Instant::now() >= deadline {
                report.failures.push(format!(
                    "opened {} of {} connections before the deadline ({:?})",
                    streams.len(),
                    self.clients,
                    self.open_deadline
                ));
                break;
            }
            if streams.len() % crate::PACE_EVERY == 0 {
                crate::wait_for_accepts(self.addr.port(), deadline);
            }
            match TcpStream::connect_timeout(&self.addr, self.connect_timeout) {
                Ok(stream) => streams.push(stream),
                Err(err) => {
                    // Out of descriptors here, or the server's backlog
                    // overflowing: say so once, and hold what is open.
                    report
                        .failures
                        .push(format!("connection {} failed: {err}", streams.len() + 1));
                    break;
                }
            }
        }
        report.opened = streams.len();
        report.open_time = started.elapsed();
        thread::sleep(self.hold);
        report.during = measure(&mut report);
        report.kernel_during = KernelMemory::read().ok();
        report.still_open = streams.iter().filter(|s| still_open(s)).count();
        report
    }
}

/// Whether the server still holds this connection: nothing to read and no
/// end of stream. (A server that sent something, such as a "busy" reply,
/// and closed shows as closed.)
fn still_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buffer = [0u8; 256];
    // Bounded: a well-behaved peer sends a few bytes at most.
    for _ in 0..64 {
        match (&*stream).read(&mut buffer) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    false
}

/// The outcome of an [`Idle`] run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Connections asked for.
    pub clients: usize,
    /// Connections opened.
    pub opened: usize,
    /// Connections still open at the end of the hold.
    pub still_open: usize,
    /// How long opening them took.
    pub open_time: Duration,
    /// The server before the first connection (with a pid, on Linux).
    pub before: Option<Sample>,
    /// The server at the end of the hold.
    pub during: Option<Sample>,
    /// The machine's kernel memory before the first connection (Linux).
    pub kernel_before: Option<KernelMemory>,
    /// The machine's kernel memory at the end of the hold.
    pub kernel_during: Option<KernelMemory>,
    /// What went wrong, if anything.
    pub failures: Vec<String>,
}

impl Report {
    /// True when every connection was opened and stayed open.
    pub fn all_ok(&self) -> bool {
        self.failures.is_empty() && self.still_open == self.clients
    }

    /// The server's extra resident memory per open connection, in bytes.
    pub fn memory_per_connection(&self) -> Option<f64> {
        let (before, during) = (self.before?, self.during?);
        (self.still_open > 0)
            .then(|| (during.rss_bytes as f64 - before.rss_bytes as f64) / self.still_open as f64)
    }

    /// The growth of the machine's kernel memory per open connection, in
    /// bytes: `(KernelStack, Slab)`. Machine-wide figures: both ends of
    /// every loopback connection are in `Slab`, and whatever else runs on
    /// the machine moves them too.
    pub fn kernel_memory_per_connection(&self) -> Option<(f64, f64)> {
        let (before, during) = (self.kernel_before?, self.kernel_during?);
        let per = |b: u64, d: u64| (d as f64 - b as f64) / self.still_open as f64;
        (self.still_open > 0).then(|| {
            (
                per(before.kernel_stack, during.kernel_stack),
                per(before.slab, during.slab),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;

    #[test]
    fn counts_what_the_server_keeps_open() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps every connection but closes the second one.
        thread::spawn(move || {
            let mut kept = Vec::new();
            for i in 0..5 {
                let (conn, _) = listener.accept().unwrap();
                if i != 1 {
                    kept.push(conn);
                }
            }
            let _ = rx.recv_timeout(Duration::from_secs(10));
        });
        let mut run = Idle::new(addr, 5, Duration::from_millis(200));
        run.server_pid = Some(std::process::id());
        let report = run.run();
        tx.send(()).unwrap();
        assert_eq!(report.opened, 5);
        assert_eq!(report.still_open, 4, "{report:?}");
        if cfg!(target_os = "linux") {
            assert!(report.during.unwrap().threads >= 2);
            assert!(report.memory_per_connection().is_some());
        }
    }

    #[test]
    fn refuses_addresses_off_this_machine() {
        let report = Idle::new("192.0.2.1:80".parse().unwrap(), 1, Duration::ZERO).run();
        assert_eq!(report.opened, 0);
        assert!(report.failures[0].contains("not a loopback address"));
    }
}
