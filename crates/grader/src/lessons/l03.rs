//! Lesson 03: the student's program is a single server; the grader is its
//! one client.

use std::time::Duration;

use crate::catalog::{Lesson, core, robust};
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;

use super::{gbk, valid_gbk};

/// Lesson 03's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-03",
    title: "the single TCP server",
    modes: &[],
    checks: &[
        core(
            "listens",
            1,
            "listens on the port it is given",
            "bind to (\"\", port) with the port the grader gives, check that bind succeeded, then listen(128); C: check bind()'s return value, and put the port in with htons() (see lessons/lesson-03/README.md#3-bind)",
        ),
        core(
            "prints-message",
            2,
            "prints the client's message 我是客户端, decoded",
            "recv on the socket accept() returned, not the listening one, and print the message decoded from GBK, on stdout or stderr; Python: .decode(\"gbk\"); Java: new String(bytes, 0, n, \"GBK\") (see lessons/lesson-03/README.md#6-recv)",
        ),
        core(
            "replies-gbk",
            2,
            "replies with a non-empty message in valid GBK",
            "encode the reply as GBK, not UTF-8, and send it on the client's socket; Python: .encode(\"gbk\"); Java: getBytes(\"GBK\") (see lessons/lesson-03/README.md#8-send)",
        ),
        core(
            "closes-client",
            1,
            "closes the client's socket after the reply",
            "close() the socket accept() returned; Node.js: socket.end() (see lessons/lesson-03/README.md#9-close)",
        ),
        core(
            "exits-0",
            1,
            "exits with status 0 after one client",
            "close the listening socket too and let the program end; Node.js: server.close() (see lessons/lesson-03/README.md#9-close)",
        ),
        core(
            "restarts",
            2,
            "started again at once, it binds the same port (SO_REUSEADDR)",
            "set SO_REUSEADDR on the listening socket before bind; Java: ServerSocket.setReuseAddress(true) before bind; Node.js sets it by itself (see lessons/lesson-03/README.md#2-setsockoptso_reuseaddr)",
        ),
        robust(
            "invalid-gbk",
            2,
            "replies normally when the message is not valid GBK",
            "decode with errors replaced, or catch the decoding error; Python: .decode(\"gbk\", errors=\"replace\"); Java: new String(bytes, 0, n, \"GBK\") replaces by itself, a CharsetDecoder needs CodingErrorAction.REPLACE; Rust: a lossy decode, not unwrap() (see lessons/lesson-03/README.md#7-decode)",
        ),
    ],
    grade,
};

/// "我是客户端" ("I am the client"): the tutorial's section-3 message.
const CLIENT_MESSAGE: &str = "我是客户端";

const CONVERSATION: &[&str] = &[
    "listens",
    "prints-message",
    "replies-gbk",
    "closes-client",
    "exits-0",
];

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    let port = conversation(ctx, &mut rec);
    restart(ctx, &mut rec, port);
    invalid_gbk(ctx, &mut rec);
    rec.finish()
}

/// The tutorial's conversation. Returns the port the program listened
/// on, for the restart.
fn conversation(ctx: &Ctx, rec: &mut Recorder) -> Option<u16> {
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("listens", err, program.as_ref());
            rec.fail_rest(CONVERSATION, "the program never listened");
            return None;
        }
    };
    rec.pass("listens");
    let mut closed = false;
    let reply = ctx.connect(port).and_then(|mut conn| {
        run::send(&mut conn, &gbk(CLIENT_MESSAGE))?;
        let (reply, ended) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        closed = ended;
        // The conversation ends before the grader waits for an exit: a
        // Node.js server stays alive until its peer has closed too.
        drop(conn);
        Ok(reply)
    });
    let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
    let ending = ctx.stop(&mut program);
    let printed = if run::printed(&program, CLIENT_MESSAGE) {
        Ok(())
    } else {
        Err(format!(
            "neither stdout nor stderr holds the message {CLIENT_MESSAGE} the grader sent (in GBK)"
        ))
    };
    rec.record("prints-message", printed, Some(&program));
    let replied = match &reply {
        Ok(bytes) => valid_gbk(bytes)
            .map(|_| ())
            .map_err(|what| format!("the program replied {what}")),
        Err(err) => Err(err.clone()),
    };
    rec.record("replies-gbk", replied, Some(&program));
    rec.record(
        "closes-client",
        if closed {
            Ok(())
        } else {
            Err("the connection was still open 5 s after the message".to_owned())
        },
        Some(&program),
    );
    let exit = run::exit_zero(exited, ending, "its client");
    rec.record("exits-0", exit, Some(&program));
    Some(port)
}

/// Started again at once on the same port, it must bind. The first run
/// ended with the server closing the connection first (by itself, or when
/// the grader stopped it), so its side of that connection is in TIME_WAIT.
fn restart(ctx: &Ctx, rec: &mut Recorder, port: Option<u16>) {
    rec.start();
    let Some(port) = port else {
        return rec.fail_rest(&["restarts"], "the program never listened the first time");
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("restarts", err, None),
    };
    let result = ctx.wait_listening(&mut program, port).map_err(|err| {
        format!("started again on port {port} right after the first run: {err}; without SO_REUSEADDR, bind fails while the old connection is in TIME_WAIT")
    });
    ctx.stop(&mut program);
    rec.record("restarts", result, Some(&program));
}

/// A client sends bytes that are not GBK: the server must still reply and
/// must not crash. Whether it exits afterwards is `exits-0`'s point, not
/// this check's: only an ending that differs from the normal run's counts.
fn invalid_gbk(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    if !rec.passed("listens") {
        return rec.fail_rest(&["invalid-gbk"], "the program never listened");
    }
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => return rec.fail("invalid-gbk", err, program.as_ref()),
    };
    const WHAT: &str = "the message b'\\xff\\xfe\\xfd\\xfc' (not GBK)";
    let exits_normally = rec.passed("exits-0");
    let result = (|| {
        let mut conn = ctx.connect(port)?;
        run::send(&mut conn, b"\xff\xfe\xfd\xfc")?;
        let (reply, _) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        drop(conn);
        let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
        ctx.stop(&mut program);
        let output = [program.stdout(), program.stderr()].concat();
        if let Some(what) = run::crashed(&output) {
            return Err(format!("{WHAT} made the program crash with {what}"));
        }
        if reply.is_empty() {
            return Err(format!("after {WHAT} the program sent no reply"));
        }
        match exited {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!(
                "after {WHAT} the program ended with {}",
                describe_status(status)
            )),
            None if exits_normally => Err(format!(
                "after {WHAT} the program was still running 5 s later, unlike after a valid message"
            )),
            None => Ok(()),
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-gbk", result, Some(&program));
}
