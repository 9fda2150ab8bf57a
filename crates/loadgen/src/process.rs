//! What a server process costs, read from `/proc/PID` (Linux): resident
//! memory, threads, and CPU time, user and system.
//!
//! CPU time comes from `/proc/PID/stat` (`utime` and `stime`, which count
//! every thread of the process, those that have ended too) in clock ticks
//! of 1/100 s (Linux's `USER_HZ`, fixed for user space). A measurement
//! should therefore run long enough for the server to use a second of CPU
//! or more. Memory and threads come from `/proc/PID/status`.

use std::io;
use std::time::Duration;

/// Clock ticks per second in `/proc/PID/stat` (`USER_HZ`, 100 on every
/// Linux architecture's user-space ABI).
const TICKS_PER_SECOND: u64 = 100;

/// One look at a process.
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
}

/// Reads `/proc/PID/status` and `/proc/PID/stat`. On systems without
/// `/proc` this is an [`io::ErrorKind::Unsupported`] error.
pub fn sample(pid: u32) -> io::Result<Sample> {
    if !cfg!(target_os = "linux") {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "reading a process's memory and CPU time needs Linux's /proc",
        ));
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse(&status, &stat).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot read /proc/{pid}/status or /proc/{pid}/stat"),
        )
    })
}

fn parse(status: &str, stat: &str) -> Option<Sample> {
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
    };
    let rss_kib = field("VmRSS")?;
    let threads = field("Threads")?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from after the last ')'. There, field 3 (state) is
    // index 0, so utime (14) and stime (15) are 11 and 12.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    let to_time = |t: u64| Duration::from_millis(t * 1000 / TICKS_PER_SECOND);
    Some(Sample {
        rss_bytes: rss_kib * 1024,
        threads,
        user: to_time(ticks(11)?),
        system: to_time(ticks(12)?),
    })
}

/// How many connections wait in the accept queue of the socket listening
/// on `port` (Linux: `rx_queue` of its line in `/proc/net/tcp` or `tcp6`);
/// `None` when there is no such socket or no `/proc`.
///
/// A client that opens connections faster than the server accepts them
/// fills that queue (its size is the `listen` backlog); Linux then drops
/// the next handshakes, and those clients retry after a second. Opening
/// thousands of connections, [`crate::idle`] waits for the queue to drain
/// instead, so that it measures the server, not the retry timer.
pub fn accept_queue(port: u16) -> Option<u64> {
    use std::io::BufRead;
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(file) = std::fs::File::open(path) else {
            continue;
        };
        // Listening sockets come first in the table: stop at the first
        // line that is not one, rather than reading every connection.
        for line in std::io::BufReader::new(file).lines().skip(1) {
            let Ok(line) = line else { break };
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&"0A") {
                break;
            }
            let here = fields
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if here == Some(port) {
                let queue = fields.get(4)?.split(':').nth(1)?;
                return u64::from_str_radix(queue, 16).ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() {
        let status = "Name:\tx\nVmRSS:\t  2048 kB\nThreads:\t7\n";
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0";
        let s = parse(status, stat).unwrap();
        assert_eq!(s.rss_bytes, 2048 * 1024);
        assert_eq!(s.threads, 7);
        assert_eq!(s.user, Duration::from_millis(1500));
        assert_eq!(s.system, Duration::from_millis(250));
        assert_eq!(s.cpu(), Duration::from_millis(1750));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.threads >= 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sees_connections_waiting_to_be_accepted() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(accept_queue(port), Some(0));
        let _a = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(accept_queue(port), Some(2));
        drop(listener);
    }
}
