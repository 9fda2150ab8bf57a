//! Lesson 05: the student's program is a threaded server; the grader plays
//! many clients at once. Every check after the first run starts the
//! program afresh, so that one failure cannot spoil the next check.

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use loadgen::pingpong::{Failure, Fault, PingPong};

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::i18n::tr;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::{Ending, Program, describe_status};

use super::l04::reset;
use super::{gbk, show_bytes};

/// Lesson 05's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-05",
    title: Text::new("the threaded server", "多线程服务端"),
    modes: &[],
    checks: &[
        core(
            "listens",
            1,
            Text::new("listens on the port it is given", "在给定的端口上监听"),
            Text::new(
                "bind and listen on the port the grader gives (see lessons/lesson-05/README.md#1-listen-as-before)",
                "在评分程序给出的端口上绑定并监听（见 lessons/lesson-05/README.zh-CN.md#1-监听和之前一样）",
            ),
        ),
        core(
            "prints-messages",
            1,
            Text::new(
                "prints each message it receives, decoded",
                "把收到的每条消息解码后打印出来",
            ),
            Text::new(
                "print each message decoded from GBK, on stdout or stderr (see lessons/lesson-05/README.md#4-serve-one-client)",
                "把每条消息按 GBK 解码后打印到 stdout 或 stderr（见 lessons/lesson-05/README.zh-CN.md#4-服务一个客户端）",
            ),
        ),
        core(
            "concurrent",
            3,
            Text::new(
                "32 clients stay connected and silent after talking; each new one is still answered",
                "32 个客户端说完话后保持连接、不再发送；每个新来的客户端仍能得到回复",
            ),
            Text::new(
                "serve every client on a thread of its own, as many as connect (an event loop such as select, epoll, asyncio or Node.js's net serves them all too); a fixed pool of N workers leaves client N+1 waiting while N clients sit silent. Python: threading.Thread per accept(), not a ThreadPoolExecutor; Java: new Thread(...).start(), not Executors.newFixedThreadPool; C: pthread_create per client (see lessons/lesson-05/README.md#3-a-thread-per-client)",
                "为每个客户端单独开一个线程，连上来多少个就开多少个（select、epoll、asyncio 或 Node.js 的 net 这样的事件循环也能同时服务所有客户端）；固定 N 个工作线程的线程池，在 N 个客户端连着不说话时，会让第 N+1 个客户端一直等下去。Python：每次 accept() 之后创建一个 threading.Thread，不要用 ThreadPoolExecutor；Java：new Thread(...).start()，不要用 Executors.newFixedThreadPool；C：每个客户端调用一次 pthread_create（见 lessons/lesson-05/README.zh-CN.md#3-每个客户端一个线程）",
            ),
        ),
        core(
            "many-clients",
            3,
            Text::new(
                "50 clients at once, 20 messages each: every reply is ok, 收到了 in GBK",
                "同时 50 个客户端，每个发送 20 条消息：每条回复都是 GBK 编码的 ok, 收到了",
            ),
            Text::new(
                "reply ok, 收到了 in GBK (exactly the bytes b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb') to every message, on the client's own thread (see lessons/lesson-05/README.md#4-serve-one-client)",
                "在客户端自己的线程上，对每条消息都回复 GBK 编码的 ok, 收到了（正好是这些字节：b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb'）（见 lessons/lesson-05/README.zh-CN.md#4-服务一个客户端）",
            ),
        ),
        core(
            "survives-close",
            1,
            Text::new(
                "after a client closes, the next client is served",
                "一个客户端关闭之后，下一个客户端仍能得到服务",
            ),
            Text::new(
                "when recv returns 0, close that client's socket and end only its thread; Java: read() returns -1 (see lessons/lesson-05/README.md#4-serve-one-client)",
                "recv 返回 0 时，关闭这个客户端的套接字，只结束它自己的线程；Java：read() 返回 -1（见 lessons/lesson-05/README.zh-CN.md#4-服务一个客户端）",
            ),
        ),
        robust(
            "survives-reset",
            1,
            Text::new(
                "after a client resets its connection, the next client is served",
                "一个客户端重置（RST）了连接之后，下一个客户端仍能得到服务",
            ),
            Text::new(
                "catch the connection-reset error in the client's thread and end only that thread; Python: except ConnectionResetError; C: recv returns -1 (ECONNRESET); Java: catch IOException (see lessons/lesson-05/README.md#where-the-tutorials-server-breaks)",
                "在客户端的线程里捕获连接被重置的错误，只结束这一个线程；Python：except ConnectionResetError；C：recv 返回 -1（ECONNRESET）；Java：catch IOException（见 lessons/lesson-05/README.zh-CN.md#教程的服务端在哪里出问题）",
            ),
        ),
        robust(
            "split-character",
            2,
            Text::new(
                "你好 split inside a character across two sends is printed whole",
                "“你好”在一个字符的中间被拆成两次发送，仍被完整地打印出来",
            ),
            Text::new(
                "decode with one incremental decoder per connection, which keeps half a character for the next recv; Python: codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\"); Java: one CharsetDecoder per connection; Node.js: new TextDecoder(\"gbk\") with {stream: true}; Rust: encoding_rs's Decoder (see lessons/lesson-05/README.md#4-serve-one-client)",
                "每个连接用一个增量解码器来解码，它会把半个字符留到下一次 recv；Python：codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\")；Java：每个连接一个 CharsetDecoder；Node.js：new TextDecoder(\"gbk\") 配合 {stream: true}；Rust：encoding_rs 的 Decoder（见 lessons/lesson-05/README.zh-CN.md#4-服务一个客户端）",
            ),
        ),
        robust(
            "invalid-gbk",
            1,
            Text::new(
                "invalid GBK does not end the conversation",
                "无效的 GBK 不会让对话中断",
            ),
            Text::new(
                "decode with errors replaced instead of letting the error end the thread; Python: errors=\"replace\" (see lessons/lesson-05/README.md#4-serve-one-client)",
                "解码时替换无效的字节，不要让解码错误结束线程；Python：errors=\"replace\"（见 lessons/lesson-05/README.zh-CN.md#4-服务一个客户端）",
            ),
        ),
    ],
    grade,
};

/// "ok, 收到了": the threaded server's reply to every message.
const THREADED_REPLY: &str = "ok, 收到了";
const FIRST_MESSAGE: &str = "我是客户端1";
const SECOND_MESSAGE: &str = "我是客户端2";
/// How many clients `concurrent` keeps connected and silent at once:
/// tens, so that a fixed pool of workers shows.
const SILENT_CLIENTS: usize = 32;

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    first_run(ctx, &mut rec);
    if !rec.passed("listens") {
        let rest = [
            "many-clients",
            "survives-close",
            "survives-reset",
            "split-character",
            "invalid-gbk",
        ];
        rec.fail_rest(
            &rest,
            &crate::tr!("the program never listened", "程序始终没有监听"),
        );
        return rec.finish();
    }
    with_server(ctx, &mut rec, "many-clients", many_clients);
    with_server(ctx, &mut rec, "survives-close", |ctx, port, _| {
        next_after(ctx, port, false, 1)
    });
    with_server(ctx, &mut rec, "survives-reset", survives_reset);
    let prints = rec.passed("prints-messages");
    with_server(ctx, &mut rec, "split-character", |ctx, port, program| {
        split_character(ctx, port, program, prints)
    });
    with_server(ctx, &mut rec, "invalid-gbk", invalid_gbk);
    rec.finish()
}

/// Listens; a client talks and leaves; then clients connect one after
/// another, each talking once and then staying connected and silent;
/// finally the output must show the first message.
fn first_run(ctx: &Ctx, rec: &mut Recorder) {
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("listens", err, program.as_ref());
            return rec.fail_rest(
                &["prints-messages", "concurrent"],
                &crate::tr!("the program never listened", "程序始终没有监听"),
            );
        }
    };
    rec.pass("listens");
    let talked = converse(ctx, port, &gbk(FIRST_MESSAGE));
    rec.start();
    let concurrent = concurrent(ctx, port, &mut program);
    ctx.stop(&mut program);
    // Recorded in the order they ran, for their times; reported in the
    // catalog's order.
    rec.record("concurrent", concurrent, Some(&program));
    let printed = run::printed_message(&program, talked, FIRST_MESSAGE);
    rec.record("prints-messages", printed, Some(&program));
}

/// Clients connect one after another; each sends a message, gets its
/// reply, and stays connected and silent. A server with a thread per
/// client (or an event loop) answers all of them; one that serves N at a
/// time (one thread, or a pool of N) leaves client N+1 without a reply.
fn concurrent(ctx: &Ctx, port: u16, program: &mut Program) -> Result<(), String> {
    let mut silent: Vec<TcpStream> = Vec::with_capacity(SILENT_CLIENTS);
    for n in 0..=SILENT_CLIENTS {
        let (k, m) = (silent.len(), n + 1);
        let mut conn = ctx.connect(port).map_err(|err| {
            crate::tr!(
                "with {k} clients connected and silent, client {m}: {err}",
                "有 {k} 个客户端保持连接、不再发送时，第 {m} 个客户端：{err}"
            )
        })?;
        run::send(&mut conn, &gbk(&format!("安静的客户端{}", n + 1)))?;
        let (reply, ended) = run::read_message(
            &mut conn,
            ctx.timeout(Duration::from_secs(3)),
            Duration::from_millis(100),
            1 << 16,
        );
        if reply.is_empty() {
            let waiting = match k {
                1 => tr(
                    "the client before it stayed connected and silent",
                    "它前面的那个客户端保持连接、不再发送",
                )
                .to_owned(),
                k => crate::tr!(
                    "the {k} clients before it stayed connected and silent",
                    "它前面的 {k} 个客户端保持连接、不再发送"
                ),
            };
            // A closed connection may mean a dying server, which on a busy
            // machine takes a moment to end.
            let exited = if ended {
                program.wait(Duration::from_secs(1))
            } else {
                program.exited()
            };
            let seen = if let Some(status) = exited {
                let status = describe_status(status);
                crate::tr!("the server ended ({status})", "服务端结束了（{status}）")
            } else if ended {
                tr(
                    "the server closed its connection without a reply",
                    "服务端没有回复就关闭了连接",
                )
                .to_owned()
            } else {
                tr("it got no reply within 3 s", "它在 3 秒内没有收到回复").to_owned()
            };
            return Err(match (k, exited, ended) {
                (k, None, false) if k > 0 => {
                    let s = if k == 1 { "" } else { "s" };
                    crate::tr!(
                        "client {m} sent a message while {waiting}; {seen}: the server serves only {k} client{s} at a time",
                        "第 {m} 个客户端发送了一条消息，这时{waiting}；{seen}：服务端一次只能服务 {k} 个客户端"
                    )
                }
                (0, _, _) => crate::tr!(
                    "the first client sent a message; {seen}",
                    "第一个客户端发送了一条消息；{seen}"
                ),
                _ => crate::tr!(
                    "client {m} sent a message while {waiting}; {seen}",
                    "第 {m} 个客户端发送了一条消息，这时{waiting}；{seen}"
                ),
            });
        }
        if n < SILENT_CLIENTS {
            silent.push(conn);
        }
    }
    Ok(())
}

/// Sends one message, waits for a reply (any bytes), closes.
pub(crate) fn converse(ctx: &Ctx, port: u16, message: &[u8]) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    run::send(&mut conn, message)?;
    let (reply, _) = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(5)),
        Duration::from_millis(100),
        1 << 16,
    );
    if reply.is_empty() {
        return Err(tr("no reply within 5 s", "5 秒内没有收到回复").to_owned());
    }
    Ok(())
}

/// Starts the program, waits for it to listen, runs `check` against it and
/// records the result for check `id`.
pub(crate) fn with_server(
    ctx: &Ctx,
    rec: &mut Recorder,
    id: &str,
    check: impl FnOnce(&Ctx, u16, &mut Program) -> Result<(), String>,
) {
    with_server_in(ctx, rec, id, None, check);
}

/// [`with_server`], with the program started in `mode`. Returns whether
/// the program listened.
pub(crate) fn with_server_in(
    ctx: &Ctx,
    rec: &mut Recorder,
    id: &str,
    mode: Option<&str>,
    check: impl FnOnce(&Ctx, u16, &mut Program) -> Result<(), String>,
) -> bool {
    rec.start();
    if ctx.out_of_time() {
        return false;
    }
    let (mut program, port) = match ctx.start_server(mode) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail(id, err, program.as_ref());
            return false;
        }
    };
    let result = check(ctx, port, &mut program);
    let result = result.map_err(|err| ended_during(&mut program, err));
    ctx.stop(&mut program);
    rec.record(id, result, Some(&program));
    true
}

/// `err`, a check's reason, preceded by "the program ended (its status)
/// during the check" when it did (and the reason does not say so already).
/// A server that is dying may not have ended yet on a busy machine: a
/// moment's wait lets the reason say that it ended.
pub(crate) fn ended_during(program: &mut Program, err: String) -> String {
    let said = [
        tr("the server ended", "服务端结束了"),
        tr("the program ended", "程序结束了"),
    ];
    match program.wait(Duration::from_secs(1)).zip(program.ending()) {
        Some((status, Ending::ByItself(_))) if !said.iter().any(|s| err.contains(s)) => {
            let status = describe_status(status);
            crate::tr!(
                "the program ended ({status}) during the check: {err}",
                "检查进行中程序结束了（{status}）：{err}"
            )
        }
        _ => err,
    }
}

fn many_clients(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    pingpong(ctx, port, 50, 20)
}

/// `clients` clients at once, `messages` messages each (`客户端C消息M`):
/// every reply must be `ok, 收到了` in GBK.
pub(crate) fn pingpong(
    ctx: &Ctx,
    port: u16,
    clients: usize,
    messages: usize,
) -> Result<(), String> {
    let mut run = PingPong::new(SocketAddr::from(([127, 0, 0, 1], port)), clients, messages);
    // This check is about the replies, not about concurrency (`concurrent`
    // is): a client may wait for its turn, as it does at a server that
    // serves one client at a time on a busy machine, as long as the whole
    // run ends within the deadline.
    run.deadline = ctx.timeout(Duration::from_secs(30));
    run.io_timeout = run.deadline;
    let report = run.run(
        |c, m| gbk(&format!("客户端{c}消息{m}")),
        &gbk(THREADED_REPLY),
    );
    if report.all_ok() {
        return Ok(());
    }
    let first = &report.failures[0];
    let at = match first.message {
        None => tr("connecting", "连接").to_owned(),
        Some(m) => {
            let m = m + 1;
            crate::tr!("message {m}", "发送第 {m} 条消息")
        }
    };
    let (failed, client, reason) = (
        clients - report.completed,
        first.client + 1,
        pingpong_reason(first),
    );
    Err(crate::tr!(
        "{failed} of {clients} clients failed; the first, client {client}, at {at}: {reason}",
        "{clients} 个客户端中有 {failed} 个失败；第一个是第 {client} 个客户端，在{at}时：{reason}"
    ))
}

/// What went wrong for one of `many-clients`' clients, in the grading's
/// language: loadgen says it in English; in Chinese it is said again from
/// the fault's data, the bytes shown as [`show_bytes`] shows them.
fn pingpong_reason(failure: &Failure) -> String {
    if crate::i18n::current() == crate::i18n::Lang::En {
        return failure.reason.clone();
    }
    fault_zh(&failure.fault)
}

/// A client's fault, in Chinese (loadgen says it in English).
pub(crate) fn fault_zh(fault: &Fault) -> String {
    match fault {
        Fault::Connect(err) => format!("无法连接：{err}"),
        Fault::Deadline => "整次运行的期限已过".to_owned(),
        Fault::Send(err) => format!("无法发送：{err}"),
        Fault::Closed { got, expected } => {
            format!("服务端在回复的 {expected} 个字节中只发来 {got} 个之后，就关闭了连接")
        }
        Fault::NoReply => "在时限内没有收到回复".to_owned(),
        Fault::Partial { got, expected } => format!(
            "回复不对：收到 {}（{} 个字节）之后，直到超时再也没有数据，应为 {}（{} 个字节）",
            show_bytes(got),
            got.len(),
            show_bytes(expected),
            expected.len()
        ),
        Fault::Receive(err) => format!("无法接收：{err}"),
        Fault::Wrong { got, expected } => format!(
            "回复不对：收到 {}，应为 {}",
            show_bytes(got),
            show_bytes(expected)
        ),
        Fault::Thread(err) => format!("无法启动客户端线程：{err}"),
    }
}

/// `survives-reset` (lessons 05, 08 and 09): a client talks, sends half a
/// character and resets its connection; the next client must be served.
pub(crate) fn survives_reset(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    next_after(ctx, port, true, 1)
}

/// `clients` clients, one after another, talk, then close (or reset); the
/// next client must be served. Lesson 07 resets more clients than the
/// lesson's pool has workers: a worker that a reset kills is lost for good.
pub(crate) fn next_after(
    ctx: &Ctx,
    port: u16,
    with_reset: bool,
    clients: usize,
) -> Result<(), String> {
    for _ in 0..clients {
        let mut first = ctx.connect(port)?;
        run::send(&mut first, &gbk(FIRST_MESSAGE))?;
        let _ = run::read_message(
            &mut first,
            ctx.timeout(Duration::from_secs(3)),
            Duration::from_millis(100),
            1 << 16,
        );
        if with_reset {
            // Half a character, then a reset: the rudest way to leave. Wait
            // for the server to answer the half character first, so that
            // the reset finds it waiting in recv (not in send), where a
            // server that does not handle errors dies of it.
            run::send(&mut first, b"\xc4")?;
            let _ = run::read_message(
                &mut first,
                ctx.timeout(Duration::from_millis(500)),
                Duration::from_millis(100),
                1 << 16,
            );
            reset(first);
        } else {
            drop(first);
        }
    }
    thread::sleep(Duration::from_millis(200));
    let how = match (with_reset, clients) {
        (true, 1) => tr("a client reset its connection", "一个客户端重置了连接").to_owned(),
        (false, 1) => tr("a client closed its connection", "一个客户端关闭了连接").to_owned(),
        (true, n) => crate::tr!(
            "{n} clients, one after another, reset their connections",
            "{n} 个客户端一个接一个地重置了连接"
        ),
        (false, n) => crate::tr!(
            "{n} clients, one after another, closed their connections",
            "{n} 个客户端一个接一个地关闭了连接"
        ),
    };
    let mut next = ctx
        .connect(port)
        .map_err(|err| crate::tr!("after {how}: {err}", "{how}之后：{err}"))?;
    ask(ctx, &mut next, &gbk(SECOND_MESSAGE)).map_err(|err| {
        crate::tr!(
            "after {how}, the next client: {err}",
            "{how}之后，下一个客户端：{err}"
        )
    })
}

/// Sends `message` and waits for a reply (any bytes: these checks are
/// about the conversation going on; `many-clients` checks the words).
fn ask(ctx: &Ctx, conn: &mut TcpStream, message: &[u8]) -> Result<(), String> {
    run::send(conn, message)?;
    let (reply, ended) = run::read_message(
        conn,
        ctx.timeout(Duration::from_secs(5)),
        Duration::from_millis(100),
        1 << 16,
    );
    if reply.is_empty() {
        return Err(if ended {
            tr("the connection was closed", "连接被关闭了").to_owned()
        } else {
            tr("no reply within 5 s", "5 秒内没有收到回复").to_owned()
        });
    }
    Ok(())
}

/// 你好 with 你 (c4 e3) split across two sends, 0.3 s apart: the server
/// must print 你好 whole, which only a decoder that keeps half a character
/// for the next `recv` does; and the conversation must go on. A server
/// that prints no messages at all has lost `prints-messages` for that:
/// here only the conversation is checked then.
pub(crate) fn split_character(
    ctx: &Ctx,
    port: u16,
    program: &mut Program,
    prints: bool,
) -> Result<(), String> {
    let what = tr(
        "你好 arrived in two pieces, b'\\xc4' and 0.3 秒 later b'\\xe3\\xba\\xc3',",
        "收到分成两块发来的“你好”（b'\\xc4'，0.3 秒后再发 b'\\xe3\\xba\\xc3'）",
    );
    goes_on_after(ctx, port, &[b"\xc4", b"\xe3\xba\xc3"], what)?;
    if !prints {
        return Ok(());
    }
    // Output is read once the program has ended (and flushed).
    ctx.stop(program);
    if run::printed(program, "你好") {
        Ok(())
    } else {
        Err(crate::tr!(
            "{what} and the conversation went on, but neither stdout nor stderr holds 你好 whole",
            "{what}，对话也继续了下去，但 stdout 和 stderr 里都没有完整的 你好"
        ))
    }
}

/// Bytes that are not GBK, then a normal message on the same connection.
pub(crate) fn invalid_gbk(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    goes_on_after(
        ctx,
        port,
        &[b"\xff\xfe"],
        tr(
            "the bytes b'\\xff\\xfe', which are not GBK,",
            "收到不是 GBK 的字节 b'\\xff\\xfe'",
        ),
    )
}

/// Sends `pieces` on one connection (0.3 s apart), expects at least one
/// reply, then checks that a normal message on the same connection is
/// still answered: the conversation went on. `what` says what was sent,
/// in the grading's language, so that "after {what}" ("{what}之后")
/// reads on.
fn goes_on_after(ctx: &Ctx, port: u16, pieces: &[&[u8]], what: &str) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(300));
        }
        run::send(&mut conn, piece)?;
    }
    // One reply per recv: there may be several; take them all.
    let (replies, ended) = run::read_message(
        &mut conn,
        ctx.timeout(Duration::from_secs(3)),
        Duration::from_millis(300),
        1 << 16,
    );
    if replies.is_empty() {
        return Err(if ended {
            crate::tr!(
                "after {what} the server closed the connection without a reply",
                "{what}之后，服务端没有回复就关闭了连接"
            )
        } else {
            crate::tr!(
                "after {what} the server sent no reply within 3 s",
                "{what}之后，服务端在 3 秒内没有回复"
            )
        });
    }
    ask(ctx, &mut conn, &gbk("第二条消息")).map_err(|err| {
        let replies = show_bytes(&replies);
        crate::tr!(
            "after {what} and the reply {replies}, the next message on the same connection: {err}",
            "{what}，服务端回复了 {replies}，之后同一连接上的下一条消息：{err}"
        )
    })
}
