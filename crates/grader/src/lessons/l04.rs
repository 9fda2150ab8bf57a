//! Lesson 04: the student's program runs twice, as a server (`{mode}` =
//! `server`) and as a client (`client`). The grader checks that each side
//! notices the other closing: `recv` returns 0.

use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::Lesson;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::gbk;

/// CPU time a server may use in the window after its client closed.
const CPU_ALLOWANCE: Duration = Duration::from_millis(300);
/// How long the grader watches the CPU time after the client closed.
const CPU_WINDOW: Duration = Duration::from_millis(1500);

pub(super) fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    server(ctx, &mut rec);
    survives_reset(ctx, &mut rec);
    client(ctx, &mut rec);
    rec.finish()
}

fn server(ctx: &Ctx, rec: &mut Recorder) {
    let rest = ["server-listens", "stops-on-zero"];
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    let mut program = match ctx.start(port, Some("server"), b"") {
        Ok(program) => program,
        Err(err) => return rec.fail_rest(&rest, &err, None),
    };
    rec.start();
    if let Err(err) = ctx.wait_listening(&mut program, port) {
        ctx.stop(&mut program);
        rec.fail("server-listens", err, Some(&program));
        return rec.fail_rest(
            &rest,
            "the program never listened in server mode",
            Some(&program),
        );
    }
    rec.pass("server-listens");
    let result = (|| {
        let mut conn = ctx.connect(port)?;
        run::send(&mut conn, &gbk("你好"))?;
        // A reply is welcome but not required.
        let _ = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(1)),
            Duration::from_millis(200),
            1 << 16,
        );
        drop(conn);
        // Let the server see the close, then watch its CPU time.
        thread::sleep(Duration::from_millis(200));
        let Some(before) = program.cpu_time() else {
            return Ok(());
        };
        let started = Instant::now();
        thread::sleep(CPU_WINDOW);
        let used = program.cpu_time().unwrap_or(before).saturating_sub(before);
        if used > CPU_ALLOWANCE {
            Err(format!(
                "after the client closed, the server used {:.2} s of CPU in {:.1} s: it keeps calling recv, which returns 0 at once, forever",
                used.as_secs_f64(),
                started.elapsed().as_secs_f64()
            ))
        } else {
            Ok(())
        }
    })();
    ctx.stop(&mut program);
    rec.record("stops-on-zero", result, Some(&program));
}

fn survives_reset(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    let port = match ctx.port() {
        Ok(port) => port,
        Err(err) => return rec.fail("survives-reset", err, None),
    };
    let mut program = match ctx.start(port, Some("server"), b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("survives-reset", err, None),
    };
    let result = (|| {
        ctx.wait_listening(&mut program, port)?;
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
        let mut second = ctx.connect(port)?;
        run::send(&mut second, &gbk("你好"))?;
        let (reply, _) = run::read_message(
            &mut second,
            ctx.timeout(Duration::from_secs(5)),
            Duration::from_millis(200),
            1 << 16,
        );
        if reply.is_empty() {
            let status = program.exited().map(describe_status);
            return Err(match status {
                Some(status) => {
                    format!("after a client reset its connection, the server ended ({status})")
                }
                None => {
                    "after a client reset its connection, the next client got no reply".to_owned()
                }
            });
        }
        Ok(())
    })();
    let result = result.map_err(|err| match program.exited() {
        Some(status) => format!(
            "after a client reset its connection, the server ended ({}): {err}",
            describe_status(status)
        ),
        None => err,
    });
    ctx.stop(&mut program);
    rec.record("survives-reset", result, Some(&program));
}

/// Closes `stream` with a reset (RST) instead of the usual FIN.
pub(crate) fn reset(stream: std::net::TcpStream) {
    let socket = socket2::Socket::from(stream);
    let _ = socket.set_linger(Some(Duration::ZERO));
}

fn client(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    // A client that reads lines from stdin gets one.
    let (listener, mut program) = match ctx.start_client(Some("client"), "你好\n".as_bytes()) {
        Ok(started) => started,
        Err(err) => return rec.fail("client-exits", err, None),
    };
    let result = (|| {
        let mut conn = run::accept(
            &listener,
            &mut program,
            ctx.timeout(Duration::from_secs(10)),
        )?;
        let _ = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(2)),
            Duration::from_millis(200),
            1 << 16,
        );
        // The server closes without replying.
        drop(conn);
        match program.wait(ctx.timeout(Duration::from_secs(5))) {
            Some(_) => Ok(()),
            None => Err("after the server closed the connection, the client was still running 5 s later: when recv returns 0, stop".to_owned()),
        }
    })();
    ctx.stop(&mut program);
    rec.record("client-exits", result, Some(&program));
}
