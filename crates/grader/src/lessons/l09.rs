//! Lesson 09: the student's program is an async server (tokio, asyncio,
//! Node.js: a task per client, run by a runtime's few threads), in lesson
//! 08's two modes. It is graded with lesson 08's checks ([`super::l08`]),
//! its threads counted the same way (a runtime's few worker threads start
//! with it), plus the slow request: a message `slow` is answered after one
//! second of *blocking* work, which must not stop the other clients.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::catalog::{Lesson, core, robust};
use crate::i18n::Text;
use crate::run::{Ctx, Outcome, Recorder};
use crate::sandbox::Program;
use crate::tr;

use super::crowd::{EXTRA_WAIT, fault_text, read_reply, waiting_bytes};
use super::gbk;
use super::l05::with_server_in;
use super::l08::{self, Design, MODES};

/// Lesson 09's checks.
pub(crate) const LESSON: Lesson = Lesson {
    id: "lesson-09",
    title: Text::new(
        "async: a task per client on a runtime's few threads",
        "异步：每个客户端一个任务，由运行时的几个线程来跑",
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
                "bind and listen on the port the grader gives, and take the mode, reply or echo, from {mode} (or MODE) (see lessons/lesson-09/README.md#2-listen-in-tokios-words)",
                "在评分程序给出的端口上绑定并监听，并从 {mode}（或 MODE）读取模式：reply 或 echo（见 lessons/lesson-09/README.zh-CN.md#2-监听用-tokio-的写法）",
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
                "print each message decoded from GBK, with one decoder per connection, on stdout or stderr (see lessons/lesson-09/README.md#5-serve-one-client)",
                "把每条消息按 GBK 解码后打印到 stdout 或 stderr，每个连接一个解码器（见 lessons/lesson-09/README.zh-CN.md#5-服务一个客户端）",
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
                "spawn a task per accepted client and go straight back to accept; answer each message once, with exactly ok, 收到了 in GBK; hold a thousand sockets (raise the open-file limit, RLIMIT_NOFILE, where it is 1024) (see lessons/lesson-09/README.md#4-a-task-per-client)",
                "每接受一个客户端就为它 spawn 一个任务，然后马上回去 accept；对每条消息只回复一次，而且恰好是 GBK 编码的 ok, 收到了；能同时持有一千个套接字（打开文件数上限 RLIMIT_NOFILE 为 1024 时要调高）（见 lessons/lesson-09/README.zh-CN.md#4-每个客户端一个任务）",
            ),
        ),
        core(
            "bounded-threads",
            2,
            Text::new(
                "a few threads, fixed, serve every client: from before the first client to 300 connected, at most 16 threads more",
                "固定的几个线程服务所有客户端：从第一个客户端连上来之前到连着 300 个，线程最多多出 16 个",
            ),
            Text::new(
                "a task per client (tokio::spawn, asyncio, Node.js), run by the runtime's few worker threads, which start with it; never a thread per client (see lessons/lesson-09/README.md#threads-a-pool-an-event-loop-tasks)",
                "每个客户端一个任务（tokio::spawn、asyncio、Node.js），由运行时的几个工作线程来跑，这些线程随运行时一起启动；决不要每个客户端一个线程（见 lessons/lesson-09/README.zh-CN.md#线程线程池事件循环任务）",
            ),
        ),
        core(
            "no-busy-loop",
            2,
            Text::new(
                "with 20 clients connected and silent, it uses next to no CPU for 2 s: its tasks wait, none polls",
                "连着 20 个不说话的客户端时，它在 2 秒里几乎不占用 CPU：它的任务都在等待，没有一个在轮询",
            ),
            Text::new(
                "wait with .await (readable(), read()), which parks the task until the runtime's I/O driver says the socket is ready; never a loop that retries try_read or sleeps a little and looks again (see lessons/lesson-09/README.md#6-recv-what-await-does)",
                "用 .await 等待（readable()、read()），它会把任务挂起，直到运行时的 I/O 驱动说套接字就绪；决不要写一个反复调用 try_read、或者睡一小会儿再看一眼的循环（见 lessons/lesson-09/README.zh-CN.md#6-recvawait-做了什么）",
            ),
        ),
        core(
            "slow-request",
            3,
            Text::new(
                "while slow requests (1 s of blocking work each) are in progress, the other clients are answered at once",
                "在慢请求（每个要做 1 秒的阻塞工作）进行期间，其他客户端仍然立即得到回复",
            ),
            Text::new(
                "run the slow request's blocking work (a sleep, a slow library call, a file, a database) off the runtime's worker threads: tokio::task::spawn_blocking(...).await; Python: await loop.run_in_executor(None, ...) or asyncio.to_thread; a call that blocks inside a task holds its worker thread, and every client served by that thread waits (see lessons/lesson-09/README.md#8-the-slow-request-spawn_blocking)",
                "把慢请求的阻塞工作（sleep、慢的库调用、文件、数据库）放到运行时的工作线程之外去做：tokio::task::spawn_blocking(...).await；Python：await loop.run_in_executor(None, ...) 或 asyncio.to_thread；在任务里阻塞的调用会占住它所在的工作线程，由这个线程服务的每个客户端都得等着（见 lessons/lesson-09/README.zh-CN.md#8-慢请求spawn_blocking）",
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
                "send all of what was read before reading more: a write may take only part, so loop until every byte is sent (write_all, or try_write after writable().await; Python: writer.write then await writer.drain()); when the client closes its side, send what it is still owed, then close (see lessons/lesson-09/README.md#7-send_all-waiting-for-room)",
                "读下一块之前，先把读到的全部发出去：一次写可能只写出一部分，所以要循环到每个字节都发出去（write_all，或者在 writable().await 之后调用 try_write；Python：writer.write 之后 await writer.drain()）；客户端关闭它那一端时，先把还欠它的数据发完，再关闭（见 lessons/lesson-09/README.zh-CN.md#7-send_all等待缓冲区腾出空间）",
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
                "read again only once what was read is sent (await the send), so that a client that does not read stops being read from, and TCP holds the rest back in the client (backpressure); never keep a growing buffer for it, never throw away what was read, never a send that blocks the thread, never a task that retries a full socket without awaiting writable() (see lessons/lesson-09/README.md#9-echo-and-backpressure)",
                "只有把读到的数据发完（await 发送）之后才再读，这样一个不读取的客户端就不会再被读取，TCP 会把其余的数据挡在客户端那边（背压）；决不要为它保留一个越来越大的缓冲区，决不要丢掉读到的数据，决不要用会阻塞线程的发送，也决不要让任务不 await writable() 就反复重试一个已满的套接字（见 lessons/lesson-09/README.zh-CN.md#9-echo-与背压）",
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
                "an error from recv or send (the client reset its connection: ECONNRESET) ends that client's task only: return from it, and never exit the process or stop the runtime for it; Python: except ConnectionResetError (an OSError) in the client's coroutine, not sys.exit (see lessons/lesson-09/README.md#5-serve-one-client)",
                "recv 或 send 出错（客户端重置了连接：ECONNRESET）只结束这个客户端的任务：从任务里返回，决不要因此退出进程或停掉运行时；Python：在客户端的协程里 except ConnectionResetError（它是一种 OSError），不要 sys.exit（见 lessons/lesson-09/README.zh-CN.md#5-服务一个客户端）",
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
                "decode with one incremental decoder per connection, owned by its task, which keeps half a character for the next recv; Python: codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\"); Node.js: new TextDecoder(\"gbk\") with {stream: true} (see lessons/lesson-09/README.md#5-serve-one-client)",
                "每个连接用一个增量解码器来解码，由它的任务持有，它会把半个字符留到下一次 recv；Python：codecs.getincrementaldecoder(\"gbk\")(errors=\"replace\")；Node.js：new TextDecoder(\"gbk\") 配合 {stream: true}（见 lessons/lesson-09/README.zh-CN.md#5-服务一个客户端）",
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
                "decode with errors replaced instead of letting the error end the client's task; Python: errors=\"replace\" (see lessons/lesson-09/README.md#5-serve-one-client)",
                "解码时替换无效的字节，不要让解码错误结束这个客户端的任务；Python：errors=\"replace\"（见 lessons/lesson-09/README.zh-CN.md#5-服务一个客户端）",
            ),
        ),
    ],
    grade,
};

const DESIGN: Design = Design {
    threads_check: "bounded-threads",
    keeps: Text::new(
        "a runtime runs a task per client on the few worker threads it started with",
        "运行时用它启动时的那几个工作线程来跑每个客户端的任务",
    ),
};

/// "ok, 收到了": the reply to every message.
const REPLY: &str = "ok, 收到了";
/// The slow request, and how long its blocking work takes.
const SLOW: &[u8] = b"slow";
const SLOW_WORK: Duration = Duration::from_secs(1);
/// A slow reply that comes sooner than this after its request did not do
/// the second of work.
const SLOW_AT_LEAST: Duration = Duration::from_millis(900);
/// Clients that send a message while the slow requests are worked on.
const FAST_CLIENTS: usize = 8;
/// How long after the slow requests the fast clients send: the server has
/// most likely read the slow requests by then, and where a busy machine
/// kept it from running meanwhile, it finds them first, readable since
/// earlier (an epoll's ready list, tokio's and asyncio's, is in the order
/// sockets became ready; a select() loop goes by descriptor, and the slow
/// clients' are the lower).
const FAST_AFTER: Duration = Duration::from_millis(100);
/// How many times the check is tried before it fails: a busy machine can
/// delay one fast reply past a second; a stalled server delays them every
/// time.
const TRIES: usize = 2;

fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    let mut rec = Recorder::new(lesson);
    if l08::event_loop(ctx, &mut rec, &DESIGN) {
        with_server_in(ctx, &mut rec, "slow-request", Some("reply"), slow_request);
        l08::echo_checks(ctx, &mut rec);
        l08::conversation_checks(ctx, &mut rec);
    }
    rec.finish()
}

/// Slow requests sent at once: one more than this machine has CPUs (at
/// least 4, at most 32), so that a runtime with a worker thread per CPU
/// that blocks in them has every worker blocked.
fn slow_clients() -> usize {
    thread::available_parallelism()
        .map_or(4, |n| n.get() + 1)
        .clamp(4, 32)
}

/// Why a try of `slow-request` failed.
enum Failed {
    /// The fast clients waited for the slow work: tried again, then the
    /// reason.
    Stalled(String),
    /// Anything else (the slow request was not slow, a client could not
    /// talk): the reason at once.
    Other(String),
}

/// Slow clients send `slow` at once; 0.1 s later, while their blocking
/// work goes on, fast clients send a message each. Every fast reply must
/// come before the first slow reply (which comes after a second of work):
/// the grader compares the order in which replies came, not their times
/// against a bound, so that a busy machine does not make a working server
/// fail. Tried again once when the fast clients waited.
fn slow_request(ctx: &Ctx, port: u16, _: &mut Program) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..TRIES {
        match one_try(ctx, port) {
            Ok(()) => return Ok(()),
            Err(Failed::Other(reason)) => return Err(reason),
            Err(Failed::Stalled(reason)) => last = reason,
        }
    }
    Err(last)
}

/// When a reply's first bytes came, and the reply (up to `len` bytes), or
/// `None` when nothing came within `timeout`.
fn timed_reply(conn: &mut TcpStream, len: usize, timeout: Duration) -> Option<(Instant, Vec<u8>)> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut first = None;
    let mut buffer = [0u8; 256];
    while got.len() < len {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = conn.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match conn.read(&mut buffer[..len - got.len()]) {
            Ok(0) => break,
            Ok(n) => {
                first.get_or_insert_with(Instant::now);
                got.extend_from_slice(&buffer[..n]);
            }
            Err(err) if loadgen::pingpong::is_timeout(&err) => {
                if Instant::now() >= deadline {
                    break;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    first.map(|at| (at, got))
}

fn one_try(ctx: &Ctx, port: u16) -> Result<(), Failed> {
    let reply = gbk(REPLY);
    let slow_count = slow_clients();
    // Every client talks once first: connected, accepted, served, its
    // handler waiting for its next message. (A slow client still waiting
    // to be accepted when the fast ones talk would let a server that
    // blocks answer them first.) The slow clients connect first: a server
    // that looks at its sockets in the order of their descriptors, as a
    // select() loop does, comes to them first too.
    let mut slow = Vec::with_capacity(slow_count);
    let mut fast = Vec::with_capacity(FAST_CLIENTS);
    for n in 1..=slow_count + FAST_CLIENTS {
        let mut conn = ctx.connect(port).map_err(Failed::Other)?;
        let talked = conn
            .write_all(&gbk(&format!("客户端{n}")))
            .map_err(|err| loadgen::pingpong::Fault::Send(err.to_string()))
            .and_then(|()| {
                read_reply(&mut conn, &reply, ctx.timeout(Duration::from_secs(5)), true)
            });
        if let Err(fault) = talked {
            let fault = fault_text(&fault);
            return Err(Failed::Other(tr!(
                "before any slow request, client {n}: {fault}",
                "在发出任何慢请求之前，第 {n} 个客户端：{fault}"
            )));
        }
        if n <= slow_count {
            slow.push(conn);
        } else {
            fast.push(conn);
        }
    }
    // Bytes beyond a reply (a reply sent twice) would be taken for the
    // next one, and the slow request for answered at once: they are
    // `many-clients`' to judge, and thrown away here.
    thread::sleep(EXTRA_WAIT);
    for conn in slow.iter_mut().chain(fast.iter_mut()) {
        waiting_bytes(conn, 1 << 16);
    }
    // Long enough for a server that does the slow requests one after
    // another, and stalls the fast ones behind them all.
    let wait = SLOW_WORK * slow_count as u32 + ctx.timeout(Duration::from_secs(10));
    let started = Instant::now();
    for conn in &mut slow {
        conn.write_all(SLOW)
            .map_err(|err| Failed::Other(tr!("cannot send slow: {err}", "无法发送 slow：{err}")))?;
    }
    let (slow_replies, fast_replies) = thread::scope(|scope| {
        let slow_readers: Vec<_> = slow
            .iter_mut()
            .map(|conn| scope.spawn(|| timed_reply(conn, reply.len(), wait)))
            .collect();
        thread::sleep(FAST_AFTER);
        let fast_readers: Vec<_> = fast
            .iter_mut()
            .enumerate()
            .map(|(i, conn)| {
                scope.spawn(move || {
                    let sent = Instant::now();
                    conn.write_all(&gbk(&format!("快{}", i + 1))).ok()?;
                    timed_reply(conn, REPLY_LEN, wait).map(|(at, _)| (sent, at))
                })
            })
            .collect();
        (
            slow_readers
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect::<Vec<_>>(),
            fast_readers
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect::<Vec<_>>(),
        )
    });
    let secs = wait.as_secs_f64();
    // The slow requests: each answered, none sooner than its second.
    let Some(first_slow) = slow_replies
        .iter()
        .map(|r| r.as_ref().map(|(at, _)| *at))
        .collect::<Option<Vec<Instant>>>()
        .and_then(|times| times.into_iter().min())
    else {
        let missing = slow_replies.iter().filter(|r| r.is_none()).count();
        return Err(Failed::Other(tr!(
            "{slow_count} clients sent slow at once; {missing} of them got no reply within {secs:.1} s",
            "{slow_count} 个客户端同时发送了 slow；其中 {missing} 个在 {secs:.1} 秒内没有收到回复"
        )));
    };
    let soonest = first_slow.duration_since(started);
    if soonest < SLOW_AT_LEAST {
        let soonest = soonest.as_secs_f64();
        return Err(Failed::Other(tr!(
            "the request slow was answered {soonest:.2} s after it was sent: it stands for 1 s of blocking work (sleep 1 s, then the reply ok, 收到了), which this check needs to see the other clients served meanwhile",
            "请求 slow 在发出后 {soonest:.2} 秒就得到了回复：它代表 1 秒的阻塞工作（sleep 1 秒，然后回复 ok, 收到了），这一项检查要靠它来看别的客户端在此期间是否得到服务"
        )));
    }
    // The fast clients: each answered before the first slow reply.
    let late: Vec<Option<Duration>> = fast_replies
        .iter()
        .filter(|r| !r.is_some_and(|(_, at)| at < first_slow))
        .map(|r| r.map(|(sent, at)| at.duration_since(sent)))
        .collect();
    if late.is_empty() {
        return Ok(());
    }
    let count = late.len();
    let first = soonest.as_secs_f64();
    let longest = late
        .iter()
        .map(|l| l.map_or(secs, |l| l.as_secs_f64()))
        .fold(0.0, f64::max);
    Err(Failed::Stalled(tr!(
        "{slow_count} clients sent slow at once (1 s of blocking work each), and 0.1 s later {FAST_CLIENTS} other clients sent a message each; the first slow reply came {first:.2} s after the slow requests, and {count} of the {FAST_CLIENTS} other clients were answered only after it (the longest waited {longest:.2} s); tried {TRIES} times: the blocking work stopped the other clients",
        "{slow_count} 个客户端同时发送了 slow（每个要做 1 秒的阻塞工作），0.1 秒后另外 {FAST_CLIENTS} 个客户端各发送了一条消息；第一条 slow 的回复在慢请求发出后 {first:.2} 秒到达，而另外 {FAST_CLIENTS} 个客户端中有 {count} 个在它之后才得到回复（等得最久的一个等了 {longest:.2} 秒）；试了 {TRIES} 次：阻塞工作让其他客户端都停了下来"
    )))
}

/// The length of `ok, 收到了` in GBK.
const REPLY_LEN: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reply_is_ten_bytes_of_gbk() {
        assert_eq!(gbk(REPLY).len(), REPLY_LEN);
    }
}
