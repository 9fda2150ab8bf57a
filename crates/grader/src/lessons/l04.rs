//! Lesson 04: the student's program runs twice, as a server (`{mode}` =
//! `server`) and as a client (`client`). The grader checks that each side
//! notices the other closing (`recv` returns 0) and acts on it: the server
//! closes that socket and stops reading, the client exits.

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::{Program, describe_status};
use crate::tr;

use super::gbk;

/// Lesson 04's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-04",
    title: Text::new(
        "the notes: recv returns 0 when the other side closes",
        "注意点：对端关闭时 recv 返回 0",
    ),
    modes: &["server", "client"],
    checks: &[
        core(
            "server-listens",
            1,
            Text::new(
                "in server mode, listens on the port it is given",
                "在 server 模式下，在给定的端口上监听",
            ),
            Text::new(
                "bind and listen on the port the grader gives (see lessons/lesson-04/README.md#the-server-and-client-modes)",
                "在评分程序给出的端口上绑定并监听（见 lessons/lesson-04/README.zh-CN.md#server-和-client-模式）",
            ),
        ),
        core(
            "stops-on-zero",
            3,
            Text::new(
                "when a client closes, the server closes that socket and stops reading: no CPU spent after",
                "客户端关闭后，服务端关闭那个套接字并停止接收：之后不再占用 CPU",
            ),
            Text::new(
                "when recv returns 0 bytes the client is gone: close() its socket and leave the loop; Python, C: if not data / n == 0; Java: read() returns -1; Node.js: the 'end' event, then socket.end() (see lessons/lesson-04/README.md#note-3-the-client-closes-the-servers-recv-returns-0)",
                "recv 返回 0 个字节，说明客户端已经关闭了连接（数据流结束）：对它的套接字调用 close()，然后退出循环；Python、C：if not data / n == 0；Java：read() 返回 -1；Node.js：'end' 事件，然后调用 socket.end()（见 lessons/lesson-04/README.zh-CN.md#注意点-3客户端关闭服务端的-recv-返回-0）",
            ),
        ),
        core(
            "client-exits",
            2,
            Text::new(
                "in client mode, prints every reply until the server closes, then exits",
                "在 client 模式下，打印每一条回复，直到服务端关闭，然后退出",
            ),
            Text::new(
                "after sending, recv in a loop, printing each reply, until recv returns 0 (the server closed), then close and exit; Java: read() returns -1; Node.js: the 'end' event, and process.stdin.destroy() once the line is read (see lessons/lesson-04/README.md#note-4-the-server-closes-the-clients-recv-returns-0)",
                "发送之后循环调用 recv，打印每一条回复，直到 recv 返回 0（服务端已关闭），然后关闭套接字并退出；Java：read() 返回 -1；Node.js：'end' 事件，并在读完那一行之后调用 process.stdin.destroy()（见 lessons/lesson-04/README.zh-CN.md#注意点-4服务端关闭客户端的-recv-返回-0）",
            ),
        ),
        robust(
            "survives-reset",
            2,
            Text::new(
                "a client that resets its connection does not stop the server",
                "某个客户端重置（RST）了连接，服务端不会因此停下",
            ),
            Text::new(
                "catch the connection-reset error around recv and send, and go on to the next client; Python: except ConnectionResetError; C: recv returns -1 with errno ECONNRESET; Java: catch IOException (see lessons/lesson-04/README.md#where-the-simple-version-breaks)",
                "在 recv 和 send 外面捕获连接被重置的错误，然后接着服务下一个客户端；Python：except ConnectionResetError；C：recv 返回 -1，errno 为 ECONNRESET；Java：catch IOException（见 lessons/lesson-04/README.zh-CN.md#简单版本在哪里出问题）",
            ),
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
                &tr!(
                    "the program never listened in server mode",
                    "程序在 server 模式下始终没有监听"
                ),
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
        return Err(tr!(
            "after the client closed, {spin}: it keeps calling recv, which returns 0 at once, forever",
            "客户端关闭之后，{spin}：它一直在调用 recv，而 recv 每次都立即返回 0，永无止境"
        ));
    }
    let (_, ended) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
    if ended {
        return Ok(());
    }
    let local = conn.local_addr().map(|a| a.port()).unwrap_or(0);
    let state = if crate::probe::close_wait(port, local) {
        crate::i18n::tr(
            " (its side of the connection is in CLOSE_WAIT: the end of stream arrived, and the program has not called close())",
            "（它那一端的连接处于 CLOSE_WAIT：数据流结束已经到达，而程序还没有调用 close()）",
        )
    } else {
        ""
    };
    Err(tr!(
        "after the client closed, the server did not close the connection within 5 s{state}: close() the client's socket when recv returns 0",
        "客户端关闭之后，服务端没有在 5 秒内关闭连接{state}：recv 返回 0 时，要对这个客户端的套接字调用 close()"
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
            let (busy, window) = (busiest.as_secs_f64(), window.as_secs_f64());
            return Ok(Some(tr!(
                "a thread of the server wanted a CPU (running or waiting to run) for {busy:.2} s of {window:.2} s",
                "服务端的一个线程在 {window:.2} 秒里有 {busy:.2} 秒想要占用 CPU（正在运行或等待运行）"
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
        let (used, window) = (used.as_secs_f64(), started.elapsed().as_secs_f64());
        tr!(
            "the server used {used:.2} s of CPU in {window:.1} s",
            "服务端在 {window:.1} 秒里用了 {used:.2} 秒的 CPU 时间"
        )
    }))
}

fn survives_reset(ctx: &Ctx, rec: &mut Recorder) {
    rec.start();
    if !rec.passed("server-listens") {
        return rec.fail_rest(
            &["survives-reset"],
            &tr!(
                "the program never listened in server mode",
                "程序在 server 模式下始终没有监听"
            ),
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
            tr!(
                "after a client reset its connection, the next client: {err}",
                "一个客户端重置连接之后，下一个客户端：{err}"
            )
        })?;
        run::send(&mut second, &gbk("你好"))?;
        let (reply, _) = run::read_message(
            &mut second,
            ctx.timeout(Duration::from_secs(5)),
            Duration::from_millis(200),
            1 << 16,
        );
        if reply.is_empty() {
            return Err(tr!(
                "after a client reset its connection, the next client got no reply within 5 s",
                "一个客户端重置连接之后，下一个客户端在 5 秒内没有收到回复"
            ));
        }
        Ok(())
    })();
    // A server that is dying may not have ended yet on a busy machine:
    // a moment's wait lets the reason say that it ended.
    let result = result.map_err(|err| match program.wait(Duration::from_secs(1)) {
        Some(status) => {
            let status = describe_status(status);
            tr!(
                "the server ended ({status}) after a client reset its connection: {err}",
                "一个客户端重置连接之后，服务端结束了（{status}）：{err}"
            )
        }
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
            let (status, after) = (describe_status(status), replied.elapsed().as_secs_f64());
            return Err(tr!(
                "the client ended ({status}) {after:.1} s after the reply, before the server closed the connection: recv in a loop until it returns 0",
                "客户端在回复之后 {after:.1} 秒就结束了（{status}），这时服务端还没有关闭连接：要循环调用 recv，直到它返回 0"
            ));
        }
        let _ = run::send(&mut conn, &gbk(SECOND_REPLY));
        thread::sleep(Duration::from_millis(300));
        // The server closes.
        drop(conn);
        match program.wait(ctx.timeout(Duration::from_secs(5))) {
            Some(_) => Ok(()),
            None => Err(tr!(
                "after the server closed the connection, the client was still running 5 s later; it must end once recv returns 0 (Node.js: an open stdin keeps a program alive)",
                "服务端关闭连接之后过了 5 秒，客户端仍在运行；recv 返回 0 之后它就必须结束（Node.js：标准输入没有关闭，程序就不会退出）"
            )),
        }
    })();
    ctx.stop(&mut program);
    let result = result.and_then(|()| {
        match (run::printed(&program, FIRST_REPLY), run::printed(&program, SECOND_REPLY)) {
            (_, true) => Ok(()),
            (true, false) => {
                let later = HOLD.as_secs_f64();
                Err(tr!(
                    "the client printed the first reply, {FIRST_REPLY}, but not the second, {SECOND_REPLY}, sent {later:.1} s later before the server closed: recv in a loop, printing each reply, until recv returns 0",
                    "客户端打印了第一条回复 {FIRST_REPLY}，却没有打印第二条 {SECOND_REPLY}（它在 {later:.1} 秒之后、服务端关闭之前发出）：要循环调用 recv，打印每一条回复，直到 recv 返回 0"
                ))
            }
            (false, false) => Err(tr!(
                "neither stdout nor stderr holds the replies the server sent ({FIRST_REPLY}, then {SECOND_REPLY}, in GBK): print each reply, decoded",
                "stdout 和 stderr 里都没有服务端发送的回复（先是 {FIRST_REPLY}，然后是 {SECOND_REPLY}，GBK 编码）：要把每一条回复解码后打印出来"
            )),
        }
    });
    rec.record("client-exits", result, Some(&program));
}
