//! Exercise 07: write a thread pool (lesson 07, beyond the tutorial).
//!
//! Fill in the TODO steps of `run`, then write `refuse`, `work` and
//! `handle_request` below it; `lessons/lesson-07/README.md` explains every
//! call. The flags are read for you (`args.rs`). Check your work with
//! `cargo run -p grader -- check lesson-07` (add `--watch` to re-check each
//! time you save).
//!
//! Things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints;
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer; `std::sync::mpsc::sync_channel` is the bounded queue.
//!
//! 中文：完成 `run` 里的各个 TODO 步骤，再在它下面写出 `refuse`、`work` 和
//! `handle_request`，每个 TODO 下面都有中文说明；
//! `lessons/lesson-07/README.zh-CN.md` 逐一讲解了每个调用。命令行选项已经为你读好了
//! （`args.rs`）。用 `cargo run -p grader -- check lesson-07` 检查你的程序（加上
//! `--watch`，每次保存都会重新检查）。
//!
//! TODO 步骤会用到：写了 `use netcore::Context;` 之后，可以在 I/O 调用后面加上
//! `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行错误信息；
//! `(&socket).read(&mut buffer)`（要先写 `use std::io::Read;`）就是在普通缓冲区上的
//! `recv`；有界队列就是 `std::sync::mpsc::sync_channel`。

mod args;

use std::process::ExitCode;

use netcore::Error;

use args::Args;

const NAME: &str = "exercise-07";
const ABOUT: &str = "exercise 07: a thread pool, a bounded queue and a deadline";
/// The tutorial's reply to every message: "ok, got it".
const REPLY: &str = "ok, 收到了";
/// What a client hears when the queue is full: "the server is busy, please
/// try again later".
const BUSY: &str = "服务器忙，请稍后再试";

fn main() -> ExitCode {
    let args = args::parse();
    netcore::report(NAME, run(&args))
}

fn run(args: &Args) -> Result<(), Error> {
    let addr = args.server.addr()?;
    let reply = args.server.encoding.encode(REPLY)?;
    let busy = args.server.encoding.encode(BUSY)?;

    // TODO 1 (listen): socket, SO_REUSEADDR, bind(addr), listen(128), as in exercise 05; print
    //     `listening on IP:PORT`.
    //     See: lessons/lesson-07/README.md#1-listen-as-before
    //   中文：和练习 05 一样：创建套接字，设置 SO_REUSEADDR，bind(addr)，listen(128)；
    //     打印 `listening on IP:PORT`。
    //     参见：lessons/lesson-07/README.zh-CN.md#1-监听和之前一样
    //
    // TODO 2 (queue, workers): make the bounded queue, `std::sync::mpsc::sync_channel(args.queue)`,
    //     of accepted clients (a socket and its address each); put its receiving end in an
    //     `Arc<Mutex<...>>` so that every worker can wait on it. Then start `args.workers`
    //     threads, and no more, ever: each runs `work` (TODO 5) with a clone of that Arc and what
    //     it needs to serve (the encoding, the reply, `args.idle_timeout`). If a thread cannot
    //     be started, return the error: the server does not start.
    //     See: lessons/lesson-07/README.md#2-a-bounded-queue
    //          lessons/lesson-07/README.md#3-the-workers-started-once
    //   中文：创建有界队列 `std::sync::mpsc::sync_channel(args.queue)`，队列里放已接受的客户端
    //     （每个是一个套接字加上它的地址）；把接收端放进 `Arc<Mutex<...>>`，让每个工作线程都能在
    //     上面等待。然后启动 `args.workers` 个线程，之后再也不创建线程：每个线程运行 `work`
    //     （TODO 5），拿着那个 Arc 的克隆，以及服务客户端所需要的东西（编码、回复、
    //     `args.idle_timeout`）。如果有线程启动不了，就返回这个错误：服务端不启动。
    //     参见：lessons/lesson-07/README.zh-CN.md#2-有界队列
    //           lessons/lesson-07/README.zh-CN.md#3-工作线程只启动一次
    //
    // TODO 3 (accept_loop): accept in a loop. For each client, print `client connected: ` and its
    //     address, then hand it to the queue with `try_send`, which never waits. When it fails
    //     (`TrySendError::Full`: Q clients wait already), it gives the client back: call
    //     `refuse` (TODO 4) with its socket and `busy`, and print `server busy: refused ` and
    //     the address. Never `send`: it would stop the accept loop until a worker is free.
    //     See: lessons/lesson-07/README.md#4-accept-and-hand-the-client-to-the-queue
    //   中文：在循环里接受连接。每接受一个客户端，就打印 `client connected: ` 和它的地址，然后用
    //     从不等待的 `try_send` 把它交给队列。失败时（`TrySendError::Full`：已经有 Q 个客户端在
    //     等待），它会把客户端交还给你：用它的套接字和 `busy` 调用 `refuse`（TODO 4），并打印
    //     `server busy: refused ` 和地址。不要用 `send`：它会让 accept 循环一直停到有工作线程空闲。
    //     参见：lessons/lesson-07/README.zh-CN.md#4-接受连接把客户端交给队列
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (
        addr,
        reply,
        busy,
        args.workers,
        args.queue,
        args.idle_timeout,
    );
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-07/src/main.rs",
        "还没有写好：请按照 exercises/lesson-07/src/main.rs 里的 TODO 步骤来写",
    )))
}

// TODO 4 (refuse): write `fn refuse(conn: socket2::Socket, busy: &[u8])`, which turns a client
//     away without ever waiting (the accept loop runs it): make the socket non-blocking, send
//     `busy`, `shutdown(Write)`, read what the client had already sent (at most 64 KiB, until a
//     read fails or returns 0), and let the socket close. A refused client then reads
//     `服务器忙，请稍后再试` and the end of the stream, never a reset: that is the lesson's
//     promise (the grader counts any quick close as a refusal, so try it by hand too).
//     See: lessons/lesson-07/README.md#5-a-full-queue-refuse-without-a-reset
//   中文：写出 `fn refuse(conn: socket2::Socket, busy: &[u8])`，它拒绝一个客户端，而且从不等待
//     （accept 循环会调用它）：把套接字设为非阻塞，发送 `busy`，`shutdown(Write)`，读出客户端
//     已经发来的数据（最多 64 KiB，直到读取失败或返回 0），然后让套接字关闭。这样被拒绝的客户端
//     先读到 `服务器忙，请稍后再试`，然后是数据流结束，绝不是重置：这是本课的承诺（评分程序把任何
//     很快发生的关闭都算作拒绝，所以也要亲手试一试）。
//     参见：lessons/lesson-07/README.zh-CN.md#5-队列满了拒绝但不发送重置
//
// TODO 5 (worker): write `fn work(...)`, a worker's loop: lock the queue's receiving end and
//     `recv()` the next client, giving the lock back before serving it (take the client in one
//     `let` statement); give the socket its deadline, `set_read_timeout(idle_timeout)` and
//     `set_write_timeout(idle_timeout)`; serve it with `handle_request` (TODO 6); come back for
//     the next. A worker never ends while the server runs.
//     See: lessons/lesson-07/README.md#6-a-worker-takes-the-next-client-with-a-deadline
//   中文：写出 `fn work(...)`，也就是工作线程的循环：锁住队列的接收端，用 `recv()` 取下一个客户端，
//     并在服务它之前把锁还回去（在一条 `let` 语句里取出客户端）；给套接字设置截止时间：
//     `set_read_timeout(idle_timeout)` 和 `set_write_timeout(idle_timeout)`；用
//     `handle_request`（TODO 6）服务它；再回来取下一个。服务端运行期间，工作线程从不结束。
//     参见：lessons/lesson-07/README.zh-CN.md#6-工作线程取下一个客户端并给它一个截止时间
//
// TODO 6 (handle): write `fn handle_request(...)`, exercise 05's conversation on a worker:
//   - ONE decoder for the connection (`encoding.decoder()`): the grader splits a character;
//   - loop: recv up to 1024 bytes;
//       0 bytes: print `client offline: ...`, leave the loop;
//       a timeout (`ErrorKind::WouldBlock` or `TimedOut`): the client was silent past its
//       deadline: print `client idle, closing: ...`, leave the loop, so that the worker is free;
//       another error (a client that resets): print it, leave the loop;
//       otherwise: print `received: ` with decoder.feed(..).text, escaped as
//       `netcore::pyrepr::PyText(&text)` (a client's bytes must not steer your terminal), and
//       the address, and send the whole reply, `ok, 收到了`;
//   - close the socket (drop it).
//   See: lessons/lesson-07/README.md#7-serve-one-client
//   中文：写出 `fn handle_request(...)`，也就是在工作线程上进行练习 05 的那段对话：
//   - 每个连接只创建一个解码器（`encoding.decoder()`）：评分程序会把一个字符拆成两半发送；
//   - 循环：用 recv 接收最多 1024 字节；
//       收到 0 字节：打印 `client offline: ...`，跳出循环；
//       超时（`ErrorKind::WouldBlock` 或 `TimedOut`）：客户端沉默超过了截止时间：打印
//       `client idle, closing: ...`，跳出循环，让工作线程空出来；
//       其他错误（客户端重置了连接）：打印错误，跳出循环；
//       否则：打印 `received: `、decoder.feed(..).text（用 `netcore::pyrepr::PyText(&text)`
//       转义：客户端发来的字节不能操纵你的终端）和客户端地址，再把整条回复 `ok, 收到了` 发送出去；
//   - 关闭套接字（丢弃它）。
//   参见：lessons/lesson-07/README.zh-CN.md#7-服务一个客户端
