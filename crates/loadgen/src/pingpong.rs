//! Many clients at once, each sending messages and waiting for every reply.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use netcore::pyrepr::describe_bytes;

use crate::stats::Latency;

/// A ping-pong run: `clients` connections at once, each sending `messages`
/// messages one after another and waiting for the reply to each.
#[derive(Clone, Debug)]
pub struct PingPong {
    /// The server, on loopback.
    pub addr: SocketAddr,
    /// Connections at once.
    pub clients: usize,
    /// Messages per connection.
    pub messages: usize,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
    /// How long one send or one reply may take.
    pub io_timeout: Duration,
    /// How long the whole run may take; clients still busy then give up.
    pub deadline: Duration,
}

impl PingPong {
    /// A run with timeouts suited to a loopback server under test: 5 s to
    /// connect, 5 s per reply, 60 s in all.
    pub fn new(addr: SocketAddr, clients: usize, messages: usize) -> Self {
        PingPong {
            addr,
            clients,
            messages,
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
        }
    }

    /// Runs it. `message(client, n)` makes the n-th message of a client;
    /// every reply must equal `reply`, byte for byte. All clients connect
    /// before any of them sends, so they are all connected at once.
    pub fn run<F>(&self, message: F, reply: &[u8]) -> Report
    where
        F: Fn(usize, usize) -> Vec<u8> + Sync,
    {
        let started = Instant::now();
        let deadline = started + self.deadline;
        let gate = Gate::new(self.clients);
        let failures = Mutex::new(Vec::new());
        let round_trips = Mutex::new(Vec::with_capacity(self.clients * self.messages));
        let completed = Mutex::new(0usize);
        thread::scope(|scope| {
            for client in 0..self.clients {
                let (gate, failures, round_trips, completed, message) =
                    (&gate, &failures, &round_trips, &completed, &message);
                let spawned = thread::Builder::new()
                    .name(format!("pingpong-{client}"))
                    .stack_size(128 * 1024)
                    .spawn_scoped(scope, move || {
                        let fail = |at: Option<usize>, fault: Fault| {
                            lock(failures).push(Failure::new(client, at, fault));
                        };
                        let stream =
                            crate::connect(self.addr, self.connect_timeout, self.io_timeout);
                        gate.arrive_and_wait(deadline);
                        let mut stream = match stream {
                            Ok(stream) => stream,
                            Err(err) => return fail(None, Fault::Connect(err.to_string())),
                        };
                        let mut times = Vec::with_capacity(self.messages);
                        let mut buffer = vec![0u8; reply.len()];
                        for n in 0..self.messages {
                            if Instant::now() > deadline {
                                lock(round_trips).extend(times);
                                return fail(Some(n), Fault::Deadline);
                            }
                            let sent_at = Instant::now();
                            if let Err(err) = stream.write_all(&message(client, n)) {
                                lock(round_trips).extend(times);
                                return fail(Some(n), Fault::Send(err.to_string()));
                            }
                            if let Err(fault) = read_reply(&mut stream, &mut buffer, reply) {
                                lock(round_trips).extend(times);
                                return fail(Some(n), fault);
                            }
                            times.push(sent_at.elapsed());
                        }
                        lock(round_trips).extend(times);
                        *lock(completed) += 1;
                    });
                if let Err(err) = spawned {
                    // The others must not wait for this one at the gate.
                    gate.expect_one_less();
                    lock(failures).push(Failure::new(client, None, Fault::Thread(err.to_string())));
                }
            }
        });
        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        failures.sort_by_key(|f| (f.client, f.message));
        Report {
            clients: self.clients,
            messages: self.messages,
            completed: completed.into_inner().unwrap_or_else(|e| e.into_inner()),
            failures,
            round_trips: round_trips.into_inner().unwrap_or_else(|e| e.into_inner()),
            elapsed: started.elapsed(),
        }
    }
}

/// Holds every client until all have connected (or failed to), so that
/// they are all connected at once; bounded by the run's deadline.
struct Gate {
    counts: Mutex<(usize, usize)>,
    all_here: Condvar,
}

impl Gate {
    fn new(expected: usize) -> Self {
        Gate {
            counts: Mutex::new((0, expected)),
            all_here: Condvar::new(),
        }
    }

    fn arrive_and_wait(&self, deadline: Instant) {
        let mut counts = lock(&self.counts);
        counts.0 += 1;
        self.all_here.notify_all();
        while counts.0 < counts.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            counts = self
                .all_here
                .wait_timeout(counts, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn expect_one_less(&self) {
        lock(&self.counts).1 -= 1;
        self.all_here.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads exactly one reply and compares it with `expected`.
fn read_reply(
    stream: &mut std::net::TcpStream,
    buffer: &mut [u8],
    expected: &[u8],
) -> Result<(), Fault> {
    let mut got = 0;
    while got < buffer.len() {
        match stream.read(&mut buffer[got..]) {
            Ok(0) => {
                return Err(Fault::Closed {
                    got,
                    expected: expected.len(),
                });
            }
            Ok(n) => got += n,
            Err(err) if is_timeout(&err) && got == 0 => return Err(Fault::NoReply),
            Err(err) if is_timeout(&err) => {
                return Err(Fault::Partial {
                    got: buffer[..got].to_vec(),
                    expected: expected.to_vec(),
                });
            }
            Err(err) => return Err(Fault::Receive(err.to_string())),
        }
    }
    if buffer == expected {
        Ok(())
    } else {
        Err(Fault::Wrong {
            got: buffer.to_vec(),
            expected: expected.to_vec(),
        })
    }
}

/// Whether an I/O error is a read or write timeout.
pub fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// One client's failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Which client (from 0).
    pub client: usize,
    /// At which message (from 0); `None` when it could not connect.
    pub message: Option<usize>,
    /// What went wrong, in English (the [`Fault`]'s `Display`).
    pub reason: String,
    /// What went wrong, as data: a tool that speaks another language (the
    /// grader in Chinese) says it in its own words.
    pub fault: Fault,
}

impl Failure {
    /// Client `client`'s failure at message `message`.
    pub fn new(client: usize, message: Option<usize>, fault: Fault) -> Self {
        Failure {
            client,
            message,
            reason: fault.to_string(),
            fault,
        }
    }
}

/// What went wrong for one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// It could not connect (what the system said).
    Connect(String),
    /// The run's deadline passed before its turn.
    Deadline,
    /// A send failed (what the system said).
    Send(String),
    /// The server closed the connection after `got` of the reply's
    /// `expected` bytes.
    Closed {
        /// Bytes of the reply received.
        got: usize,
        /// Bytes the reply has.
        expected: usize,
    },
    /// No reply came within the timeout.
    NoReply,
    /// Part of a reply came, then nothing until the timeout.
    Partial {
        /// What came.
        got: Vec<u8>,
        /// The whole reply expected.
        expected: Vec<u8>,
    },
    /// A receive failed (what the system said).
    Receive(String),
    /// A reply came, but not the one expected.
    Wrong {
        /// What came.
        got: Vec<u8>,
        /// What was expected.
        expected: Vec<u8>,
    },
    /// The client's thread could not be started (what the system said).
    Thread(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Connect(err) => write!(f, "cannot connect: {err}"),
            Fault::Deadline => f.write_str("the run's deadline passed"),
            Fault::Send(err) => write!(f, "cannot send: {err}"),
            Fault::Closed { got, expected } => write!(
                f,
                "the server closed the connection after {got} of the reply's {expected} bytes"
            ),
            Fault::NoReply => f.write_str("no reply within the timeout"),
            Fault::Partial { got, expected } => write!(
                f,
                "wrong reply: got {} ({} bytes) and then nothing until the timeout, expected {} ({} bytes)",
                describe_bytes(got),
                got.len(),
                describe_bytes(expected),
                expected.len()
            ),
            Fault::Receive(err) => write!(f, "cannot receive: {err}"),
            Fault::Wrong { got, expected } => write!(
                f,
                "wrong reply: got {}, expected {}",
                describe_bytes(got),
                describe_bytes(expected)
            ),
            Fault::Thread(err) => write!(f, "cannot start a client thread: {err}"),
        }
    }
}

/// The outcome of a [`PingPong`] run.
#[derive(Clone, Debug)]
pub struct Report {
    /// Clients started.
    pub clients: usize,
    /// Messages each client was to send.
    pub messages: usize,
    /// Clients that got every reply right.
    pub completed: usize,
    /// What went wrong, per failed client, in client order.
    pub failures: Vec<Failure>,
    /// Every verified round trip.
    pub round_trips: Vec<Duration>,
    /// From the first connection to the last reply.
    pub elapsed: Duration,
}

impl Report {
    /// True when every client got every reply right.
    pub fn all_ok(&self) -> bool {
        self.failures.is_empty() && self.completed == self.clients
    }

    /// Verified replies per second over the whole run.
    pub fn messages_per_second(&self) -> f64 {
        self.round_trips.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// p50, p99 and maximum of the round trips.
    pub fn latency(&self) -> Latency {
        Latency::of(&mut self.round_trips.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// An echo-style server on loopback that replies `reply` to every read,
    /// optionally breaking the n-th connection.
    fn server(reply: &'static [u8], clients: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for _ in 0..clients {
                let Ok((mut conn, _)) = listener.accept() else {
                    return;
                };
                thread::spawn(move || {
                    let mut buffer = [0u8; 1024];
                    while let Ok(n) = conn.read(&mut buffer) {
                        if n == 0 || conn.write_all(reply).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[test]
    fn every_reply_is_verified_and_timed() {
        let addr = server(b"ok", 20);
        let report = PingPong::new(addr, 20, 10).run(|c, m| format!("{c}:{m}").into_bytes(), b"ok");
        assert!(report.all_ok(), "{:?}", report.failures);
        assert_eq!(report.round_trips.len(), 200);
        assert!(report.messages_per_second() > 0.0);
        assert!(report.latency().p99 >= report.latency().p50);
    }

    #[test]
    fn a_wrong_reply_is_a_failure_with_the_bytes() {
        let addr = server(b"no", 2);
        let report = PingPong::new(addr, 2, 3).run(|_, _| b"x".to_vec(), b"ok");
        assert!(!report.all_ok());
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].message, Some(0));
        assert!(
            report.failures[0].reason.contains("wrong reply"),
            "{:?}",
            report.failures
        );
        assert_eq!(
            report.failures[0].fault,
            Fault::Wrong {
                got: b"no".to_vec(),
                expected: b"ok".to_vec()
            }
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut run = PingPong::new(listener.local_addr().unwrap(), 1, 1);
        run.io_timeout = Duration::from_millis(100);
        let report = run.run(|_, _| b"x".to_vec(), b"ok");
        assert!(
            report.failures[0].reason.contains("no reply"),
            "{:?}",
            report.failures
        );
        drop(listener);
    }

    #[test]
    fn refuses_addresses_off_this_machine() {
        let report = PingPong::new("192.0.2.1:80".parse().unwrap(), 1, 1).run(|_, _| vec![1], b"");
        assert!(report.failures[0].reason.contains("not a loopback address"));
    }
}
