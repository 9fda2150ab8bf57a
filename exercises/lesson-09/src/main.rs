//! Exercise 09: write lesson 09's async server on tokio, a task per client.
//!
//! Fill in the TODO steps below; `lessons/lesson-09/README.md` explains
//! every call. The flags and the lines about clients are written for you:
//! they are lesson 09's own `args.rs` and `output.rs`, used as they are.
//! Check your work with
//! `cargo run -p grader -- check lesson-09` (add `--watch` to re-check each
//! time you save).
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and there is no
//! `#[tokio::main]` here (tokio's "macros" feature is not built): TODO 1
//! builds the runtime by hand.
//!
//! 中文：完成下面的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-09/README.zh-CN.md` 逐一讲解了每个调用。命令行选项和关于
//! 客户端的输出已经为你写好了：直接使用第 09 课自己的 `args.rs` 和 `output.rs`。用
//! `cargo run -p grader -- check lesson-09` 检查你的程序（加上 `--watch`，
//! 每次保存都会重新检查）。
//!
//! TODO 步骤会用到两样东西：写了 `use netcore::Context;` 之后，可以在 I/O 调用
//! 后面加上 `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行
//! 错误信息；这里没有 `#[tokio::main]`（没有构建 tokio 的 "macros" 特性）：
//! TODO 1 要亲手搭建运行时。

// The starter defines what the steps use before any step uses it. Delete
// this line once your steps are written, so that the compiler tells you
// about anything your program never uses.
//   中文：起始代码先定义了各步骤要用到的东西，而此时还没有步骤用到它们。写完所有
//   步骤后删掉这一行，这样编译器就会告诉你程序里有哪些东西从没用到。
#![allow(dead_code)]

// Lesson 09's files, shared so that they cannot drift apart: they use
// this file's NAME, ABOUT and Config.
//   中文：第 09 课自己的文件，共用同一份，两边就不会不一致；它们用到本文件的
//   NAME、ABOUT 和 Config。
#[path = "../../../lessons/lesson-09/src/args.rs"]
mod args;
#[path = "../../../lessons/lesson-09/src/output.rs"]
mod output;

use std::process::ExitCode;
use std::time::Duration;

use netcore::Error;
use netcore::text::Encoding;

use args::Args;

const NAME: &str = "exercise-09";
const ABOUT: &str = "exercise 09: an async server on tokio, a task per client";
/// The tutorial's reply to every message: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// The message answered only after [`SLOW_WORK`] of blocking work.
const SLOW: &str = "slow";
/// How long the slow request's blocking call takes.
const SLOW_WORK: Duration = Duration::from_secs(1);
/// listen()'s queue, long enough for a crowd of clients at once.
const BACKLOG: u32 = 1024;

/// What every client's task needs, shared by all of them (in an `Arc`).
pub(crate) struct Config {
    pub(crate) encoding: Encoding,
    /// `REPLY`, encoded: `args.server.encoding.encode(REPLY)?`.
    pub(crate) reply: Vec<u8>,
    pub(crate) quiet: bool,
    pub(crate) blocking_mistake: bool,
}

fn main() -> ExitCode {
    let args = args::parse();
    netcore::report(NAME, run(args))
}

fn run(args: Args) -> Result<(), Error> {
    // One descriptor per client, and the grader connects 1,000 at once: many systems start a
    // program with room for 1024 only. Written for you (plumbing, not the lesson).
    //   中文：每个客户端占一个描述符，而评分程序会同时连上 1,000 个：很多系统启动程序时只给
    //   1024 个的空间。这一行已经为你写好（辅助代码，不是本课的内容）。
    let _ = netcore::sys::raise_open_file_limit();

    // TODO 1 (runtime): build the runtime by hand, as #[tokio::main] would:
    //     tokio::runtime::Builder::new_multi_thread() with .worker_threads(args.workers),
    //     .enable_io() and .enable_time(), then .build(); run `serve(args)` on it with
    //     runtime.block_on(..) and return what it returns. Write
    //     `async fn serve(args: Args) -> Result<(), Error>` for TODOs 2 and 3.
    //     See: lessons/lesson-09/README.md#1-the-runtime-built-by-hand
    //   中文：像 #[tokio::main] 那样亲手搭建运行时：tokio::runtime::Builder::new_multi_thread()，
    //     加上 .worker_threads(args.workers)、.enable_io() 和 .enable_time()，再 .build()；
    //     用 runtime.block_on(..) 在它上面运行 `serve(args)`，并返回它的结果。
    //     TODO 2 和 TODO 3 写在 `async fn serve(args: Args) -> Result<(), Error>` 里。
    //     参见：lessons/lesson-09/README.zh-CN.md#1-手工搭建运行时
    //
    // TODO 2 (listen): in serve: tokio::net::TcpSocket::new_v4() (new_v6() for an IPv6 address),
    //     set_reuseaddr(true), bind(addr) (report a failure with netcore::error::bind_failed),
    //     listen(BACKLOG); print `listening on IP:PORT` with the address it got.
    //     See: lessons/lesson-09/README.md#2-listen-in-tokios-words
    //   中文：在 serve 里：tokio::net::TcpSocket::new_v4()（IPv6 地址用 new_v6()），
    //     set_reuseaddr(true)，bind(addr)（绑定失败时用 netcore::error::bind_failed 报告），
    //     listen(BACKLOG)；用实际得到的地址打印 `listening on IP:PORT`。
    //     参见：lessons/lesson-09/README.zh-CN.md#2-监听用-tokio-的写法
    //
    // TODO 3 (accept_loop, spawn): make the `Config` (in an Arc), then accept in a loop with
    //     `server.accept().await`. On an error, warn on stderr and pause with
    //     tokio::time::sleep(..).await (never std::thread::sleep) before the next accept. For each
    //     client, print `client connected: ` and its address (netcore::pyrepr::PyAddr; not
    //     with --quiet), then tokio::spawn a task for it: handle_request (TODO 4) in the reply mode,
    //     echo (TODO 5) in the echo mode. Do not await the task: go straight back to accept.
    //     See: lessons/lesson-09/README.md#3-accept-in-a-loop
    //          lessons/lesson-09/README.md#4-a-task-per-client
    //   中文：先创建 `Config`（放进 Arc），然后在循环里用 `server.accept().await` 接受连接。
    //     出错时在 stderr 上警告，并用 tokio::time::sleep(..).await 暂停一下（不要用
    //     std::thread::sleep）再接受下一个。每接受一个客户端，就打印 `client connected: ` 和它的
    //     地址（--quiet 时不打印），然后用 tokio::spawn 为它创建一个任务：reply 模式运行
    //     handle_request（TODO 4），echo 模式运行 echo（TODO 5）。不要 await 这个任务：马上
    //     回到 accept。
    //     参见：lessons/lesson-09/README.zh-CN.md#3-循环接受连接
    //           lessons/lesson-09/README.zh-CN.md#4-每个客户端一个任务
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = args;
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-09/src/main.rs",
        "还没有写好：请按照 exercises/lesson-09/src/main.rs 里的 TODO 步骤来写",
    )))
}

// TODO 4 (handle, slow): write the task that serves one client in the reply mode:
//     async fn handle_request(conn: tokio::net::TcpStream, ip_port: std::net::SocketAddr,
//                             config: std::sync::Arc<Config>)
//   - ONE decoder for the connection: `let mut decoder = config.encoding.decoder();`
//   - loop: `recv(&conn).await` (TODO 6); an empty Vec: output::offline, return; an error:
//     output::dropped, return; otherwise decoder.feed(&data) and output::print_message;
//   - if the text is exactly SLOW: run slow_work on the blocking pool,
//     `tokio::task::spawn_blocking(slow_work).await`, never slow_work() in the task itself,
//     which would stall every client on the worker thread. Write that mistake too, as the
//     experiment's branch: when config.blocking_mistake is true (--blocking-mistake), call
//     slow_work() right there, so that you can see the stall as the walkthrough shows it;
//   - send the whole reply with `send_all(&conn, &config.reply).await` (TODO 7); on an error,
//     output::cannot_reply and return.
//     See: lessons/lesson-09/README.md#5-serve-one-client
//          lessons/lesson-09/README.md#8-the-slow-request-spawn_blocking
//   中文：编写 reply 模式下服务一个客户端的任务，函数签名如上。
//   - 每个连接只创建一个解码器：`let mut decoder = config.encoding.decoder();`
//   - 循环：`recv(&conn).await`（TODO 6）；收到空的 Vec：output::offline，返回；出错：
//     output::dropped，返回；否则 decoder.feed(&data)，再 output::print_message；
//   - 如果文本正好是 SLOW：在阻塞线程池上运行 slow_work，
//     `tokio::task::spawn_blocking(slow_work).await`，千万不要在任务里直接调用 slow_work()，
//     那会让同一个工作线程上的所有客户端都卡住。把这个错误也写出来，作为实验的分支：
//     config.blocking_mistake 为 true 时（`--blocking-mistake`），就在这里直接调用
//     slow_work()，这样你就能像讲解里那样看到卡顿；
//   - 用 `send_all(&conn, &config.reply).await`（TODO 7）把整条回复发出去；出错时
//     output::cannot_reply，返回。
//     参见：lessons/lesson-09/README.zh-CN.md#5-服务一个客户端
//           lessons/lesson-09/README.zh-CN.md#8-慢请求spawn_blocking
//
// TODO 5 (echo): write the task of the echo mode, with the same parameters: loop: recv, then
//     send all of it back with send_all before the next recv (so that a client that never
//     reads stops being read from: backpressure); the end and the errors as in TODO 4.
//     See: lessons/lesson-09/README.md#9-echo-and-backpressure
//   中文：编写 echo 模式的任务，参数和 TODO 4 一样：循环：recv，然后在下一次 recv 之前用
//     send_all 把收到的全部发回去（这样客户端不读回显时，服务端也就不再读它：背压）；
//     连接结束和出错的处理和 TODO 4 一样。
//     参见：lessons/lesson-09/README.zh-CN.md#9-echo-与背压
//
// TODO 6 (recv): write recv(1024) in async:
//     async fn recv(conn: &tokio::net::TcpStream) -> std::io::Result<Vec<u8>>
//   loop: `conn.readable().await?`; THEN make the buffer, `vec![0; 1024]` (a buffer made before
//   the wait would stay in every idle task), and `conn.try_read(&mut data)`: Ok(n) keeps the
//   first n bytes and returns them (0 bytes: the end of the stream); an error of kind
//   std::io::ErrorKind::WouldBlock means the readiness was old news: go round again; any
//   other error is returned.
//     See: lessons/lesson-09/README.md#6-recv-what-await-does
//   中文：用异步的方式写出 recv(1024)，函数签名如上。循环：`conn.readable().await?`；
//     然后才创建缓冲区 `vec![0; 1024]`（在等待之前创建的缓冲区会一直留在每个空闲的任务里），
//     再 `conn.try_read(&mut data)`：Ok(n) 就保留前 n 个字节并返回（0 个字节：数据流结束）；
//     错误类型为 std::io::ErrorKind::WouldBlock 表示这次就绪已经过时：再循环一次；
//     其他错误就返回。
//     参见：lessons/lesson-09/README.zh-CN.md#6-recvawait-做了什么
//
// TODO 7 (send_all): write send() of all the bytes in async:
//     async fn send_all(conn: &tokio::net::TcpStream, bytes: &[u8]) -> std::io::Result<()>
//   while bytes are left: `conn.writable().await?`, then `conn.try_write(rest)`: Ok(n) took n
//   of them; WouldBlock: the send buffer is full, wait again; other errors are returned.
//     See: lessons/lesson-09/README.md#7-send_all-waiting-for-room
//   中文：用异步的方式把所有字节都 send 出去，函数签名如上。只要还有没发完的字节：
//     `conn.writable().await?`，然后 `conn.try_write(剩下的字节)`：Ok(n) 表示发出了其中
//     n 个；WouldBlock：发送缓冲区满了，再等一次；其他错误就返回。
//     参见：lessons/lesson-09/README.zh-CN.md#7-send_all等待缓冲区腾出空间

/// The slow request's work: a blocking call (a slow library, a file, a
/// database), here a plain sleep. Run it with spawn_blocking (TODO 4).
fn slow_work() {
    std::thread::sleep(SLOW_WORK);
}
