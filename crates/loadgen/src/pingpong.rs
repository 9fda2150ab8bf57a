//! Many clients at once, each sending messages and waiting for every reply.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use netcore::pyrepr::describe_bytes;

use crate::stats::Latency;

pub use netcore::error::is_timeout;

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
    /// Connect one client at a time, and only while few connections wait
    /// in the server's accept queue ([`crate::wait_for_accepts`]). Without
    /// it, a thousand clients connecting at once overflow a backlog of 128:
    /// Linux then drops handshakes, the clients retry seconds later, and
    /// the run measures the backlog instead of the conversation. Off by
    /// default (the grader's checks connect at once on purpose).
    pub pace_connects: bool,
}

/// A moment of a run that [`PingPong::run_observed`] reports, so that the
/// caller can measure the server exactly around the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every client is connected and none has sent anything yet.
    Connected,
    /// Every client has had its last reply (or failed); none has closed
    /// its connection yet.
    Done,
}

/// What one client thread shares with the others.
struct Shared<'a, F> {
    message: &'a F,
    reply: &'a [u8],
    deadline: Instant,
    connected: Gate,
    done: Gate,
    /// With [`PingPong::pace_connects`]: the turn to connect, and how many
    /// have connected.
    pacer: Option<Mutex<usize>>,
    observe: Option<&'a (dyn Fn(Phase) + Sync)>,
    talk_started: Mutex<Option<Instant>>,
    talk_ended: Mutex<Option<Instant>>,
    failures: Mutex<Vec<Failure>>,
    round_trips: Mutex<Vec<Duration>>,
    completed: Mutex<usize>,
}

impl<F> Shared<'_, F> {
    /// The last client to connect: tell the observer, then start the clock.
    fn on_connected(&self) {
        if let Some(observe) = self.observe {
            observe(Phase::Connected);
        }
        *lock(&self.talk_started) = Some(Instant::now());
    }

    /// The last client to finish: stop the clock, then tell the observer.
    fn on_done(&self) {
        *lock(&self.talk_ended) = Some(Instant::now());
        if let Some(observe) = self.observe {
            observe(Phase::Done);
        }
    }
}

impl PingPong {
    /// A run with timeouts suited to a loopback server under test: 5 s to
    /// connect, 5 s per reply, 60 s in all; connections at once, unpaced.
    pub fn new(addr: SocketAddr, clients: usize, messages: usize) -> Self {
        PingPong {
            addr,
            clients,
            messages,
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            pace_connects: false,
        }
    }

    /// Runs it. `message(client, n)` makes the n-th message of a client;
    /// every reply must equal `reply`, byte for byte. All clients connect
    /// before any of them sends, so they are all connected at once.
    pub fn run<F>(&self, message: F, reply: &[u8]) -> Report
    where
        F: Fn(usize, usize) -> Vec<u8> + Sync,
    {
        self.run_with(&message, reply, None)
    }

    /// [`run`](Self::run), calling `observe` once all clients are
    /// connected ([`Phase::Connected`], before anyone sends) and once all
    /// have finished ([`Phase::Done`], before anyone closes): what a
    /// server costs for the conversation alone can be read between the
    /// two. Clients that finish early keep their connections open until
    /// every client has finished (bounded by the run's deadline), and the
    /// report's [`talk`](Report::talk) is the time between the two phases
    /// (the observer's own time left out).
    pub fn run_observed<F, O>(&self, message: F, reply: &[u8], observe: O) -> Report
    where
        F: Fn(usize, usize) -> Vec<u8> + Sync,
        O: Fn(Phase) + Sync,
    {
        self.run_with(&message, reply, Some(&observe))
    }

    fn run_with<F>(
        &self,
        message: &F,
        reply: &[u8],
        observe: Option<&(dyn Fn(Phase) + Sync)>,
    ) -> Report
    where
        F: Fn(usize, usize) -> Vec<u8> + Sync,
    {
        let started = Instant::now();
        let shared = Shared {
            message,
            reply,
            deadline: started + self.deadline,
            connected: Gate::new(self.clients),
            done: Gate::new(self.clients),
            pacer: self.pace_connects.then(|| Mutex::new(0)),
            observe,
            talk_started: Mutex::new(None),
            talk_ended: Mutex::new(None),
            failures: Mutex::new(Vec::new()),
            round_trips: Mutex::new(Vec::with_capacity(self.clients * self.messages)),
            completed: Mutex::new(0),
        };
        thread::scope(|scope| {
            for client in 0..self.clients {
                let shared = &shared;
                let spawned = thread::Builder::new()
                    .name(format!("pingpong-{client}"))
                    .stack_size(128 * 1024)
                    .spawn_scoped(scope, move || {
                        let stream = self.client(client, shared);
                        if shared.observe.is_some() {
                            // Held open until every client is done.
                            shared
                                .done
                                .arrive_and_wait(shared.deadline, &|| shared.on_done());
                        }
                        drop(stream);
                    });
                if let Err(err) = spawned {
                    // The others must not wait for this one at the gates.
                    shared.connected.expect_one_less(&|| shared.on_connected());
                    if shared.observe.is_some() {
                        shared.done.expect_one_less(&|| shared.on_done());
                    }
                    lock(&shared.failures).push(Failure::new(
                        client,
                        None,
                        Fault::Thread(err.to_string()),
                    ));
                }
            }
        });
        let elapsed = started.elapsed();
        let talk = match (*lock(&shared.talk_started), *lock(&shared.talk_ended)) {
            (Some(from), Some(to)) => Some(to.saturating_duration_since(from)),
            _ => None,
        };
        let mut failures = shared
            .failures
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        failures.sort_by_key(|f| (f.client, f.message));
        Report {
            clients: self.clients,
            messages: self.messages,
            completed: shared
                .completed
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
            failures,
            round_trips: shared
                .round_trips
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
            elapsed,
            talk,
        }
    }

    /// One client: connect (in turn, when paced), wait for the others,
    /// then send and check every message. Returns its connection, still
    /// open, when it has one.
    fn client<F>(&self, client: usize, shared: &Shared<'_, F>) -> Option<TcpStream>
    where
        F: Fn(usize, usize) -> Vec<u8> + Sync,
    {
        let fail = |at: Option<usize>, fault: Fault| {
            lock(&shared.failures).push(Failure::new(client, at, fault));
        };
        let connect = || crate::connect(self.addr, self.connect_timeout, self.io_timeout);
        let stream = match &shared.pacer {
            Some(turn) => {
                let mut opened = lock(turn);
                if *opened % crate::PACE_EVERY == 0 {
                    crate::wait_for_accepts(self.addr.port(), shared.deadline);
                }
                *opened += 1;
                connect()
            }
            None => connect(),
        };
        shared
            .connected
            .arrive_and_wait(shared.deadline, &|| shared.on_connected());
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                fail(None, Fault::Connect(err.to_string()));
                return None;
            }
        };
        let mut times = Vec::with_capacity(self.messages);
        let mut buffer = vec![0u8; shared.reply.len()];
        let mut fault = None;
        for n in 0..self.messages {
            if Instant::now() > shared.deadline {
                fault = Some((n, Fault::Deadline));
                break;
            }
            let sent_at = Instant::now();
            if let Err(err) = stream.write_all(&(shared.message)(client, n)) {
                fault = Some((n, Fault::Send(err.to_string())));
                break;
            }
            if let Err(f) = read_reply(&mut stream, &mut buffer, shared.reply) {
                fault = Some((n, f));
                break;
            }
            times.push(sent_at.elapsed());
        }
        lock(&shared.round_trips).extend(times);
        match fault {
            Some((n, fault)) => fail(Some(n), fault),
            None => *lock(&shared.completed) += 1,
        }
        Some(stream)
    }
}

/// Holds every client until all have arrived (or failed to), bounded by
/// the run's deadline; the last to arrive runs a closure first.
struct Gate {
    state: Mutex<GateState>,
    opened: Condvar,
}

struct GateState {
    arrived: usize,
    expected: usize,
    open: bool,
}

impl Gate {
    fn new(expected: usize) -> Self {
        Gate {
            state: Mutex::new(GateState {
                arrived: 0,
                expected,
                open: false,
            }),
            opened: Condvar::new(),
        }
    }

    /// Arrives; the last one runs `last` and opens the gate, the others
    /// wait until it is open or the deadline has passed.
    fn arrive_and_wait(&self, deadline: Instant, last: &dyn Fn()) {
        let mut state = lock(&self.state);
        state.arrived += 1;
        if self.open_if_all_here(&mut state, last) {
            return;
        }
        while !state.open {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self
                .opened
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// One client will never arrive (its thread did not start).
    fn expect_one_less(&self, last: &dyn Fn()) {
        let mut state = lock(&self.state);
        state.expected = state.expected.saturating_sub(1);
        self.open_if_all_here(&mut state, last);
    }

    fn open_if_all_here(&self, state: &mut GateState, last: &dyn Fn()) -> bool {
        if state.open || state.arrived < state.expected {
            return state.open;
        }
        // The others wait on the condition variable meanwhile.
        last();
        state.open = true;
        self.opened.notify_all();
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads exactly one reply and compares it with `expected`.
fn read_reply(stream: &mut TcpStream, buffer: &mut [u8], expected: &[u8]) -> Result<(), Fault> {
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
    /// With [`PingPong::run_observed`]: from the moment every client was
    /// connected to the moment every client had finished, the time of the
    /// conversation alone (connecting and closing left out).
    pub talk: Option<Duration>,
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

    /// Verified replies per second of the conversation alone ([`talk`](Self::talk)),
    /// or over the whole run where it was not observed.
    pub fn talk_messages_per_second(&self) -> f64 {
        let time = self.talk.unwrap_or(self.elapsed);
        self.round_trips.len() as f64 / time.as_secs_f64().max(1e-9)
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
    fn an_observer_sees_every_client_connected_then_done_before_any_closes() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        const CLIENTS: usize = 40;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let closed = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&closed);
        thread::spawn(move || {
            for _ in 0..CLIENTS {
                let Ok((mut conn, _)) = listener.accept() else {
                    return;
                };
                let closed = Arc::clone(&seen);
                thread::spawn(move || {
                    let mut buffer = [0u8; 64];
                    while let Ok(n) = conn.read(&mut buffer) {
                        if n == 0 || conn.write_all(b"ok").is_err() {
                            break;
                        }
                    }
                    closed.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        let phases = Mutex::new(Vec::new());
        let mut run = PingPong::new(addr, CLIENTS, 5);
        run.pace_connects = true;
        let report = run.run_observed(
            |_, _| b"x".to_vec(),
            b"ok",
            // Nobody has closed yet, whatever the phase.
            |phase| lock(&phases).push((phase, closed.load(Ordering::SeqCst))),
        );
        assert!(report.all_ok(), "{:?}", report.failures);
        assert_eq!(report.round_trips.len(), CLIENTS * 5);
        let phases = phases.into_inner().unwrap();
        assert_eq!(phases, vec![(Phase::Connected, 0), (Phase::Done, 0)]);
        let talk = report.talk.expect("a talk time");
        assert!(talk <= report.elapsed);
        assert!(report.talk_messages_per_second() >= report.messages_per_second());
        // Then every client closes.
        let until = Instant::now() + Duration::from_secs(10);
        while closed.load(Ordering::SeqCst) < CLIENTS && Instant::now() < until {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(closed.load(Ordering::SeqCst), CLIENTS);
    }

    #[test]
    fn an_observer_is_told_both_phases_even_when_every_client_fails() {
        let phases = Mutex::new(Vec::new());
        let report = PingPong::new("192.0.2.1:80".parse().unwrap(), 3, 1).run_observed(
            |_, _| vec![1],
            b"",
            |phase| lock(&phases).push(phase),
        );
        assert_eq!(report.failures.len(), 3);
        assert_eq!(
            phases.into_inner().unwrap(),
            vec![Phase::Connected, Phase::Done]
        );
    }

    #[test]
    fn refuses_addresses_off_this_machine() {
        let report = PingPong::new("192.0.2.1:80".parse().unwrap(), 1, 1).run(|_, _| vec![1], b"");
        assert!(report.failures[0].reason.contains("not a loopback address"));
    }
}
