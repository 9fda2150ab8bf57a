//! Lesson 08: the student's program is an event loop, one thread serving
//! every client, in two modes: `reply` (lesson 05's conversation) and
//! `echo` (every byte sent back). The grader holds a thousand clients at
//! once (every message answered once, nothing more), counts the program's
//! threads as clients come, watches its CPU while it has nothing to do,
//! echoes megabytes through it to a client that reads slowly, floods it
//! from a client that does not read (and then reads every byte back), and
//! resets a connection.
//!
//! Lesson 09 (tokio) is graded with the same checks ([`event_loop`]), but
//! for the thread count's wording, plus its slow request.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use loadgen::bulk::{pattern, sha256_hex};

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::Program;
use crate::tr;

use super::crowd::{
    self, EXTRA_WAIT, Pacer, ask_all, busy_loop, fault_text, mib, nothing_more, open_file_room,
};
use super::gbk;
use super::l05::{
    converse, ended_during, invalid_gbk, split_character, survives_reset, with_server_in,
};
use super::show_bytes;

/// Lesson 08's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-08",
    title: Text::new(
        "an event loop: one thread serves every client",
        "事件循环：一个线程服务所有客户端",
    ),
    modes: MODES,
    checks: &[
        core(
            "listens",
            1,
            Text::new(
                "in reply mode, listens on the port it is given",
                "在 reply 模式下，在给定的端口上监听",
            ),
            Text::new(
                "bind and listen on the port the grader gives, and take the mode, reply or echo, from {mode} (or MODE) (see lessons/lesson-08/README.md#1-listen-and-make-the-socket-non-blocking)",
                "在评分程序给出的端口上绑定并监听，并从 {mode}（或 MODE）读取模式：reply 或 echo（见 lessons/lesson-08/README.zh-CN.md#1-监听并把套接字设为非阻塞）",
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
                "print each message decoded from GBK, with one decoder per connection, on stdout or stderr (see lessons/lesson-08/README.md#6-read-until-wouldblock)",
                "把每条消息按 GBK 解码后打印到 stdout 或 stderr，每个连接一个解码器（见 lessons/lesson-08/README.zh-CN.md#6-一直读到-wouldblock）",
            ),
        ),
        core(
            "many-clients",
            3,
            Text::new(
                "1000 clients connected at once, each sending twice: every message gets one reply, ok, 收到了 in GBK, and nothing more",
                "同时连着 1000 个客户端，每个发送两次：每条消息都得到一条回复，即 GBK 编码的 ok, 收到了，再没有别的",
            ),
            Text::new(
                "each time the listening socket is ready, accept every client waiting (until accept says EWOULDBLOCK), answer each message once, with exactly ok, 收到了 in GBK, and hold a thousand sockets (raise the open-file limit, RLIMIT_NOFILE, where it is 1024). Python: selectors or asyncio; C: epoll; Java: a Selector; Node.js: net (see lessons/lesson-08/README.md#4-accept-everyone-waiting)",
                "每次监听套接字就绪时，把所有在等待的客户端都 accept 进来（直到 accept 返回 EWOULDBLOCK），对每条消息只回复一次，而且恰好是 GBK 编码的 ok, 收到了，并且能同时持有一千个套接字（打开文件数上限 RLIMIT_NOFILE 为 1024 时要调高）。Python：selectors 或 asyncio；C：epoll；Java：Selector；Node.js：net（见 lessons/lesson-08/README.zh-CN.md#4-接受所有在等待的客户端）",
            ),
        ),
        core(
            "one-thread",
            2,
            Text::new(
                "one thread (or a few, fixed) serves every client: from before the first client to 300 connected, at most 16 threads more",
                "一个线程（或者固定的几个）服务所有客户端：从第一个客户端连上来之前到连着 300 个，线程最多多出 16 个",
            ),
            Text::new(
                "serve every client from one event loop: non-blocking sockets and one wait for readiness (select, epoll, a Java Selector, asyncio, Node.js's net), not a thread per client (see lessons/lesson-08/README.md#threads-or-one-loop-lessons-05-07-and-08)",
                "用一个事件循环服务所有客户端：非阻塞套接字，加上一处等待就绪的地方（select、epoll、Java 的 Selector、asyncio、Node.js 的 net），而不是每个客户端一个线程（见 lessons/lesson-08/README.zh-CN.md#线程还是一个循环第-05第-07-和第-08-课）",
            ),
        ),
        core(
            "no-busy-loop",
            2,
            Text::new(
                "with 20 clients connected and silent, it uses next to no CPU for 2 s: it sleeps until a socket is ready",
                "连着 20 个不说话的客户端时，它在 2 秒里几乎不占用 CPU：它一直睡到有套接字就绪",
            ),
            Text::new(
                "wait for readiness with no timeout (select, epoll_wait, poll: None or -1) and never poll sockets in a loop (a timeout of 0, recv in a loop catching EWOULDBLOCK); ask for WRITABLE (EPOLLOUT) only while output waits, since an idle socket is always writable (see lessons/lesson-08/README.md#edge--and-level-triggered-readiness)",
                "等待就绪时不要设超时（select、epoll_wait、poll：None 或 -1），决不要在循环里轮询套接字（超时为 0，或者循环调用 recv 并捕获 EWOULDBLOCK）；只在有数据等着发送时才关注 WRITABLE（EPOLLOUT），因为空闲的套接字总是可写的（见 lessons/lesson-08/README.zh-CN.md#边缘触发与水平触发）",
            ),
        ),
        core(
            "slow-reader",
            3,
            Text::new(
                "in echo mode, 4 to 8 MiB (a different size every run) echoed to a client that reads slowly come back whole and in order (SHA-256)",
                "在 echo 模式下，回显给一个读得很慢的客户端的 4 到 8 MiB 数据（每次运行大小都不同）完整、按顺序地回来（SHA-256）",
            ),
            Text::new(
                "send() on a non-blocking socket may take only part: keep the rest in the connection's buffer, ask for WRITABLE, and send it when the socket is writable; when the client closes its side, send what it is still owed, then close (see lessons/lesson-08/README.md#7-send-what-fits-the-rest-waits-for-writable)",
                "非阻塞套接字上的 send() 可能只发出一部分：把剩下的留在这个连接的缓冲区里，关注 WRITABLE，等套接字可写时再发；客户端关闭它那一端时，先把还欠它的数据发完，再关闭（见 lessons/lesson-08/README.zh-CN.md#7-能发多少发多少剩下的等-writable）",
            ),
        ),
        robust(
            "never-reads",
            2,
            Text::new(
                "in echo mode, a client that sends 64 MiB and reads nothing neither stops the others, nor makes the server's memory grow, nor keeps it busy; when it reads at last, every byte the server took comes back, in order",
                "在 echo 模式下，一个发送 64 MiB 却什么也不读的客户端，既不会让别的客户端停下，也不会让服务端的内存增长或者忙个不停；等它终于读取时，服务端收下的每个字节都按顺序回来",
            ),
            Text::new(
                "never wait for one client: sends are non-blocking, and what does not fit stays in its buffer until the socket is WRITABLE (do not come back to it before: that spins); once that buffer holds a limit (256 KiB, say), stop reading from that client until it drains (backpressure), so that TCP holds the rest back in the client; never throw away what was read: each byte is echoed once, in order (see lessons/lesson-08/README.md#6-read-until-wouldblock)",
                "决不要为一个客户端等待：send 是非阻塞的，发不出去的部分留在它的缓冲区里，直到套接字 WRITABLE（在那之前不要回头再试：那会空转）；一旦这个缓冲区达到上限（比如 256 KiB），就停止从这个客户端读取，直到缓冲区发空（背压），让 TCP 把其余的数据挡在客户端那边；决不要丢掉读到的数据：每个字节都按顺序回显一次（见 lessons/lesson-08/README.zh-CN.md#6-一直读到-wouldblock）",
            ),
        ),
        robust(
            "survives-reset",
            1,
            Text::new(
                "after a client resets its connection, the next client is served: the loop goes on",
                "一个客户端重置（RST）了连接之后，下一个客户端仍能得到服务：循环还在继续",
            ),
            Text::new(
                "an error on one client's socket (recv or send failing with ECONNRESET or EPIPE: the client reset its connection) ends that client only: close its socket, forget its state and go on with the loop; an exception that escapes one client's turn ends the loop, and every client with it; Python: except OSError (ConnectionResetError is one) around recv and send (see lessons/lesson-08/README.md#6-read-until-wouldblock)",
                "一个客户端套接字上的错误（recv 或 send 因 ECONNRESET 或 EPIPE 失败：客户端重置了连接）只结束这一个客户端：关闭它的套接字，丢掉它的状态，然后继续循环；从一个客户端的处理中逃出来的异常会结束整个循环，所有客户端都跟着完了；Python：在 recv 和 send 外面 except OSError（ConnectionResetError 就是一种 OSError）（见 lessons/lesson-08/README.zh-CN.md#6-一直读到-wouldblock）",
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
                "decode with one incremental decoder per connection, kept with the connection's state from one event to the next, which keeps half a character for the next recv; Python: codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\"); Node.js: new TextDecoder(\"gbk\") with {stream: true} (see lessons/lesson-08/README.md#5-a-connections-turn)",
                "每个连接用一个增量解码器来解码，它和连接的状态放在一起，从一个事件保留到下一个事件，会把半个字符留到下一次 recv；Python：codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\")；Node.js：new TextDecoder(\"gbk\") 配合 {stream: true}（见 lessons/lesson-08/README.zh-CN.md#5-一个连接的一轮处理）",
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
                "decode with errors replaced: in an event loop, an exception that escapes one client's turn ends the loop, and every client with it; Python: errors=\"replace\" (see lessons/lesson-08/README.md#6-read-until-wouldblock)",
                "解码时替换无效的字节：在事件循环里，从一个客户端的处理中逃出来的异常会结束整个循环，所有客户端都跟着完了；Python：errors=\"replace\"（见 lessons/lesson-08/README.zh-CN.md#6-一直读到-wouldblock）",
            ),
        ),
    ],
    grade,
};

/// The modes lessons 08 and 09 run the program in.
pub(crate) const MODES: &[&str] = &["reply", "echo"];

/// "ok, 收到了": the reply to every message.
const REPLY: &str = "ok, 收到了";
const FIRST_MESSAGE: &str = "我是客户端1";
/// Clients of `many-clients`, all connected at once.
const CROWD: usize = 1000;
/// Clients connected and silent while `no-busy-loop` watches.
const IDLE_CLIENTS: usize = 20;
/// How long `no-busy-loop` watches.
const IDLE_WINDOW: Duration = Duration::from_secs(2);
/// What `never-reads`' client sends at most, reading nothing.
const FLOOD: u64 = 64 << 20;
/// How much the server's resident memory may grow meanwhile: a few
/// buffers' worth, never the flood.
const FLOOD_MEMORY: u64 = 32 << 20;
/// What another client has echoed beside the flood.
const BESIDE: usize = 1 << 20;
/// What the flooding client sends over and over: the course's pattern, a
/// whole number of its periods (251 bytes), so that byte `i` of the flood
/// is `i % 251` however the writes fall, and a byte lost, repeated or out
/// of order shows where.
const FLOOD_CHUNK: usize = 251 * 261;

/// What lessons 08 and 09 say differently in the checks they share.
pub(crate) struct Design {
    /// The id of the thread check: `one-thread`, `bounded-threads`.
    pub(crate) threads_check: &'static str,
    /// What the lesson's design keeps instead of a thread per client: the
    /// end of the thread check's reason.
    pub(crate) keeps: Text,
}

const DESIGN: Design = Design {
    threads_check: "one-thread",
    keeps: Text::new(
        "an event loop serves every client from one thread",
        "事件循环用一个线程服务所有客户端",
    ),
};

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    if event_loop(ctx, &mut rec, &DESIGN) {
        echo_checks(ctx, &mut rec);
        conversation_checks(ctx, &mut rec);
    }
    rec.finish()
}

/// The reply-mode checks of lessons 08 and 09: `listens`, `no-busy-loop`
/// and `prints-messages` in one run, then `many-clients` and the thread
/// check each in a run of its own. Returns whether the program listened
/// (when it did not, every other check is failed as not checked).
pub(crate) fn event_loop(ctx: &Ctx, rec: &mut Recorder, design: &Design) -> bool {
    if !first_run(ctx, rec) {
        let mut rest = vec![
            "many-clients",
            design.threads_check,
            "slow-reader",
            "never-reads",
            "survives-reset",
            "split-character",
            "invalid-gbk",
        ];
        if rec_has(rec, "slow-request") {
            rest.push("slow-request");
        }
        rec.fail_rest(
            &rest,
            &tr!(
                "the program never listened in reply mode",
                "程序在 reply 模式下始终没有监听"
            ),
        );
        return false;
    }
    with_server_in(ctx, rec, "many-clients", Some("reply"), |ctx, port, _| {
        many_clients(ctx, port)
    });
    let keeps = design.keeps.tr();
    with_server_in(
        ctx,
        rec,
        design.threads_check,
        Some("reply"),
        |ctx, port, program| crowd::thread_growth(ctx, port, program, keeps),
    );
    true
}

/// `survives-reset`, `split-character` and `invalid-gbk` (lesson 05's), in
/// reply mode, each in a run of its own.
pub(crate) fn conversation_checks(ctx: &Ctx, rec: &mut Recorder) {
    with_server_in(ctx, rec, "survives-reset", Some("reply"), survives_reset);
    let prints = rec.passed("prints-messages");
    with_server_in(
        ctx,
        rec,
        "split-character",
        Some("reply"),
        |ctx, port, program| split_character(ctx, port, program, prints),
    );
    with_server_in(ctx, rec, "invalid-gbk", Some("reply"), invalid_gbk);
}

/// Whether the lesson being graded has check `id`.
fn rec_has(rec: &Recorder, id: &str) -> bool {
    rec.lesson().check(id).is_some()
}

/// The echo-mode checks of lessons 08 and 09, each in a run of its own:
/// `slow-reader`, then `never-reads`.
pub(crate) fn echo_checks(ctx: &Ctx, rec: &mut Recorder) {
    let listened = with_server_in(ctx, rec, "slow-reader", Some("echo"), |ctx, port, _| {
        slow_reader(ctx, port)
    });
    if !listened {
        return rec.fail_rest(
            &["never-reads"],
            &tr!(
                "the program never listened in echo mode",
                "程序在 echo 模式下始终没有监听"
            ),
        );
    }
    // Whether the program sleeps when idle with no output waiting: only
    // then is its CPU watched while a client's output waits (a program
    // that always spins has lost `no-busy-loop` for it already).
    let sleeps = rec.passed("no-busy-loop");
    // Whether the program echoes every byte to a client that reads
    // slowly: only then is the flood's echo read back (a program that
    // loses bytes has lost `slow-reader` for it already).
    let whole = rec.passed("slow-reader");
    with_server_in(
        ctx,
        rec,
        "never-reads",
        Some("echo"),
        |ctx, port, program| never_reads(ctx, port, program, sleeps, whole),
    );
}

/// Listens; a client talks and leaves; 20 clients talk once and stay
/// silent while the grader watches the program's CPU; finally the output
/// must show the first message. Returns whether the program listened.
fn first_run(ctx: &Ctx, rec: &mut Recorder) -> bool {
    let (mut program, port) = match ctx.start_server(Some("reply")) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("listens", err, program.as_ref());
            rec.fail_rest(
                &["prints-messages", "no-busy-loop"],
                &tr!(
                    "the program never listened in reply mode",
                    "程序在 reply 模式下始终没有监听"
                ),
            );
            return false;
        }
    };
    rec.pass("listens");
    let talked = converse(ctx, port, &gbk(FIRST_MESSAGE));
    rec.start();
    let idle = no_busy_loop(ctx, port, &mut program).map_err(|err| ended_during(&mut program, err));
    ctx.stop(&mut program);
    rec.record("no-busy-loop", idle, Some(&program));
    let printed = run::printed_message(&program, talked, FIRST_MESSAGE);
    rec.record("prints-messages", printed, Some(&program));
    true
}

/// [`IDLE_CLIENTS`] clients connect, each talks once (a reply is welcome,
/// not required: the conversation is `many-clients`' to check) and stays
/// silent; after a moment for the server to finish, the grader watches
/// its CPU for [`IDLE_WINDOW`].
fn no_busy_loop(ctx: &Ctx, port: u16, program: &mut Program) -> Result<(), String> {
    let mut pacer = Pacer::new(port);
    let mut silent = Vec::with_capacity(IDLE_CLIENTS);
    for n in 1..=IDLE_CLIENTS {
        let Ok(mut conn) = pacer.connect(ctx, ctx.timeout(Duration::from_secs(5))) else {
            break;
        };
        if run::send(&mut conn, &gbk(&format!("安静的客户端{n}"))).is_ok() {
            let _ = run::read_message(
                &mut conn,
                ctx.timeout(Duration::from_secs(2)),
                Duration::from_millis(20),
                1 << 16,
            );
        }
        silent.push(conn);
    }
    thread::sleep(Duration::from_millis(500));
    let clients = silent.len();
    let busy = busy_loop(program, IDLE_WINDOW);
    if let Some(status) = program.exited() {
        // A program that ended uses no CPU: that is no pass.
        let status = crate::sandbox::describe_status(status);
        return Err(tr!(
            "the program ended ({status}) with {clients} clients connected",
            "有 {clients} 个客户端连着时，程序结束了（{status}）"
        ));
    }
    match busy {
        None => Ok(()),
        Some(seen) => Err(tr!(
            "with {clients} clients connected and silent, and nothing sent or received, {seen}: a busy loop",
            "连着 {clients} 个不说话的客户端、没有任何收发时，{seen}：这是忙循环"
        )),
    }
}

/// A thousand clients connect (paced, so that no listen queue overflows)
/// and stay; then each sends a message, all of them before any reply is
/// read, and every reply is checked, and then that nothing more came (a
/// reply sent twice); twice.
fn many_clients(ctx: &Ctx, port: u16) -> Result<(), String> {
    let total = open_file_room(CROWD);
    let mut pacer = Pacer::new(port);
    let mut clients: Vec<TcpStream> = Vec::with_capacity(total);
    while clients.len() < total {
        match pacer.connect(ctx, ctx.timeout(Duration::from_secs(5))) {
            Ok(conn) => clients.push(conn),
            Err(err) => {
                let (k, m) = (clients.len(), clients.len() + 1);
                let waiting = proctools::tcp::accept_queue(port).unwrap_or(0);
                let stalled = if pacer.stalled && waiting > 0 {
                    tr!(
                        " ({waiting} connections were waiting in the server's listen queue: it had stopped accepting)",
                        "（服务端的监听队列里有 {waiting} 个连接在等待：它已经不再 accept 了）"
                    )
                } else {
                    String::new()
                };
                return Err(tr!(
                    "with {k} clients connected, client {m}: {err}{stalled}",
                    "连着 {k} 个客户端时，第 {m} 个客户端：{err}{stalled}"
                ));
            }
        }
    }
    let reply = gbk(REPLY);
    for round in 1..=2 {
        ask_all(
            &mut clients,
            |i| gbk(&format!("客户端{}消息{round}", i + 1)),
            &reply,
            ctx.timeout(Duration::from_secs(30)),
        )
        .map_err(|(failed, client, fault)| {
            let fault = fault_text(&fault);
            tr!(
                "{total} clients connected at once, each sent message {round}; {failed} of them did not get the reply ok, 收到了 in GBK; the first, client {client}: {fault}",
                "同时连着 {total} 个客户端，每个都发送了第 {round} 条消息；其中 {failed} 个没有收到 GBK 编码的回复 ok, 收到了；第一个是第 {client} 个客户端：{fault}"
            )
        })?;
        nothing_more(&mut clients).map_err(|(count, client, extra)| {
            let (wait, extra) = (EXTRA_WAIT.as_secs_f64(), show_bytes(&extra));
            tr!(
                "{total} clients connected at once, each sent message {round} and got the reply ok, 收到了 in GBK; then, within {wait:.1} s, {count} of them got more bytes, which no message asked for; the first, client {client}: {extra} (each message is answered once)",
                "同时连着 {total} 个客户端，每个都发送了第 {round} 条消息，并收到了 GBK 编码的回复 ok, 收到了；之后 {wait:.1} 秒内，其中 {count} 个又收到了没有哪条消息要求的字节；第一个是第 {client} 个客户端：{extra}（每条消息只回复一次）"
            )
        })?;
    }
    Ok(())
}

/// A size for this run between `min` and `min + span` bytes, never a
/// multiple of 1024.
fn uneven_size(min: usize, span: usize) -> usize {
    let size = min + (run::random_u64() as usize) % span;
    if size.is_multiple_of(1024) {
        size + 1
    } else {
        size
    }
}

/// Connects to loopback `port` with a receive buffer of `recv_buffer`
/// bytes, set before connecting so that TCP's window follows it: the
/// server's sends to this client come back partial soon.
fn connect_small_window(ctx: &Ctx, port: u16, recv_buffer: usize) -> Result<TcpStream, String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let socket =
        Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).map_err(|e| e.to_string())?;
    let _ = socket.set_recv_buffer_size(recv_buffer);
    socket
        .connect_timeout(&addr.into(), ctx.timeout(Duration::from_secs(5)))
        .map_err(|err| tr!("cannot connect to {addr}: {err}", "无法连接 {addr}：{err}"))?;
    Ok(socket.into())
}

/// Sends `total` bytes on `conn` from a thread of its own: `data` over
/// and over, in writes of at most 64 KiB, until all is sent or `stop` is
/// set; then ends its side (when `finish`). Counts what the kernel took in
/// `sent`.
fn sender(
    conn: &TcpStream,
    data: Arc<Vec<u8>>,
    total: u64,
    finish: bool,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> Result<thread::JoinHandle<()>, String> {
    let mut writer = conn.try_clone().map_err(|e| e.to_string())?;
    let _ = writer.set_write_timeout(Some(Duration::from_millis(200)));
    Ok(thread::spawn(move || {
        let mut at: u64 = 0;
        while at < total && !data.is_empty() && !stop.load(Ordering::SeqCst) {
            let offset = (at % data.len() as u64) as usize;
            let left = usize::try_from(total - at).unwrap_or(usize::MAX);
            let end = data.len().min(offset + (64 * 1024).min(left));
            match writer.write(&data[offset..end]) {
                Ok(n) => {
                    at += n as u64;
                    sent.fetch_add(n as u64, Ordering::SeqCst);
                }
                Err(err) if loadgen::pingpong::is_timeout(&err) => {}
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
        if finish && at == total {
            let _ = writer.shutdown(Shutdown::Write);
        }
    }))
}

/// What came back of an echo.
struct Echoed {
    bytes: Vec<u8>,
    /// The server closed the connection (or reset it).
    ended: bool,
}

/// Reads `conn` until `expected` bytes came, the stream ends, nothing came
/// for `quiet`, or `limit` passed; pausing `pause` after each read of up to
/// 16 KiB (a slow reader). `sample` is called now and then (the server's
/// memory).
fn read_echo(
    conn: &mut TcpStream,
    expected: usize,
    pause: Duration,
    quiet: Duration,
    limit: Duration,
    mut sample: impl FnMut(),
) -> Echoed {
    let deadline = Instant::now() + limit;
    let mut bytes = Vec::with_capacity(expected);
    let mut buffer = vec![0u8; 16 * 1024];
    let (mut last, mut sampled) = (Instant::now(), Instant::now());
    let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
    while bytes.len() < expected && Instant::now() < deadline && last.elapsed() < quiet {
        match conn.read(&mut buffer) {
            Ok(0) => return Echoed { bytes, ended: true },
            Ok(n) => {
                bytes.extend_from_slice(&buffer[..n]);
                last = Instant::now();
                if !pause.is_zero() {
                    thread::sleep(pause);
                }
            }
            Err(err) if loadgen::pingpong::is_timeout(&err) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Echoed { bytes, ended: true },
        }
        if sampled.elapsed() >= Duration::from_millis(50) {
            sample();
            sampled = Instant::now();
        }
    }
    Echoed {
        bytes,
        ended: false,
    }
}

/// Echo mode: a client with a small receive window sends 4 to 8 MiB and
/// reads the echo slowly, from its start (the server's sends then come back
/// partial, and its output backs up); then ends its side. Every byte must
/// come back, in order.
fn slow_reader(ctx: &Ctx, port: u16) -> Result<(), String> {
    let size = uneven_size(4 << 20, 4 << 20);
    let data = Arc::new(pattern(size));
    let mut conn = connect_small_window(ctx, port, 32 * 1024)?;
    let (stop, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let handle = sender(
        &conn,
        Arc::clone(&data),
        size as u64,
        true,
        Arc::clone(&stop),
        Arc::clone(&sent),
    )?;
    let quiet = ctx.timeout(Duration::from_secs(5));
    let echoed = read_echo(
        &mut conn,
        size,
        Duration::from_millis(1),
        quiet,
        ctx.timeout(Duration::from_secs(60)),
        || {},
    );
    stop.store(true, Ordering::SeqCst);
    let _ = conn.shutdown(Shutdown::Both);
    let _ = handle.join();
    let (got, sent) = (echoed.bytes.len(), sent.load(Ordering::SeqCst));
    let quiet = quiet.as_secs_f64();
    if got < size {
        let then = if echoed.ended {
            tr!(
                "then the server closed the connection",
                "然后服务端关闭了连接"
            )
        } else {
            tr!(
                "then nothing for {quiet:.1} s",
                "然后 {quiet:.1} 秒内再也没有数据"
            )
        };
        let took = if sent < size as u64 {
            tr!(
                " (the server had taken {sent} of them)",
                "（服务端收下了其中的 {sent} 个）"
            )
        } else {
            String::new()
        };
        return Err(tr!(
            "a client sent {size} bytes{took}, reading the echo slowly: {got} came back, {then}",
            "一个客户端发送了 {size} 个字节{took}，并慢慢地读取回显：回来了 {got} 个，{then}"
        ));
    }
    if got > size {
        return Err(tr!(
            "a client sent {size} bytes: {got} came back",
            "一个客户端发送了 {size} 个字节：回来了 {got} 个"
        ));
    }
    let (came, expected) = (sha256_hex(&echoed.bytes), sha256_hex(&data));
    if came != expected {
        let at = echoed
            .bytes
            .iter()
            .zip(data.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(tr!(
            "a client sent {size} bytes and {size} came back, but not the same: SHA-256 {came}, sent {expected}; the first difference is at byte {at}",
            "一个客户端发送了 {size} 个字节，也回来了 {size} 个，但内容不一样：SHA-256 为 {came}，发送的是 {expected}；第一处不同在第 {at} 个字节"
        ));
    }
    Ok(())
}

/// Echo mode: a client sends up to [`FLOOD`] and reads nothing, until the
/// server stops taking it (nothing more goes for 2 s); meanwhile the
/// server's resident memory is sampled. Then another client's echo of
/// [`BESIDE`] must come back whole, and the memory must not have grown by
/// more than [`FLOOD_MEMORY`]. Last (when `whole`: the program passed
/// `slow-reader`), the flooding client stops sending and reads: every byte
/// its kernel took must come back, in order ([`flood_echo`]): a server
/// that threw bytes away to keep its memory flat, instead of no longer
/// reading them, is caught there.
fn never_reads(
    ctx: &Ctx,
    port: u16,
    program: &mut Program,
    watch: bool,
    whole: bool,
) -> Result<(), String> {
    let before = program.resident_bytes();
    let mut peak = before.unwrap_or(0);
    let sample = |peak: &mut u64| {
        if let Some(now) = program.resident_bytes() {
            *peak = (*peak).max(now);
        }
    };
    let mut flooder = ctx.connect(port)?;
    let (stop, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let flood = sender(
        &flooder,
        Arc::new(pattern(FLOOD_CHUNK)),
        FLOOD,
        false,
        Arc::clone(&stop),
        Arc::clone(&sent),
    )?;
    // Until the whole flood is taken, or nothing more goes for a while.
    let stall = ctx.timeout(Duration::from_secs(2));
    let deadline = Instant::now() + ctx.timeout(Duration::from_secs(30));
    let (mut last, mut since) = (0, Instant::now());
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        sample(&mut peak);
        let now = sent.load(Ordering::SeqCst);
        if now >= FLOOD || flood.is_finished() {
            break;
        }
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= stall {
            break;
        }
    }
    let flooded = mib(sent.load(Ordering::SeqCst));
    // Another client, meanwhile: its echo must come back whole.
    let beside = (|| {
        let mut other = ctx.connect(port)?;
        let data = Arc::new(pattern(BESIDE));
        let (done, count) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let handle = sender(
            &other,
            Arc::clone(&data),
            BESIDE as u64,
            true,
            Arc::clone(&done),
            count,
        )?;
        let limit = ctx.timeout(Duration::from_secs(10));
        let echoed = read_echo(&mut other, BESIDE, Duration::ZERO, limit, limit, || {
            sample(&mut peak)
        });
        done.store(true, Ordering::SeqCst);
        let _ = other.shutdown(Shutdown::Both);
        let _ = handle.join();
        let (got, limit) = (echoed.bytes.len(), limit.as_secs_f64());
        if got < BESIDE {
            return Err(tr!(
                "another client sent {BESIDE} bytes: {got} of its echo came back within {limit:.1} s",
                "另一个客户端发送了 {BESIDE} 个字节：{limit:.1} 秒内只回来了 {got} 个"
            ));
        }
        if echoed.bytes != *data {
            return Err(tr!(
                "another client sent {BESIDE} bytes: as many came back, but not the same",
                "另一个客户端发送了 {BESIDE} 个字节：回来的字节数一样，内容却不一样"
            ));
        }
        Ok(())
    })();
    sample(&mut peak);
    // With the flood's output waiting and nothing else to do, the program
    // must sleep: a loop that comes back to a connection whose output does
    // not fit, again and again, spins.
    let busy = if watch && beside.is_ok() {
        thread::sleep(Duration::from_millis(300));
        busy_loop(program, IDLE_WINDOW)
    } else {
        None
    };
    // The flood stops: what the kernel took is all the client sent.
    stop.store(true, Ordering::SeqCst);
    let _ = flood.join();
    let result = (|| {
        if let Err(err) = beside {
            return Err(tr!(
                "a client sent {flooded} and read none of the echo; meanwhile {err}",
                "一个客户端发送了 {flooded}，却一点回显也不读；与此同时，{err}"
            ));
        }
        if let Some(before) = before {
            let grown = peak.saturating_sub(before);
            if grown > FLOOD_MEMORY {
                let (grown, before, peak, allowed) =
                    (mib(grown), mib(before), mib(peak), mib(FLOOD_MEMORY));
                return Err(tr!(
                    "a client sent {flooded} and read none of the echo; the server's memory (resident, and its files in /tmp) grew by {grown}, from {before} to {peak} (at most {allowed} more is allowed): it kept what that client was owed",
                    "一个客户端发送了 {flooded}，却一点回显也不读；服务端的内存（常驻内存，以及它在 /tmp 里的文件）增长了 {grown}，从 {before} 涨到 {peak}（最多允许增长 {allowed}）：它把欠这个客户端的数据全都留了下来"
                ));
            }
        }
        if let Some(seen) = busy {
            return Err(tr!(
                "a client sent {flooded} and read none of the echo; then, with its output waiting and nothing else to do, {seen}: a busy loop",
                "一个客户端发送了 {flooded}，却一点回显也不读；之后，在欠它的数据等着发送、又没有别的事可做时，{seen}：这是忙循环"
            ));
        }
        if !whole {
            return Ok(());
        }
        flood_echo(ctx, &mut flooder, sent.load(Ordering::SeqCst))
    })();
    let _ = flooder.shutdown(Shutdown::Both);
    result
}

/// `never-reads`' last step: the client that flooded, and has stopped
/// sending, reads its echo. Exactly the `sent` bytes it sent (those its
/// kernel took) must come back, byte `i` being `i % 251`, each byte read
/// within 5 s of the one before and all within 30 s; then nothing more for
/// [`EXTRA_WAIT`]. A server with backpressure has left what it did not
/// read in the kernel's buffers, and echoes it now.
fn flood_echo(ctx: &Ctx, conn: &mut TcpStream, sent: u64) -> Result<(), String> {
    let quiet = ctx.timeout(Duration::from_secs(5));
    let limit = ctx.timeout(Duration::from_secs(30));
    let deadline = Instant::now() + limit;
    let (mut got, mut differs, mut ended) = (0u64, None, false);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut last = Instant::now();
    let mut more_until = None;
    let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        let now = Instant::now();
        if got >= sent {
            // All came: a moment more, for bytes that were never sent.
            if now >= *more_until.get_or_insert(now + EXTRA_WAIT) {
                break;
            }
        } else if now >= deadline || now.duration_since(last) >= quiet {
            break;
        }
        match conn.read(&mut buffer) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(n) => {
                if differs.is_none() {
                    differs = buffer[..n]
                        .iter()
                        .zip(got..)
                        .position(|(byte, i)| u64::from(*byte) != i % 251)
                        .map(|at| got + at as u64);
                }
                got += n as u64;
                last = Instant::now();
            }
            Err(err) if loadgen::pingpong::is_timeout(&err) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                ended = true;
                break;
            }
        }
    }
    let flooded = mib(sent);
    let told = tr!(
        "a client sent {flooded} ({sent} bytes) and read none of the echo; then it stopped sending and read the echo",
        "一个客户端发送了 {flooded}（{sent} 个字节），一点回显也不读；然后它停止发送，开始读取回显"
    );
    if let Some(at) = differs.filter(|at| *at < sent) {
        return Err(tr!(
            "{told}: from byte {at} on it was not what the client sent (byte i is i % 251): the server lost bytes, or sent them out of order",
            "{told}：从第 {at} 个字节起，回来的和客户端发送的不一样（第 i 个字节是 i % 251）：服务端丢了字节，或者打乱了顺序"
        ));
    }
    if got < sent {
        let then = if ended {
            tr!(
                "then the server closed the connection",
                "然后服务端关闭了连接"
            )
        } else if Instant::now() >= deadline {
            let limit = limit.as_secs_f64();
            tr!("within {limit:.1} s", "{limit:.1} s 内")
        } else {
            let quiet = quiet.as_secs_f64();
            tr!(
                "then nothing for {quiet:.1} s",
                "然后 {quiet:.1} 秒内再也没有数据"
            )
        };
        return Err(tr!(
            "{told}: {got} of the {sent} bytes came back, {then}: the server threw away what it read and could not send (with backpressure it stops reading instead, the rest waits in the client, and every byte comes back once the client reads)",
            "{told}：{sent} 个字节中只回来了 {got} 个，{then}：服务端把读到却发不出去的数据扔掉了（有背压时，它会停止读取，其余的数据留在客户端那边，等客户端读取时每个字节都会回来）"
        ));
    }
    if got > sent {
        return Err(tr!(
            "{told}: {got} bytes came back, more than the {sent} it sent",
            "{told}：回来了 {got} 个字节，比它发送的 {sent} 个还多"
        ));
    }
    Ok(())
}
