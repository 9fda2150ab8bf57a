//! Lesson 03: the student's program is a single server; the grader is its
//! one client.

use std::time::Duration;

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::describe_status;
use crate::tr;

use super::{gbk, valid_gbk};

/// Lesson 03's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-03",
    title: Text::new("the single TCP server", "单客户端 TCP 服务端"),
    modes: &[],
    checks: &[
        core(
            "listens",
            1,
            Text::new("listens on the port it is given", "在给定的端口上监听"),
            Text::new(
                "bind to (\"\", port) with the port the grader gives, check that bind succeeded, then listen(128); C: check bind()'s return value, and put the port in with htons() (see lessons/lesson-03/README.md#3-bind)",
                "绑定到 (\"\", port)，端口用评分程序给出的那个，确认 bind 成功，再调用 listen(128)；C：检查 bind() 的返回值，并用 htons() 填入端口（见 lessons/lesson-03/README.zh-CN.md#3-bind）",
            ),
        ),
        core(
            "prints-message",
            2,
            Text::new(
                "prints the client's message 我是客户端, decoded",
                "把客户端的消息 我是客户端 解码后打印出来",
            ),
            Text::new(
                "recv on the socket accept() returned, not the listening one, and print the message decoded from GBK, on stdout or stderr; Python: .decode(\"gbk\"); Java: new String(bytes, 0, n, \"GBK\") (see lessons/lesson-03/README.md#6-recv)",
                "在 accept() 返回的套接字上调用 recv，而不是在监听套接字上；把消息按 GBK 解码后打印到 stdout 或 stderr；Python：.decode(\"gbk\")；Java：new String(bytes, 0, n, \"GBK\")（见 lessons/lesson-03/README.zh-CN.md#6-recv）",
            ),
        ),
        core(
            "replies-gbk",
            2,
            Text::new(
                "replies with a non-empty message in valid GBK",
                "回复一条非空的、有效的 GBK 消息",
            ),
            Text::new(
                "encode the reply as GBK, not UTF-8, and send it on the client's socket; Python: .encode(\"gbk\"); Java: getBytes(\"GBK\") (see lessons/lesson-03/README.md#8-send)",
                "把回复编码成 GBK（不是 UTF-8），在客户端的套接字上发送；Python：.encode(\"gbk\")；Java：getBytes(\"GBK\")（见 lessons/lesson-03/README.zh-CN.md#8-send）",
            ),
        ),
        core(
            "closes-client",
            1,
            Text::new(
                "closes the client's socket after the reply",
                "回复之后关闭客户端的套接字",
            ),
            Text::new(
                "close() the socket accept() returned; Node.js: socket.end() (see lessons/lesson-03/README.md#9-close)",
                "对 accept() 返回的套接字调用 close()；Node.js：socket.end()（见 lessons/lesson-03/README.zh-CN.md#9-close）",
            ),
        ),
        core(
            "exits-0",
            1,
            Text::new(
                "exits with status 0 after one client",
                "服务完一个客户端后以退出码 0 退出",
            ),
            Text::new(
                "close the listening socket too and let the program end; Node.js: server.close() (see lessons/lesson-03/README.md#9-close)",
                "把监听套接字也关闭，让程序结束；Node.js：server.close()（见 lessons/lesson-03/README.zh-CN.md#9-close）",
            ),
        ),
        core(
            "restarts",
            2,
            Text::new(
                "started again at once, it binds the same port (SO_REUSEADDR)",
                "立即再次启动时，仍能绑定同一个端口（SO_REUSEADDR）",
            ),
            Text::new(
                "set SO_REUSEADDR on the listening socket before bind; Java: ServerSocket.setReuseAddress(true) before bind; Node.js sets it by itself (see lessons/lesson-03/README.md#2-setsockoptso_reuseaddr)",
                "在 bind 之前给监听套接字设置 SO_REUSEADDR；Java：在 bind 之前调用 ServerSocket.setReuseAddress(true)；Node.js 会自动设置（见 lessons/lesson-03/README.zh-CN.md#2-setsockoptso_reuseaddr）",
            ),
        ),
        robust(
            "invalid-gbk",
            2,
            Text::new(
                "replies normally when the message is not valid GBK",
                "消息不是有效的 GBK 时，照常回复",
            ),
            Text::new(
                "decode with errors replaced, or catch the decoding error; Python: .decode(\"gbk\", errors=\"replace\"); Java: new String(bytes, 0, n, \"GBK\") replaces by itself, a CharsetDecoder needs CodingErrorAction.REPLACE; Rust: a lossy decode, not unwrap() (see lessons/lesson-03/README.md#7-decode)",
                "解码时替换无效的字节，或者捕获解码错误；Python：.decode(\"gbk\", errors=\"replace\")；Java：new String(bytes, 0, n, \"GBK\") 会自动替换，CharsetDecoder 则需要 CodingErrorAction.REPLACE；Rust：用有损解码，不要 unwrap()（见 lessons/lesson-03/README.zh-CN.md#7-解码）",
            ),
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
            rec.fail_rest(
                CONVERSATION,
                &tr!("the program never listened", "程序始终没有监听"),
            );
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
        Err(tr!(
            "neither stdout nor stderr holds the message {CLIENT_MESSAGE} the grader sent (in GBK)",
            "stdout 和 stderr 里都没有评分程序发送的消息 {CLIENT_MESSAGE}（GBK 编码）"
        ))
    };
    rec.record("prints-message", printed, Some(&program));
    let replied = match &reply {
        Ok(bytes) => valid_gbk(bytes)
            .map(|_| ())
            .map_err(|what| tr!("the program replied {what}", "程序回复了 {what}")),
        Err(err) => Err(err.clone()),
    };
    rec.record("replies-gbk", replied, Some(&program));
    rec.record(
        "closes-client",
        if closed {
            Ok(())
        } else {
            Err(tr!(
                "the connection was still open 5 s after the message",
                "发出消息之后过了 5 秒，连接仍然开着"
            ))
        },
        Some(&program),
    );
    let exit = run::exit_zero(exited, ending, &tr!("its client", "服务完它的客户端"));
    rec.record("exits-0", exit, Some(&program));
    Some(port)
}

/// Started again at once on the same port, it must bind. The first run
/// ended with the server closing the connection first (by itself, or when
/// the grader stopped it), so its side of that connection is in TIME_WAIT.
fn restart(ctx: &Ctx, rec: &mut Recorder, port: Option<u16>) {
    rec.start();
    let Some(port) = port else {
        return rec.fail_rest(
            &["restarts"],
            &tr!(
                "the program never listened the first time",
                "程序第一次运行时就没有监听"
            ),
        );
    };
    let mut program = match ctx.start(port, None, b"") {
        Ok(program) => program,
        Err(err) => return rec.fail("restarts", err, None),
    };
    let result = ctx.wait_listening(&mut program, port).map_err(|err| {
        tr!(
            "started again on port {port} right after the first run: {err}; without SO_REUSEADDR, bind fails while the old connection is in TIME_WAIT",
            "第一次运行刚结束就在端口 {port} 上再次启动：{err}；没有设置 SO_REUSEADDR 时，旧连接还处于 TIME_WAIT，bind 就会失败"
        )
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
        return rec.fail_rest(
            &["invalid-gbk"],
            &tr!("the program never listened", "程序始终没有监听"),
        );
    }
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => return rec.fail("invalid-gbk", err, program.as_ref()),
    };
    let what = tr!(
        "the message b'\\xff\\xfe\\xfd\\xfc' (not GBK)",
        "消息 b'\\xff\\xfe\\xfd\\xfc'（不是 GBK）"
    );
    let exits_normally = rec.passed("exits-0");
    let result = (|| {
        let mut conn = ctx.connect(port)?;
        run::send(&mut conn, b"\xff\xfe\xfd\xfc")?;
        let (reply, _) = run::read_to_end(&mut conn, ctx.timeout(Duration::from_secs(5)));
        drop(conn);
        let exited = program.wait(ctx.timeout(Duration::from_secs(5)));
        ctx.stop(&mut program);
        let output = [program.stdout(), program.stderr()].concat();
        if let Some(crash) = run::crashed(&output) {
            return Err(tr!(
                "{what} made the program crash with {crash}",
                "{what}让程序崩溃了，出现了 {crash}"
            ));
        }
        if reply.is_empty() {
            return Err(tr!(
                "after {what} the program sent no reply",
                "收到{what}之后，程序没有回复"
            ));
        }
        match exited {
            Some(status) if status.success() => Ok(()),
            Some(status) => {
                let status = describe_status(status);
                Err(tr!(
                    "after {what} the program ended with {status}",
                    "收到{what}之后，程序结束了，{status}"
                ))
            }
            None if exits_normally => Err(tr!(
                "after {what} the program was still running 5 s later, unlike after a valid message",
                "收到{what}之后过了 5 秒，程序仍在运行；收到有效的消息之后并不会这样"
            )),
            None => Ok(()),
        }
    })();
    ctx.stop(&mut program);
    rec.record("invalid-gbk", result, Some(&program));
}
