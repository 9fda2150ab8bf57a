//! Lesson 07: the student's program is a thread pool, a fixed number of
//! worker threads serving the clients of a bounded queue. The grader checks
//! lesson 05's conversation (one reply per message), that the threads stay
//! bounded while hundreds of clients connect (counted from before the first
//! one), that silent clients hold a worker no longer than the documented
//! deadline (5 s) and no shorter either, that a full queue refuses the next
//! client at once instead of keeping it (and its memory) without bound while
//! the clients the workers and the queue hold are kept, that resets do not
//! kill the workers, and that the deadline is on silence, not on a
//! connection's age.
//!
//! The grader knows neither the pool's size nor its queue's: it finds them
//! out, as a client would. Clients that talk once and stay silent come one
//! after another until one is not answered at once (every worker holds a
//! silent client); that one must be answered within the deadline, while
//! the first is kept at least [`EARLIEST_CLOSE`]. Silent clients keep
//! coming until some are refused, and the first [`KEPT_FIRST`] must not be.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Lesson, core, robust};
use crate::i18n::{Text, tr};
use crate::run::{self, Ctx, Outcome, Recorder};
use crate::sandbox::Program;
use crate::tr;

use super::crowd::{self, Pacer, mib, open_file_room};
use super::l05::{
    converse, ended_during, invalid_gbk, next_after, pingpong, split_character, with_server,
};
use super::{gbk, show_bytes};

/// Lesson 07's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-07",
    title: Text::new(
        "a thread pool: N workers and a bounded queue",
        "线程池：N 个工作线程和一个有界队列",
    ),
    modes: &[],
    checks: &[
        core(
            "listens",
            1,
            Text::new("listens on the port it is given", "在给定的端口上监听"),
            Text::new(
                "bind and listen on the port the grader gives (see lessons/lesson-07/README.md#1-listen-as-before)",
                "在评分程序给出的端口上绑定并监听（见 lessons/lesson-07/README.zh-CN.md#1-监听和之前一样）",
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
                "print each message decoded from GBK, on stdout or stderr (see lessons/lesson-07/README.md#7-serve-one-client)",
                "把每条消息按 GBK 解码后打印到 stdout 或 stderr（见 lessons/lesson-07/README.zh-CN.md#7-服务一个客户端）",
            ),
        ),
        core(
            "many-clients",
            3,
            Text::new(
                "8 clients at once, 20 messages each: every reply is ok, 收到了 in GBK; then a client alone gets exactly one reply per message",
                "同时 8 个客户端，每个发送 20 条消息：每条回复都是 GBK 编码的 ok, 收到了；然后单独一个客户端的每条消息都正好得到一条回复",
            ),
            Text::new(
                "a worker replies ok, 收到了 in GBK (exactly the bytes b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb'), once, to every message of its client until recv returns 0, then takes the next client from the queue; the workers and the queue together must hold 8 clients (the lesson's 4 workers and queue of 16 hold 20) (see lessons/lesson-07/README.md#7-serve-one-client)",
                "工作线程对它的客户端的每条消息都回复一次 GBK 编码的 ok, 收到了（正好是这些字节：b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb'），直到 recv 返回 0，然后从队列里取下一个客户端；工作线程和队列加起来要能容纳 8 个客户端（本课的 4 个工作线程加上容纳 16 个的队列，能容纳 20 个）（见 lessons/lesson-07/README.zh-CN.md#7-服务一个客户端）",
            ),
        ),
        core(
            "bounded-threads",
            3,
            Text::new(
                "its threads stay bounded while 300 clients connect: at most 16 more than before the first client",
                "300 个客户端连上来时，它的线程数保持有界：最多比第一个客户端连上来之前多 16 个",
            ),
            Text::new(
                "start a fixed number of worker threads once, each taking clients from the bounded queue (Python: N threading.Thread reading a queue.Queue(maxsize=Q); Java: N threads reading an ArrayBlockingQueue; C: N pthread_create at start) and hand each accepted client to them through the queue; never start a thread per client, not even up to a cap (see lessons/lesson-07/README.md#3-the-workers-started-once)",
                "只启动一次、固定数量的工作线程，每个都从有界队列里取客户端（Python：N 个 threading.Thread 读取一个 queue.Queue(maxsize=Q)；Java：N 个线程读取一个 ArrayBlockingQueue；C：启动时调用 N 次 pthread_create），通过队列把每个接受的客户端交给它们；决不要每个客户端开一个线程，有上限也不行（见 lessons/lesson-07/README.zh-CN.md#3-工作线程只启动一次）",
            ),
        ),
        core(
            "idle-deadline",
            3,
            Text::new(
                "while every worker holds a client that says nothing, the next client is answered within the deadline (5 s); a silent client is not closed before 4 s",
                "每个工作线程都被一个不说话的客户端占着时，下一个客户端在截止时间（5 秒）内得到回复；不说话的客户端不会在 4 秒之前被关闭",
            ),
            Text::new(
                "give each connection a deadline of 5 s, the documented one, neither more nor less: a recv that waits longer than 5 s for a client's next bytes ends that client, so that its worker takes the next one from the queue. Python: conn.settimeout(5), then except socket.timeout; C: setsockopt SO_RCVTIMEO (recv returns -1, EAGAIN); Java: socket.setSoTimeout(5000) (SocketTimeoutException) (see lessons/lesson-07/README.md#the-fix-a-deadline-per-connection)",
                "给每个连接一个截止时间，就是文档规定的 5 秒，不多也不少：recv 等待客户端下一批字节超过 5 秒，就结束这个客户端，让它的工作线程去队列里取下一个。Python：conn.settimeout(5)，然后 except socket.timeout；C：setsockopt 设置 SO_RCVTIMEO（recv 返回 -1，EAGAIN）；Java：socket.setSoTimeout(5000)（SocketTimeoutException）（见 lessons/lesson-07/README.zh-CN.md#解决办法每个连接一个截止时间）",
            ),
        ),
        core(
            "queue-full",
            3,
            Text::new(
                "300 silent clients: the first, which the workers and the queue hold, are kept; once the queue is full, the next are refused at once (closed, with or without the busy reply), and memory stays bounded",
                "300 个不说话的客户端：工作线程和队列容纳的前几个被留下；队列满了以后，后来的客户端立即被拒绝（关闭连接，发不发繁忙回复都行），内存保持有界",
            ),
            Text::new(
                "keep the clients that the workers and the queue hold until the deadline frees them (5 s of silence once a worker has one); hand each client to the queue without waiting (Python: queue.put_nowait, which raises queue.Full; Java: offer() on an ArrayBlockingQueue; Rust: try_send on a sync_channel), and when it is full send the busy reply 服务器忙，请稍后再试, shutdown the sending side, read what the client sent, close; never a queue without a bound (a ThreadPoolExecutor's or Executors.newFixedThreadPool's own queue has none), never an accept loop that waits for room (see lessons/lesson-07/README.md#5-a-full-queue-refuse-without-a-reset)",
                "工作线程和队列接收的客户端要一直留到截止时间（工作线程接手后沉默 5 秒）；把客户端交给队列时不要等待（Python：queue.put_nowait，队列满时抛出 queue.Full；Java：ArrayBlockingQueue 的 offer()；Rust：sync_channel 的 try_send），队列满时发送繁忙回复 服务器忙，请稍后再试，关闭发送方向，读掉客户端发来的数据，再关闭；决不要用没有上限的队列（ThreadPoolExecutor 和 Executors.newFixedThreadPool 自带的队列都没有上限），也决不要让 accept 循环等队列腾出位置（见 lessons/lesson-07/README.zh-CN.md#5-队列满了拒绝但不发送重置）",
            ),
        ),
        robust(
            "survives-reset",
            1,
            Text::new(
                "after 6 clients, one after another, reset their connections (more than the lesson's 4 workers), the next client is served",
                "6 个客户端一个接一个地重置连接之后（比本课的 4 个工作线程多），下一个客户端仍能得到服务",
            ),
            Text::new(
                "catch the connection-reset error inside the worker's loop and end only that client: the worker goes on to the next one; a worker that dies of it is lost for good, and once N have died nobody is served. Python: except OSError (ConnectionResetError) around recv and sendall; C: recv returns -1 (ECONNRESET); Java: catch IOException (see lessons/lesson-07/README.md#7-serve-one-client)",
                "在工作线程的循环里捕获连接被重置的错误，只结束这一个客户端：工作线程接着去服务下一个；被它弄死的工作线程就永远没了，死掉 N 个之后谁也得不到服务。Python：在 recv 和 sendall 外面 except OSError（ConnectionResetError）；C：recv 返回 -1（ECONNRESET）；Java：catch IOException（见 lessons/lesson-07/README.zh-CN.md#7-服务一个客户端）",
            ),
        ),
        robust(
            "talking-client",
            1,
            Text::new(
                "a client that sends a message every 0.25 s for 9 s gets every reply: the deadline is on silence, not on the connection's age",
                "一个客户端每 0.25 秒发送一条消息、持续 9 秒，每条都得到回复：截止时间针对的是沉默，而不是连接存在了多久",
            ),
            Text::new(
                "put the deadline on each recv, so that every byte that arrives starts it again, never on the whole connection: a client that keeps talking keeps its worker. Python: conn.settimeout(5) once, not a time.monotonic() limit counted from when the worker took the client; C: SO_RCVTIMEO; Java: socket.setSoTimeout(5000) (see lessons/lesson-07/README.md#what-the-deadline-costs-an-honest-client)",
                "把截止时间放在每一次 recv 上，让每个到达的字节都重新开始计时，决不要放在整个连接上：一直在说话的客户端一直占着它的工作线程。Python：调用一次 conn.settimeout(5)，不要从工作线程接手客户端时起用 time.monotonic() 计时；C：SO_RCVTIMEO；Java：socket.setSoTimeout(5000)（见 lessons/lesson-07/README.zh-CN.md#截止时间让诚实的客户端付出的代价）",
            ),
        ),
        robust(
            "split-character",
            2,
            Text::new(
                "你好 split inside a character across two sends is printed whole",
                "你好 在一个字符的中间被拆成两次发送，仍被完整地打印出来",
            ),
            Text::new(
                "decode with one incremental decoder per connection, which keeps half a character for the next recv; Python: codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\"); Java: one CharsetDecoder per connection (see lessons/lesson-07/README.md#7-serve-one-client)",
                "每个连接用一个增量解码器来解码，它会把半个字符留到下一次 recv；Python：codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\")；Java：每个连接一个 CharsetDecoder（见 lessons/lesson-07/README.zh-CN.md#7-服务一个客户端）",
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
                "decode with errors replaced instead of letting the error end the worker; Python: errors=\"replace\" (see lessons/lesson-07/README.md#7-serve-one-client)",
                "解码时替换无效的字节，不要让解码错误结束工作线程；Python：errors=\"replace\"（见 lessons/lesson-07/README.zh-CN.md#7-服务一个客户端）",
            ),
        ),
    ],
    grade,
};

/// "ok, 收到了": the reply to every message.
const REPLY: &str = "ok, 收到了";
const FIRST_MESSAGE: &str = "我是客户端1";
/// The documented deadline: a client silent this long is closed.
const DEADLINE: Duration = Duration::from_secs(5);
/// A client answered later than this after its message waited for a
/// worker (every worker held a silent client, until a deadline freed
/// one): half the deadline, far more than a busy machine adds to a reply,
/// far less than the wait of the first client behind N silent ones (the
/// deadline, less the moments it took N clients to talk).
const QUEUED: Duration = Duration::from_millis(2500);
/// The most silent clients `idle-deadline` connects: a pool larger than
/// this passes it unseen, as a thread per client does.
const SILENT_MAX: usize = 32;
/// Silent clients `queue-full` connects.
const QUEUE_CLIENTS: usize = 300;
/// How soon after it connected a refused client must find its connection
/// closed: half the deadline, so that a client closed by the deadline (5 s
/// after a worker took it) never passes for a refused one. Not scaled by
/// `--time-scale`: it tells two things apart, it is not a patience.
const REFUSE_WITHIN: Duration = Duration::from_millis(2500);
/// How much the program's resident memory may grow while those clients
/// connect.
const QUEUE_MEMORY: u64 = 32 << 20;
/// The clients that the workers and the queue hold at least (the lesson's
/// 4 and 16 hold 20): of `queue-full`'s silent clients, none of the first
/// this many may be refused, nor closed soon by a deadline shorter than the
/// documented one.
const KEPT_FIRST: usize = 8;
/// The least silence after which a server may close a client: the deadline
/// (5 s) less a margin. The grader measures from the moment it sent the
/// client's message, before the server began to wait for the next one, and
/// sees a close only after it happened: a machine's load makes a close
/// look later, never sooner. Not scaled by `--time-scale`.
const EARLIEST_CLOSE: Duration = Duration::from_secs(4);
/// Clients that `survives-reset` resets, one after another: more than the
/// lesson's 4 workers, so that a worker that a reset kills shows.
const RESETS: usize = 6;
/// `talking-client`: a message every `TALK_EVERY`, `TALKS` of them, the
/// last 9 s after the first: past the deadline counted from the first, and
/// past `idle-deadline`'s margin (5 s + 3 s), so that a cut on the
/// connection's age loses one check or the other whatever its length; and
/// so often that even a deadline far shorter than the documented one (which
/// `idle-deadline` and `queue-full` fail) does not end the conversation.
const TALK_EVERY: Duration = Duration::from_millis(250);
const TALKS: u32 = 37;
/// How long a client waits, after a reply, for bytes it did not ask for.
const UNASKED_WAIT: Duration = Duration::from_millis(300);

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    first_run(ctx, &mut rec);
    if !rec.passed("listens") {
        rec.fail_rest(
            &[
                "many-clients",
                "bounded-threads",
                "queue-full",
                "survives-reset",
                "talking-client",
                "split-character",
                "invalid-gbk",
            ],
            &tr!("the program never listened", "程序始终没有监听"),
        );
        return rec.finish();
    }
    with_server(ctx, &mut rec, "many-clients", |ctx, port, _| {
        pingpong(ctx, port, 8, 20)?;
        one_reply_each(ctx, port)
    });
    with_server(ctx, &mut rec, "bounded-threads", bounded_threads);
    with_server(ctx, &mut rec, "queue-full", queue_full);
    with_server(ctx, &mut rec, "survives-reset", |ctx, port, _| {
        next_after(ctx, port, true, RESETS)
    });
    with_server(ctx, &mut rec, "talking-client", talking_client);
    let prints = rec.passed("prints-messages");
    with_server(ctx, &mut rec, "split-character", |ctx, port, program| {
        split_character(ctx, port, program, prints)
    });
    with_server(ctx, &mut rec, "invalid-gbk", invalid_gbk);
    rec.finish()
}

/// Listens; a client talks and leaves; then `idle-deadline`; finally the
/// output must show the first message.
fn first_run(ctx: &Ctx, rec: &mut Recorder) {
    let (mut program, port) = match ctx.start_server(None) {
        Ok(started) => started,
        Err((err, program)) => {
            rec.fail("listens", err, program.as_ref());
            return rec.fail_rest(
                &["prints-messages", "idle-deadline"],
                &tr!("the program never listened", "程序始终没有监听"),
            );
        }
    };
    rec.pass("listens");
    let talked = converse(ctx, port, &gbk(FIRST_MESSAGE));
    rec.start();
    let deadline = idle_deadline(ctx, port).map_err(|err| ended_during(&mut program, err));
    ctx.stop(&mut program);
    rec.record("idle-deadline", deadline, Some(&program));
    let printed = run::printed_message(&program, talked, FIRST_MESSAGE);
    rec.record("prints-messages", printed, Some(&program));
}

/// Clients connect one after another; each sends a message, gets its
/// reply, and stays connected and silent. While a worker is free, a reply
/// comes at once; the first client whose reply does not (every worker holds
/// a silent client, and it waits in the queue) must get it within the
/// deadline and a margin: a deadline closed a silent client, and its worker
/// took this one. Then the check is over. A server that answers
/// [`SILENT_MAX`] + 1 clients at once passes that part too. Meanwhile the
/// first client is watched: its connection must not end sooner than
/// [`EARLIEST_CLOSE`] after its message (a deadline shorter than the
/// documented one, which a thread per client or a big pool would show
/// nowhere else).
fn idle_deadline(ctx: &Ctx, port: u16) -> Result<(), String> {
    let mut watch = None;
    let queued = queued_client(ctx, port, &mut watch);
    let early = watch.and_then(|watch| watch.join().ok().flatten());
    queued?;
    match early {
        None => Ok(()),
        Some(after) => {
            let (after, earliest) = (after.as_secs_f64(), EARLIEST_CLOSE.as_secs_f64());
            Err(tr!(
                "client 1 sent a message, got its reply and stayed connected and silent; the server closed its connection within {after:.1} s of the message, sooner than {earliest:.0} s: a silent client must be kept until the documented deadline, 5 s of silence",
                "第 1 个客户端发送了一条消息，收到回复后保持连接、不再发送；服务端在这条消息发出后 {after:.1} 秒内就关闭了它的连接，不到 {earliest:.0} 秒：不说话的客户端应该一直保留到文档规定的截止时间，也就是沉默 5 秒"
            ))
        }
    }
}

/// Watches a client that has talked and stays silent, from `since` (when
/// it sent its message) until [`EARLIEST_CLOSE`] after: `Some(how long
/// after)` when its connection ended sooner. Bytes that come meanwhile are
/// another check's point.
fn watch_silent(mut conn: TcpStream, since: Instant) -> thread::JoinHandle<Option<Duration>> {
    thread::spawn(move || {
        let mut buffer = [0u8; 1024];
        loop {
            let left = (since + EARLIEST_CLOSE).saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let _ = conn.set_read_timeout(Some(left));
            let ended = match conn.read(&mut buffer) {
                Ok(0) => true,
                Ok(_) => false,
                Err(err) => {
                    !(loadgen::pingpong::is_timeout(&err) || err.kind() == ErrorKind::Interrupted)
                }
            };
            // Seen now: it ended at this moment or before.
            let after = since.elapsed();
            if ended {
                return (after < EARLIEST_CLOSE).then_some(after);
            }
        }
    })
}

/// [`idle_deadline`]'s clients; the first one's watch goes to `watch`.
fn queued_client(
    ctx: &Ctx,
    port: u16,
    watch: &mut Option<thread::JoinHandle<Option<Duration>>>,
) -> Result<(), String> {
    let wait = DEADLINE + ctx.timeout(Duration::from_secs(3));
    let secs = wait.as_secs_f64();
    let reply = gbk(REPLY);
    let mut silent: Vec<TcpStream> = Vec::with_capacity(SILENT_MAX);
    for n in 1..=SILENT_MAX + 1 {
        let k = silent.len();
        let waiting = match k {
            0 => String::new(),
            1 => tr(
                " while the client before it stayed connected and silent",
                "，这时它前面的那个客户端保持连接、不再发送",
            )
            .to_owned(),
            k => tr!(
                " while the {k} clients before it stayed connected and silent",
                "，这时它前面的 {k} 个客户端保持连接、不再发送"
            ),
        };
        let mut conn = ctx.connect(port).map_err(|err| {
            tr!(
                "client {n} could not connect{waiting}: {err}",
                "第 {n} 个客户端无法连接{waiting}：{err}"
            )
        })?;
        run::send(&mut conn, &gbk(&format!("安静的客户端{n}")))?;
        let sent = Instant::now();
        let (got, ended) = run::read_message(&mut conn, wait, Duration::from_millis(100), 1 << 16);
        let took = sent.elapsed();
        if got.is_empty() {
            return Err(if ended {
                tr!(
                    "client {n} sent a message{waiting}; the server closed its connection without a reply",
                    "第 {n} 个客户端发送了一条消息{waiting}；服务端没有回复就关闭了它的连接"
                )
            } else if k == 0 {
                tr!(
                    "the first client sent a message; it got no reply within {secs:.1} s",
                    "第一个客户端发送了一条消息；它在 {secs:.1} 秒内没有收到回复"
                )
            } else {
                let s = if k == 1 { "" } else { "s" };
                tr!(
                    "client {n} sent a message{waiting}; it got no reply within {secs:.1} s, the deadline (5 s) and a margin: the server serves {k} client{s} at a time, and a silent client keeps its worker past the deadline",
                    "第 {n} 个客户端发送了一条消息{waiting}；它在 {secs:.1} 秒（截止时间 5 秒加上余量）内没有收到回复：服务端一次只服务 {k} 个客户端，而不说话的客户端过了截止时间还占着它的工作线程"
                )
            });
        }
        if ended && !got.starts_with(&reply) {
            let got = show_bytes(&got);
            return Err(tr!(
                "client {n} sent a message{waiting}; it got {got} and the end of the stream: it was refused, where it should wait in the queue until a deadline frees a worker",
                "第 {n} 个客户端发送了一条消息{waiting}；它收到了 {got}，然后数据流就结束了：它被拒绝了，而它本应在队列里等到截止时间让出一个工作线程"
            ));
        }
        if took > QUEUED && k > 0 {
            // It waited for a worker, and a deadline gave it one. (A reply
            // slower than usual but sooner than this, on a busy machine,
            // proves nothing: the next client is tried.)
            return Ok(());
        }
        if k == 0
            && let Ok(clone) = conn.try_clone()
        {
            *watch = Some(watch_silent(clone, sent));
        }
        silent.push(conn);
    }
    Ok(())
}

/// A silent client of `queue-full`.
struct Held {
    conn: TcpStream,
    /// When it connected.
    at: Instant,
    /// What the server sent it.
    got: Vec<u8>,
}

/// [`QUEUE_CLIENTS`] clients connect (paced) and say nothing. The first
/// [`KEPT_FIRST`] are the workers' and the queue's: none of them may be
/// refused (nor closed as soon by a deadline shorter than the documented
/// one). Once the workers and the queue are full, the next must be refused
/// at once: their connection ends (the busy reply, then the end of the
/// stream, or a reset) within [`REFUSE_WITHIN`] of connecting, nearly all
/// of them. Meanwhile the program's memory must not grow by more than
/// [`QUEUE_MEMORY`].
fn queue_full(ctx: &Ctx, port: u16, program: &mut Program) -> Result<(), String> {
    let total = open_file_room(QUEUE_CLIENTS);
    let within = REFUSE_WITHIN;
    let before = program.resident_bytes();
    let mut peak = before.unwrap_or(0);
    let mut pacer = Pacer::new(port);
    let mut held: Vec<Held> = Vec::with_capacity(total);
    // Refused clients: which (from 1), how soon, what they read.
    let mut refused: Vec<(usize, Duration, Vec<u8>)> = Vec::new();
    let mut connected = 0;
    let mut failed = None;
    let mut numbers: Vec<usize> = Vec::with_capacity(total);
    for n in 1..=total {
        match pacer.connect(ctx, ctx.timeout(Duration::from_secs(3))) {
            Ok(conn) => {
                let _ = conn.set_nonblocking(true);
                held.push(Held {
                    conn,
                    at: Instant::now(),
                    got: Vec::new(),
                });
                numbers.push(n);
                connected = n;
            }
            Err(err) => {
                failed = Some((n, err));
                break;
            }
        }
        if n % 10 == 0 {
            look(&mut held, &mut numbers, &mut refused, within);
            if let Some(now) = program.resident_bytes() {
                peak = peak.max(now);
            }
        }
    }
    // The last clients get their time too.
    let until = Instant::now() + within;
    loop {
        look(&mut held, &mut numbers, &mut refused, within);
        if let Some(now) = program.resident_bytes() {
            peak = peak.max(now);
        }
        if Instant::now() >= until
            || (!refused.is_empty() && held.iter().all(|h| h.at.elapsed() > within))
        {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let grown = before.map(|before| (before, peak.saturating_sub(before)));
    let memory = grown
        .map(|(_, grown)| {
            let grown = mib(grown);
            tr!(
                "; its memory (resident, and its files in /tmp) grew by {grown} meanwhile",
                "；与此同时，它的内存（常驻内存，以及它在 /tmp 里的文件）增长了 {grown}"
            )
        })
        .unwrap_or_default();
    let within_s = within.as_secs_f64();
    if refused.is_empty() {
        if let Some((n, err)) = failed {
            let waiting = proctools::tcp::accept_queue(port).unwrap_or(0);
            let k = n - 1;
            return Err(tr!(
                "{k} clients connected and stayed silent, none of them refused; client {n}: {err}, with {waiting} connections waiting in the server's listen queue: the server stopped accepting, where a full queue must refuse the next client at once{memory}",
                "{k} 个客户端连上来、不说话，没有一个被拒绝；第 {n} 个客户端：{err}，这时服务端的监听队列里有 {waiting} 个连接在等待：服务端不再 accept 了，而队列满了时应该立即拒绝下一个客户端{memory}"
            ));
        }
        return Err(tr!(
            "{connected} clients connected and stayed silent; none was refused (its connection closed, with or without the busy reply) within {within_s:.1} s of connecting: the server keeps every one of them waiting{memory}",
            "{connected} 个客户端连上来、不说话；没有一个在连上之后 {within_s:.1} 秒内被拒绝（连接被关闭，发不发繁忙回复都算）：服务端让它们每一个都在等着{memory}"
        ));
    }
    // The first clients are the workers' and the queue's: kept, not
    // refused, nor closed soon by a deadline shorter than the documented
    // one (a queue without a bound whose workers close silent clients soon
    // ends theirs within moments).
    let (first, after, got) = &refused[0];
    let first = *first;
    if first <= KEPT_FIRST {
        let after = after.as_secs_f64();
        let got = if got.is_empty() {
            String::new()
        } else {
            let got = show_bytes(got);
            tr!(", after it got {got}", "，之前它收到了 {got}")
        };
        return Err(tr!(
            "{connected} clients connected and stayed silent; client {first}, one of the first {KEPT_FIRST}, which the workers and the queue hold, was closed within {after:.1} s of connecting{got}: the clients that the workers and the queue take must be kept until the deadline frees them (5 s of silence once a worker has one), and only those that find the queue full refused{memory}",
            "{connected} 个客户端连上来、不说话；第 {first} 个客户端属于前 {KEPT_FIRST} 个，本应由工作线程和队列容纳，却在连上之后 {after:.1} 秒内就被关闭了{got}：工作线程和队列接收的客户端应该一直保留到截止时间让出位置（工作线程接手后沉默 5 秒），只有遇到队列已满的客户端才被拒绝{memory}"
        ));
    }
    // Once the queue is full, a bounded queue refuses the clients that
    // come after, nearly all of them (a deadline may free a place now and
    // then); a queue that refuses now and then keeps the others waiting.
    let (count, after) = (refused.len(), connected + 1 - first);
    if count * 2 < after {
        return Err(tr!(
            "{connected} clients connected and stayed silent; from client {first} on, the connections of only {count} of the {after} clients were closed within {within_s:.1} s of connecting: the others were kept waiting, where a full queue refuses every client that comes{memory}",
            "{connected} 个客户端连上来、不说话；从第 {first} 个起的 {after} 个客户端里，只有 {count} 个的连接在连上之后 {within_s:.1} 秒内被关闭：其余的都被留下来等着，而队列满了时，每一个后来的客户端都应该被拒绝{memory}"
        ));
    }
    if let Some((before, grown)) = grown
        && grown > QUEUE_MEMORY
    {
        let (grown, before, peak, allowed) =
            (mib(grown), mib(before), mib(peak), mib(QUEUE_MEMORY));
        return Err(tr!(
            "{connected} clients connected and stayed silent, and from client {first} on they were refused, but the server's memory (resident, and its files in /tmp) grew by {grown}, from {before} to {peak} (at most {allowed} more is allowed): it keeps something for every client, refused or not",
            "{connected} 个客户端连上来、不说话，从第 {first} 个起它们被拒绝了，但服务端的内存（常驻内存，以及它在 /tmp 里的文件）增长了 {grown}，从 {before} 涨到 {peak}（最多允许增长 {allowed}）：不管拒绝与否，它都为每个客户端留下了一些东西"
        ));
    }
    Ok(())
}

/// Reads what waits for each held client, without waiting: a client whose
/// connection ended within `within` of connecting was refused; one that
/// ended later (a deadline closed it) is let go.
fn look(
    held: &mut Vec<Held>,
    numbers: &mut Vec<usize>,
    refused: &mut Vec<(usize, Duration, Vec<u8>)>,
    within: Duration,
) {
    let mut buffer = [0u8; 1024];
    let mut i = 0;
    while i < held.len() {
        let client = &mut held[i];
        let ended = loop {
            match client.conn.read(&mut buffer) {
                Ok(0) => break true,
                Ok(n) => {
                    if client.got.len() < 256 {
                        client.got.extend_from_slice(&buffer[..n]);
                    }
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => break false,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                // A reset ends the connection too.
                Err(_) => break true,
            }
        };
        if ended {
            let client = held.swap_remove(i);
            let n = numbers.swap_remove(i);
            let after = client.at.elapsed();
            if after <= within {
                refused.push((n, after, client.got));
            }
        } else {
            i += 1;
        }
    }
    refused.sort_by_key(|(n, ..)| *n);
}

/// After `many-clients`' crowd, a client alone sends 3 messages, each once
/// the reply to the one before has come: each reply must be exactly
/// `ok, 收到了` in GBK, and nothing more may come in the [`UNASKED_WAIT`]
/// after it. A reply sent twice passes a crowd that reads one reply's
/// length at a time (the second copy is taken for the next reply); not
/// this.
fn one_reply_each(ctx: &Ctx, port: u16) -> Result<(), String> {
    let reply = gbk(REPLY);
    let mut conn = ctx.connect(port)?;
    for m in 1..=3 {
        run::send(&mut conn, &gbk(&format!("单独的客户端消息{m}")))?;
        crowd::read_reply(&mut conn, &reply, ctx.timeout(Duration::from_secs(5)), true).map_err(
            |fault| {
                let fault = crowd::fault_text(&fault);
                tr!(
                    "after the 8 clients, a client alone sent message {m}: {fault}",
                    "8 个客户端之后，单独一个客户端发送了第 {m} 条消息：{fault}"
                )
            },
        )?;
        let (more, _) = run::read_message(&mut conn, UNASKED_WAIT, Duration::from_millis(50), 256);
        if !more.is_empty() {
            let (n, more, reply) = (more.len(), show_bytes(&more), show_bytes(&reply));
            let ms = UNASKED_WAIT.as_millis();
            return Err(tr!(
                "after the 8 clients, a client alone sent message {m} and got the reply {reply}; then, within {ms} ms, {n} bytes it did not ask for: {more}: every message gets one reply, once",
                "8 个客户端之后，单独一个客户端发送了第 {m} 条消息，收到了回复 {reply}；然后在 {ms} ms 内又收到了 {n} 个它没有要的字节：{more}：每条消息只得到一条回复，只回复一次"
            ));
        }
    }
    Ok(())
}

/// `bounded-threads`: [`crowd::thread_growth`], counted from before the
/// first client, as for lessons 08 and 09.
fn bounded_threads(ctx: &Ctx, port: u16, program: &mut Program) -> Result<(), String> {
    let keeps = tr(
        "a thread pool keeps the fixed number of workers it started",
        "线程池一直只有它启动的那几个固定数量的工作线程",
    );
    crowd::thread_growth(ctx, port, program, keeps)
}

/// One client sends a message every [`TALK_EVERY`], [`TALKS`] of them:
/// past the deadline (5 s) counted from the first, never silent for more
/// than a moment. Each must get a reply (any bytes: `many-clients` checks
/// the words). A server that cuts a connection at a fixed age, talking or
/// not, fails.
fn talking_client(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    let mut conn = ctx.connect(port)?;
    let start = Instant::now();
    let wait = ctx.timeout(Duration::from_secs(3));
    for m in 1..=TALKS {
        thread::sleep((start + TALK_EVERY * (m - 1)).saturating_duration_since(Instant::now()));
        let since = start.elapsed().as_secs_f64();
        let seen = match run::send(&mut conn, &gbk(&format!("一直说话的客户端消息{m}"))) {
            Err(err) => err,
            Ok(()) => {
                let (got, ended) =
                    run::read_message(&mut conn, wait, Duration::from_millis(100), 1 << 16);
                if !got.is_empty() {
                    continue;
                }
                if ended {
                    tr(
                        "the server closed the connection without a reply",
                        "服务端没有回复就关闭了连接",
                    )
                    .to_owned()
                } else {
                    let secs = wait.as_secs_f64();
                    tr!("no reply within {secs:.1} s", "{secs:.1} s 内没有收到回复")
                }
            }
        };
        return Err(tr!(
            "a client sent a message every 0.25 s, each one answered; message {m}, {since:.1} s after the first: {seen}: the deadline is on silence (5 s without a byte), not on the connection's age",
            "一个客户端每 0.25 秒发送一条消息，每条都得到了回复；第 {m} 条消息，在第一条之后 {since:.1} 秒：{seen}：截止时间针对的是沉默（5 秒没有一个字节），而不是连接存在了多久"
        ));
    }
    Ok(())
}
