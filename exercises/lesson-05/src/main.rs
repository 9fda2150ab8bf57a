//! Exercise 05: write the tutorial's threaded server (lesson 05).
//!
//! Fill in the TODO steps of `run` and `handle_client`;
//! `lessons/lesson-05/README.md` explains every call. Check your work with
//! `cargo run -p grader -- check lesson-05` (add `--watch` to re-check each
//! time you save).
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).
//!
//! 中文：完成 `run` 和 `handle_client` 里的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-05/README.zh-CN.md` 逐一讲解了每个调用。用
//! `cargo run -p grader -- check lesson-05` 检查你的程序（加上 `--watch`，
//! 每次保存都会重新检查）。
//!
//! TODO 步骤会用到两样东西：写了 `use netcore::Context;` 之后，可以在 I/O 调用
//! 后面加上 `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行
//! 错误信息；`(&socket).read(&mut buffer)`（要先写 `use std::io::Read;`）就是在
//! 普通缓冲区上的 `recv`（socket2 自己的 `recv` 要的是未初始化的缓冲区）。

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ServerOptions;

const NAME: &str = "exercise-05";
const ABOUT: &str = "exercise 05: the tutorial's threaded server";
/// The tutorial's reply to every message: "ok, got it".
const REPLY: &str = "ok, 收到了";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    let addr = options.addr()?;
    let reply = options.encoding.encode(REPLY)?;

    // TODO 1 (listen): socket, SO_REUSEADDR, bind(addr), listen(128), as in exercise 03; print
    //     `listening on IP:PORT` and flush stdout.
    //     See: lessons/lesson-05/README.md#1-listen-as-before
    //   中文：和练习 03 一样：创建套接字，设置 SO_REUSEADDR，bind(addr)，listen(128)；
    //     打印 `listening on IP:PORT`，并刷新 stdout。
    //     参见：lessons/lesson-05/README.zh-CN.md#1-监听和之前一样
    //
    // TODO 2 (accept_loop, spawn): accept in a loop. For each client, print `client connected: ` and its address,
    //     then start a thread for it (std::thread::spawn) that runs handle_client. The main
    //     thread goes straight back to accept: a silent client must not block the next one.
    //     See: lessons/lesson-05/README.md#2-accept-in-a-loop
    //          lessons/lesson-05/README.md#3-a-thread-per-client
    //   中文：在循环里等待并接受客户端的连接请求。每接受一个客户端，就打印 `client connected: `
    //     和它的地址，然后为它创建一个子线程（std::thread::spawn），在子线程里运行 handle_client。
    //     主线程马上回到 accept：一个一言不发的客户端不能挡住下一个客户端。
    //     参见：lessons/lesson-05/README.zh-CN.md#2-循环接受连接
    //           lessons/lesson-05/README.zh-CN.md#3-每个客户端一个线程
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, reply);
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-05/src/main.rs",
        "还没有写好：请按照 exercises/lesson-05/src/main.rs 里的 TODO 步骤来写",
    )))
}

// TODO 3 (handle): write the thread's work, for example
//     fn handle_client(conn: socket2::Socket, ip_port: std::net::SocketAddr,
//                      encoding: netcore::text::Encoding, reply: Vec<u8>)
//   - make ONE decoder for the connection: `let mut decoder = encoding.decoder();` It keeps
//     half a character from one recv for the next (the grader splits a character in two);
//   - loop: recv up to 1024 bytes;
//       0 bytes: print `client offline: ...`, leave the loop;
//       an error (a client that resets): print it, leave the loop;
//       otherwise: print `received: ` with decoder.feed(..).text and the address, and send the
//       whole reply, `ok, 收到了` (the grader checks those exact bytes);
//   - close the client's socket.
//   See: lessons/lesson-05/README.md#4-serve-one-client
//   中文：编写子线程要做的事，比如写成上面这样的 handle_client 函数：
//   - 每个连接只创建一个解码器（不要每次 recv 都新建）：`let mut decoder = encoding.decoder();`
//     它会把这一次 recv 收到的半个字符留到下一次（评分程序会把一个字符拆成两半发送）；
//   - 循环：用 recv 接收最多 1024 字节；
//       收到 0 字节：打印 `client offline: ...`，跳出循环；
//       出错（客户端重置了连接）：打印错误，跳出循环；
//       否则：打印 `received: `、decoder.feed(..).text 和客户端地址，再把整条回复
//       `ok, 收到了` 发送出去（评分程序会逐字节检查）；
//   - 关闭与客户端通信的套接字。
//   参见：lessons/lesson-05/README.zh-CN.md#4-服务一个客户端
