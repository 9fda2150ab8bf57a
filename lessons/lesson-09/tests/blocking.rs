//! The slow request: `slow` is answered after a second of blocking work.
//! Run on tokio's blocking pool (`spawn_blocking`, the default), it holds
//! up nobody: a fast client's reply arrives while the slow one is still
//! being worked on. Run inside the task (`--blocking-mistake`), it holds
//! the worker thread, and on one worker every other client waits: the fast
//! reply comes only after the slow one.
//!
//! Nothing is timed. Each round checks an order: when the fast client has
//! its reply, has the slow client's reply arrived yet? With one worker and
//! the mistake, the fast reply cannot be sent before the slow one (the only
//! worker thread is asleep until then); with `spawn_blocking` it comes
//! while the second of work still runs. A machine too loaded to answer the
//! fast client within that second could see the slow reply first, so a
//! test passes on the first of three rounds that shows its order; a server
//! with the opposite behaviour can never show it.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use testkit::{Process, REPLY_GBK, TIMEOUT, connect};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson-09");
const ROUNDS: usize = 3;

fn start(extra: &[&str]) -> Process {
    Process::start_on_loopback(LESSON, extra)
}

fn ask(client: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    client.write_all(message).unwrap();
    read_reply(client)
}

fn read_reply(client: &mut TcpStream) -> Vec<u8> {
    let mut reply = vec![0; REPLY_GBK.len()];
    client.read_exact(&mut reply).unwrap();
    reply
}

/// Whether a reply is waiting on `client` now, without waiting for one.
fn has_data(client: &TcpStream) -> bool {
    client.set_nonblocking(true).unwrap();
    let result = client.peek(&mut [0u8; 1]);
    client.set_nonblocking(false).unwrap();
    match result {
        Ok(n) => n > 0,
        Err(err) if err.kind() == ErrorKind::WouldBlock => false,
        Err(err) => panic!("peek: {err}"),
    }
}

/// One round: a fast client and a slow one, both served once already
/// (their tasks are running, their sockets known to be writable); the slow
/// one sends `slow`; once the server has printed it (the work starts right
/// after), the fast one asks. Returns whether the slow reply had already
/// arrived when the fast reply did. Both replies are checked.
fn slow_reply_came_first(server: &mut Process) -> bool {
    let mut fast = connect(server.addr());
    let mut slow = connect(server.addr());
    assert_eq!(ask(&mut fast, b"hello"), REPLY_GBK);
    assert_eq!(ask(&mut slow, b"hello"), REPLY_GBK);
    slow.write_all(b"slow").unwrap();
    let line = format!(
        "received: slow ('127.0.0.1', {})",
        slow.local_addr().unwrap().port()
    );
    server.expect_line(&line, TIMEOUT).unwrap();
    assert_eq!(ask(&mut fast, b"fast"), REPLY_GBK);
    let slow_first = has_data(&slow);
    assert_eq!(read_reply(&mut slow), REPLY_GBK);
    slow_first
}

#[test]
fn spawn_blocking_lets_a_fast_client_past_a_slow_request() {
    // One worker thread: if the blocking call were on it, the fast client
    // could not be answered until the work was done.
    let mut server = start(&["--workers", "1"]);
    let passed = (0..ROUNDS).any(|_| !slow_reply_came_first(&mut server));
    assert!(
        passed,
        "in {ROUNDS} rounds the fast client's reply never came before the slow one's"
    );
    assert!(server.stderr().is_empty());
}

#[test]
fn blocking_mistake_stalls_the_fast_client_behind_the_slow_request() {
    let mut server = start(&["--workers", "1", "--blocking-mistake"]);
    let stalled = (0..ROUNDS).any(|_| slow_reply_came_first(&mut server));
    assert!(
        stalled,
        "in {ROUNDS} rounds the fast client's reply always came before the slow one's: nothing stalled"
    );
}

/// Many slow requests at once on the blocking pool: each is answered, and
/// a fast client is answered while they are all in flight.
#[test]
fn many_slow_requests_at_once_and_a_fast_client_among_them() {
    const SLOW: usize = 20;
    let mut server = start(&["--workers", "1"]);
    let mut slow: Vec<TcpStream> = (0..SLOW).map(|_| connect(server.addr())).collect();
    for client in &mut slow {
        client.write_all(b"slow").unwrap();
    }
    for _ in 0..SLOW {
        server.expect_line("received: slow", TIMEOUT).unwrap();
    }
    let mut fast = connect(server.addr());
    assert_eq!(ask(&mut fast, b"fast"), REPLY_GBK);
    for client in &mut slow {
        assert_eq!(read_reply(client), REPLY_GBK);
    }
}
