//! Exercise 04: a server and a client that notice the other side closing
//! (lesson 04).
//!
//! `exercise-04 server --port P` and `exercise-04 client --port P`. Fill in
//! the TODO steps of `server` and `client`; `lessons/lesson-04/README.md`
//! explains them. Check your work with
//! `cargo run -p grader -- check lesson-04` (add `--watch` to re-check each
//! time you save).
//!
//! Two things the TODO steps use: `use netcore::Context;` lets you write
//! `.context(|| "what was being done")?` after an I/O call, turning its
//! error into the one-line error this program prints; and
//! `(&socket).read(&mut buffer)` (with `use std::io::Read;`) is `recv` on an
//! ordinary buffer (socket2's own `recv` wants an uninitialised one).
//!
//! 中文：`exercise-04 server --port P` 和 `exercise-04 client --port P`。按顺序完成
//! `server` 和 `client` 里的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-04/README.zh-CN.md` 讲解了它们。用
//! `cargo run -p grader -- check lesson-04` 检查你的程序（加上 `--watch`，
//! 每次保存都会重新检查）。
//!
//! TODO 步骤会用到两样东西：写了 `use netcore::Context;` 之后，可以在 I/O 调用
//! 后面加上 `.context(|| "正在做什么")?`，把它的错误变成本程序打印的那种一行
//! 错误信息；`(&socket).read(&mut buffer)`（要先写 `use std::io::Read;`）就是在
//! 普通缓冲区上的 `recv`（socket2 自己的 `recv` 要的是未初始化的缓冲区）。

use std::process::ExitCode;

use lexopt::prelude::*;
use netcore::Error;
use netcore::cli::{self, DEFAULT_PORT, Help, resolve};
use netcore::text::Encoding;

const NAME: &str = "exercise-04";
const ABOUT: &str = "exercise 04: a server and a client that notice the other side closing";

fn main() -> ExitCode {
    let help = Help::new(NAME, ABOUT)
        .positional("MODE", "server or client")
        .option(
            "--port PORT",
            "server: port to listen on; client: server's port",
        )
        .default(DEFAULT_PORT)
        .option("--encoding gbk|utf-8", "how text is encoded on the wire")
        .default(Encoding::Gbk);
    let (mode, port, encoding) = cli::parse_or_exit(NAME, |parser| {
        let (mut mode, mut port, mut encoding) = (None, DEFAULT_PORT, Encoding::Gbk);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if mode.is_none() => mode = Some(value.string()?),
                Long("port") => port = cli::port("--port", parser.value()?)?,
                Long("encoding") => encoding = cli::encoding("--encoding", parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok((mode, port, encoding))
    });
    let result = match mode.as_deref() {
        Some("server") => server(port, encoding),
        Some("client") => client(port, encoding),
        _ => cli::exit_usage(NAME, "say which side to play: server or client"),
    };
    netcore::report(NAME, result)
}

/// Accepts clients one after another and talks with each until it leaves.
fn server(port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve("0.0.0.0", port)?;
    // TODO 1 (server): socket, SO_REUSEADDR, bind(addr), listen(128); print `listening on IP:PORT`.
    //     See: lessons/lesson-04/README.md#the-server-and-client-modes
    //   中文：创建套接字，设置 SO_REUSEADDR，bind(addr)，listen(128)；打印 `listening on IP:PORT`。
    //     参见：lessons/lesson-04/README.zh-CN.md#server-和-client-模式
    // TODO 2 (server): in a loop, accept a client; then, in an inner loop:
    //     recv up to 1024 bytes;
    //     0 bytes: the client has closed. Print that it is offline and leave the inner loop.
    //         (Every later recv would return 0 at once: a loop that goes on spins forever,
    //          and the grader measures the CPU time it burns.)
    //     otherwise: print the message decoded with `encoding`, and send a reply.
    //     A client that resets its connection makes recv fail: print it, leave the inner loop,
    //     and accept the next client: one rude client must not stop the server.
    //     See: lessons/lesson-04/README.md#the-server-and-client-modes
    //          lessons/lesson-04/README.md#note-3-the-client-closes-the-servers-recv-returns-0
    //   中文：在循环里等待并接受客户端的连接；接受一个之后，再进入内层循环：
    //     用 recv 接收最多 1024 字节；
    //     收到 0 字节：客户端已经关闭了连接。打印它已下线，跳出内层循环。
    //         （之后的每次 recv 都会立即返回 0：不停下来的循环会一直空转，
    //          评分程序会测量它白白耗掉的 CPU 时间。）
    //     否则：打印用 `encoding` 解码后的消息，再发送一条回复。
    //     客户端重置连接时 recv 会出错：把错误打印出来，跳出内层循环，接着接受下一个客户端：
    //     一个不守规矩的客户端不能让服务端停下来。
    //     参见：lessons/lesson-04/README.zh-CN.md#server-和-client-模式
    //           lessons/lesson-04/README.zh-CN.md#注意点-3客户端关闭服务端的-recv-返回-0
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, encoding);
    Err(Error::msg(netcore::lang::tr(
        "server mode is not written yet: follow the TODO steps in exercises/lesson-04/src/main.rs",
        "服务端模式还没有写好：请按照 exercises/lesson-04/src/main.rs 里的 TODO 步骤来写",
    )))
}

/// Connects, sends one line typed on stdin, and prints replies until the
/// server closes the connection.
fn client(port: u16, encoding: Encoding) -> Result<(), Error> {
    let addr = resolve("127.0.0.1", port)?;
    // TODO 3 (client): socket and connect to `addr`.
    //     See: lessons/lesson-04/README.md#the-server-and-client-modes
    //   中文：创建套接字，和 `addr` 建立连接。
    //     参见：lessons/lesson-04/README.zh-CN.md#server-和-client-模式
    // TODO 4 (client): read one line from stdin (std::io::stdin().read_line), send it encoded.
    //     Read only that one line: the grader leaves stdin open, so reading it to the end
    //     (read_to_string, lines()) would wait forever.
    //     See: lessons/lesson-04/README.md#the-server-and-client-modes
    //   中文：从标准输入读一行（std::io::stdin().read_line），编码后发送出去。
    //     只读这一行：评分程序不会关闭标准输入，一直读到末尾（read_to_string、lines()）
    //     会永远等下去。
    //     参见：lessons/lesson-04/README.zh-CN.md#server-和-client-模式
    // TODO 5 (client): recv in a loop, printing each reply decoded; when recv returns 0 the server has
    //     closed: print that, and return Ok(()) so that the program exits.
    //     Do not stop at the first reply: the grader replies, waits a while with the
    //     connection open, and only then closes; your client must still be there, in recv.
    //     See: lessons/lesson-04/README.md#the-server-and-client-modes
    //          lessons/lesson-04/README.md#note-4-the-server-closes-the-clients-recv-returns-0
    //   中文：循环调用 recv，把每条回复解码后打印出来；recv 返回 0，说明服务端已经关闭了连接：
    //     打印这一点，然后返回 Ok(())，让程序退出。
    //     不要收到第一条回复就停下：评分程序回复之后，会让连接保持一会儿才关闭；
    //     这时你的客户端必须还在 recv 里等着。
    //     参见：lessons/lesson-04/README.zh-CN.md#server-和-client-模式
    //           lessons/lesson-04/README.zh-CN.md#注意点-4服务端关闭客户端的-recv-返回-0
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, encoding);
    Err(Error::msg(netcore::lang::tr(
        "client mode is not written yet: follow the TODO steps in exercises/lesson-04/src/main.rs",
        "客户端模式还没有写好：请按照 exercises/lesson-04/src/main.rs 里的 TODO 步骤来写",
    )))
}
