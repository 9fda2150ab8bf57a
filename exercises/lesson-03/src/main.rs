//! Exercise 03: write the tutorial's single TCP server (lesson 03).
//!
//! Fill in the TODO steps of `run`, in order; `lessons/lesson-03/README.md`
//! explains every call. Check your work with
//! `cargo run -p grader -- check lesson-03` (add `--watch` to re-check each
//! time you save). The flags, the printers and the GBK codec are written
//! for you.
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).
//!
//! 中文：按顺序完成 `run` 里的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-03/README.zh-CN.md` 逐一讲解了每个调用。用
//! `cargo run -p grader -- check lesson-03` 检查你的程序（加上 `--watch`，
//! 每次保存都会重新检查）。命令行选项、打印和 GBK 编解码器都已经为你写好了。
//!
//! TODO 步骤会用到两样东西：写了 `use netcore::Context;` 之后，可以在 I/O 调用
//! 后面加上 `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行
//! 错误信息；`(&socket).read(&mut buffer)`（要先写 `use std::io::Read;`）就是在
//! 普通缓冲区上的 `recv`（socket2 自己的 `recv` 要的是未初始化的缓冲区）。

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ServerOptions;

const NAME: &str = "exercise-03";
const ABOUT: &str = "exercise 03: the tutorial's single TCP server";
/// The tutorial's reply.
const REPLY: &str = "ok, 问题正在处理中...";

fn main() -> ExitCode {
    let options = ServerOptions::parse(NAME, ABOUT);
    netcore::report(NAME, run(&options))
}

fn run(options: &ServerOptions) -> Result<(), Error> {
    // Where to listen, from --host and --port (the grader passes --port).
    let addr = options.addr()?;
    // The reply as bytes, ready to send.
    let reply = options.encoding.encode(REPLY)?;

    // TODO 1 (socket): create a TCP socket for `addr`'s family with socket2::Socket::new.
    //     See: lessons/lesson-03/README.md#1-socket
    //   中文：用 socket2::Socket::new 创建服务端的 TCP 套接字，地址族和 `addr` 的一致。
    //     参见：lessons/lesson-03/README.zh-CN.md#1-socket
    //
    // TODO 2 (reuseaddr): SO_REUSEADDR: set_reuse_address(true), so that the server can be started again
    //     at once on the same port. The grader checks this.
    //     See: lessons/lesson-03/README.md#2-setsockoptso_reuseaddr
    //   中文：设置端口号复用 SO_REUSEADDR：set_reuse_address(true)，这样服务端退出后，
    //     马上就能在同一个端口上再次启动。评分程序会检查这一点。
    //     参见：lessons/lesson-03/README.zh-CN.md#2-setsockoptso_reuseaddr
    //
    // TODO 3 (bind): bind it to `addr`; report a failure with netcore::error::bind_failed.
    //     See: lessons/lesson-03/README.md#3-bind
    //   中文：把套接字绑定到 `addr`；绑定失败时用 netcore::error::bind_failed 报告错误。
    //     参见：lessons/lesson-03/README.zh-CN.md#3-bind
    //
    // TODO 4 (listen): listen(128), then print `listening on IP:PORT` with the address the
    //     socket really got (socket.local_addr()), and flush stdout.
    //     See: lessons/lesson-03/README.md#4-listen128
    //   中文：设置监听 listen(128)，然后用套接字实际绑定到的地址（socket.local_addr()）
    //     打印 `listening on IP:PORT`，并刷新 stdout。
    //     参见：lessons/lesson-03/README.zh-CN.md#4-listen128
    //
    // TODO 5 (accept): accept one client; print its address (netcore::pyrepr::PyAddr prints it
    //     the way Python does).
    //     See: lessons/lesson-03/README.md#5-accept
    //   中文：等待并接受一个客户端的连接请求（accept），打印客户端的地址
    //     （netcore::pyrepr::PyAddr 会按 Python 的格式打印）。
    //     参见：lessons/lesson-03/README.zh-CN.md#5-accept
    //
    // TODO 6 (recv, decode): receive up to 1024 bytes from the *accepted* socket and print them decoded
    //     (options.encoding.decode). Invalid bytes must not stop the server: warn and go on.
    //     See: lessons/lesson-03/README.md#6-recv
    //          lessons/lesson-03/README.md#7-decode
    //   中文：从 accept 返回的那个新套接字（不是监听套接字）接收最多 1024 字节，
    //     解码（options.encoding.decode）后打印出来。收到不合法的字节不能让服务端停下：
    //     打印一条警告，然后继续。
    //     参见：lessons/lesson-03/README.zh-CN.md#6-recv
    //           lessons/lesson-03/README.zh-CN.md#7-解码
    //
    // TODO 7 (send): send all of `reply`, in a loop (send may take only part).
    //     See: lessons/lesson-03/README.md#8-send
    //   中文：把 `reply` 全部发送给客户端，要循环发送（send 可能只发出一部分）。
    //     参见：lessons/lesson-03/README.zh-CN.md#8-send
    //
    // TODO 8 (close): close the client's socket, then the listening socket, and return Ok(()).
    //     See: lessons/lesson-03/README.md#9-close
    //   中文：先关闭与客户端通信的套接字，再关闭监听套接字，然后返回 Ok(())。
    //     参见：lessons/lesson-03/README.zh-CN.md#9-close
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, reply);
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-03/src/main.rs",
        "还没有写好：请按照 exercises/lesson-03/src/main.rs 里的 TODO 步骤来写",
    )))
}
