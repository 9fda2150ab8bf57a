//! Lesson 04: the student's program runs twice, as a server (`{mode}` =
//! `server`) and as a client (`client`). The grader checks that each side
//! notices the other closing (`recv` returns 0) and acts on it: the server
//! closes that socket and stops reading, the client exits.

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Lesson, core, robust};
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::{Program, describe_status};

use super::gbk;

/// Lesson 04's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-04",
    title: "the notes: recv returns 0 when the other side closes",
    modes: &["server", "client"],
    checks: &[
        core(
            "server-listens",
            1,
            "in server mode, listens on the port it is given",
            "bind and listen on the port the grader gives (see lessons/lesson-04/README.md#the-server-and-client-modes)",
        ),
        core(
            "stops-on-zero",
            3,
            "when a client closes, the server closes that socket and stops reading: no CPU spent after",
            "when recv returns 0 bytes the client is gone: close() its socket and leave the loop; Python, C: if not data / n == 0; Java: read() returns -1; Node.js: the 'end' event, then socket.end() (see lessons/lesson-04/README.md#note-3-the-client-closes-the-servers-recv-returns-0)",
        ),
        core(
            "client-exits",
            2,
            "in client mode, prints every reply until the server closes, then exits",
            "after sending, recv in a loop, printing each reply, until recv returns 0 (the server closed), then close and exit; Java: read() returns -1; Node.js: the 'end' event, and process.stdin.destroy() once the line is read (see lessons/lesson-04/README.md#note-4-the-server-closes-the-clients-recv-returns-0)",
        ),
        robust(
            "survives-reset",
            2,
            "a client that resets its connection does not stop the server",
            "catch the connection-reset error around recv and send, and go on to the next client; Python: except ConnectionResetError; C: recv returns -1 with errno ECONNRESET; Java: catch IOException (see lessons/lesson-04/README.md#where-the-simple-version-breaks)",
        ),
    ],
    grade,
};

/// How long the grader watches the server after its client closed.
const WINDOW: Duration = Duration::from_millis(1500);
/// The share of [`WINDOW`] one thread may want a CPU for (running or
/// waiting to run). A thread that spins on `recv` returning 0 wants it
/// all of the time, however busy the machine is; a server that stopped
/// reading wants it none of the time.
const RUNNABLE_SHARE: f64 = 0.5;
/// CPU time a server may use in [`WINDOW`] where the kernel does not say
/// how long threads wanted a CPU (a busy machine can hide a spin there).
const CPU_ALLOWANCE: Duration = Duration::from_millis(300);
/// How long the grader, as the server, holds its close back after its
/// reply: a client that waits for `recv` to return 0 is still running.
const HOLD: Duration = Duration::from_millis(1500);
/// The grader's first reply to the client ("received").
const FIRST_REPLY: &str = "收到";
/// Its second, sent after [`HOLD`], just before it closes ("goodbye").
const SECOND_REPLY: &str = "再见";

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    server(ctx, &mut rec);
    survives_reset(ctx, &mut rec);
    client(ctx, &mut rec);
    rec.finish()
}

fn server(ctx: &Ctx, rec: &mut Recorder) {
    let (mut program, port) = match ctx.start_server(Some("server")) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("server-listens", err, program.as_ref());
            return rec.fail_rest(
                &["stops-on-zero"],
                "the program never listened in server mode",
            );
        }
    };
    rec.pass("server-listens");
    let result = stops_on_zero(ctx, &mut program, port);
    ctx.stop(&mut program);
    rec.record("stops-on-zero", result, Some(&program));
}

/// A client talks, then closes its side (a FIN, as `close()` sends; the
/// grader can still read). The server's `recv` returns 0: it must stop
/// reading (no thread of it wants the CPU) and close the socket (the
/// grader reads end of stream).
fn stops_on_zero(ctx: &Ctx, program: &mut Program, port: u16) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    run::send(&mut conn, &gbk("你好"))?;
    // A reply is welcome but not required.
    let _ = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(1)),
        Duration::from_millis(200),
        1 << 16,
    );
    run::finish_sending(&conn);
    // Let the server see the end of stream, then watch it.
    thread::sleep(Duration::from_millis(200));
    if let Some(spin) = spinning(program)? {
        return Err(format!(
            "after the client closed, {spin}: it keeps calling recv, which returns 0 at once, forever"
        ));
    }
    let (_, ended) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
    if ended {
        return Ok(());
    }
    let local = conn.local_addr().map(|a| a.port()).unwrap_or(0);
    let state = if crate::probe::close_wait(port, local) {
        " (its side of the connection is in CLOSE_WAIT: the end of stream arrived, and the program has not called close())"
    } else {
        ""
    };
    Err(format!(
        "after the client closed, the server did not close the connection within 5 s{state}: close() the client's socket when recv returns 0"
    ))
}

/// Watches `program` for [`WINDOW`]: `Some(what was seen)` when it spins.
fn spinning(program: &mut Program) -> Result<Option<String>, String> {
    let started = Instant::now();
    if let Some(before) = program.runnable_times() {
        thread::sleep(WINDOW);
        let after = program.runnable_times().unwrap_or_default();
        let window = started.elapsed();
        let busiest = after
            .iter()
            .map(|(tid, total)| {
                let was = before
                    .iter()
                    .find(|(t, _)| t == tid)
                    .map_or(Duration::ZERO, |(_, d)| *d);
                total.saturating_sub(was)
            })
            .max()
            .unwrap_or_default();
        if busiest.as_secs_f64() > window.as_secs_f64() * RUNNABLE_SHARE {
            return Ok(Some(format!(
                "a thread of the server wanted a CPU (running or waiting to run) for {:.2} s of {:.2} s",
                busiest.as_secs_f64(),
                window.as_secs_f64()
            )));
        }
        return Ok(None);
    }
    let Some(before) = program.cpu_time() else {
        return Ok(None);
    };
    thread::sleep(WINDOW);
    let used = program.cpu_time().unwrap_or(before).saturating_sub(before);
    Ok((used > CPU_ALLOWANCE).then(|| {
        format!(
            "the server used {:.2} s of CPU in {:.1} s",
            used.as_secs_f64(),
            started.elapsed().as_secs_f64()
        )
    }))
}

fn survives_reset(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    if !rec.passed("server-listens") {
        return rec.fail_rest(
            &["survives-reset"],
            "the program never listened in server mode",
        );
    }
    let (mut program, port) = match ctx.start_server(Some("server")) {
        Ok(started) => started,
        Err((err, program)) => return rec.fail("survives-reset", err, program.as_ref()),
    };
    let result = (|| {
        let mut first = ctx.connect(port)?;
        run::send(&mut first, &gbk("你好"))?;
        let _ = run::read_message(
            &mut first,
            ctx.timeout(Duration::from_secs(1)),
            Duration::from_millis(200),
            1 << 16,
        );
        reset(first);
        thread::sleep(Duration::from_millis(200));
        let mut second = ctx.connect(port).map_err(|err| {
            format!("after a client reset its connection, the next client: {err}")
        })?;
        run::send(&mut second, &gbk("你好"))?;
        let (reply, _) = run::read_message(
            &mut second,
            ctx.timeout(Duration::from_secs(5)),
            Duration::from_millis(200),
            1 << 16,
        );
        if reply.is_empty() {
            return Err(
                "after a client reset its connection, the next client got no reply within 5 s"
                    .to_owned(),
            );
        }
        Ok(())
    })();
    // A server that is dying may not have ended yet on a busy machine:
    // a moment's wait lets the reason say that it ended.
    let result = result.map_err(|err| match program.wait(Duration::from_secs(1)) {
        Some(status) => format!(
            "the server ended ({}) after a client reset its connection: {err}",
            describe_status(status)
        ),
        None => err,
    });
    ctx.stop(&mut program);
    rec.record("survives-reset", result, Some(&program));
}

/// Closes `stream` with a reset (RST) instead of the usual FIN.
pub(crate) fn reset(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    let _ = socket.set_linger(Some(Duration::ZERO));
}

/// The grader is the server: it receives the client's message, replies,
/// holds its close back for [`HOLD`] (a client that waits for `recv` to
/// return 0 is still there), replies again, then closes; the client must
/// exit promptly, having printed both replies (a client that read once and
/// then slept would print only the first).
fn client(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    // A client that reads lines from stdin gets one; stdin stays open, so
    // that only the server's close can end a client that reads it.
    let (listener, mut program) = match ctx.start_client(Some("client"), "你好\n".as_bytes()) {
        Ok(started) => started,
        Err(err) => return rec.fail("client-exits", err, None),
    };
    let result = (|| {
        let mut conn = ctx.accept(&listener, &mut program)?;
        let (message, _) = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(2)),
            Duration::from_millis(200),
            1 << 16,
        );
        if !message.is_empty() {
            let _ = run::send(&mut conn, &gbk(FIRST_REPLY));
        }
        let replied = Instant::now();
        if let Some(status) = program.wait(HOLD) {
            return Err(format!(
                "the client ended ({}) {:.1} s after the reply, before the server closed the connection: recv in a loop until it returns 0",
                describe_status(status),
                replied.elapsed().as_secs_f64()
            ));
        }
        let _ = run::send(&mut conn, &gbk(SECOND_REPLY));
        thread::sleep(Duration::from_millis(300));
        // The server closes.
        drop(conn);
        match program.wait(ctx.timeout(Duration::from_secs(5))) {
            Some(_) => Ok(()),
            None => Err("after the server closed the connection, the client was still running 5 s later; it must end once recv returns 0 (Node.js: an open stdin keeps a program alive)".to_owned()),
        }
    })();
    ctx.stop(&mut program);
    let result = result.and_then(|()| {
        match (run::printed(&program, FIRST_REPLY), run::printed(&program, SECOND_REPLY)) {
            (_, true) => Ok(()),
            (true, false) => Err(format!(
                "the client printed the first reply, {FIRST_REPLY}, but not the second, {SECOND_REPLY}, sent {:.1} s later before the server closed: recv in a loop, printing each reply, until recv returns 0",
                HOLD.as_secs_f64()
            )),
            (false, false) => Err(format!(
                "neither stdout nor stderr holds the replies the server sent ({FIRST_REPLY}, then {SECOND_REPLY}, in GBK): print each reply, decoded"
            )),
        }
    });
    rec.record("client-exits", result, Some(&program));
}
