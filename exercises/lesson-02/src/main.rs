//! Exercise 02: write the tutorial's TCP client (lesson 02).
//!
//! Fill in the TODO steps of `run`, in order; `lessons/lesson-02/README.md`
//! explains every call. Check your work with
//! `cargo run -p grader -- check lesson-02` (add `--watch` to re-check each
//! time you save). The flags, the `b'...'` printer and the GBK codec are
//! written for you.
//!
//! 中文：按顺序完成 `run` 里的各个 TODO 步骤，每个 TODO 下面都有中文说明；
//! `lessons/lesson-02/README.zh-CN.md` 逐一讲解了每个调用。用
//! `cargo run -p grader -- check lesson-02` 检查你的程序（加上 `--watch`，
//! 每次保存都会重新检查）。命令行选项、`b'...'` 格式的打印和 GBK 编解码器
//! 都已经为你写好了。

use std::process::ExitCode;

use netcore::Error;
use netcore::cli::ClientOptions;
use netcore::pyrepr::PyBytes;

const NAME: &str = "exercise-02";
const ABOUT: &str = "exercise 02: the tutorial's TCP client";
/// The tutorial's message.
const MESSAGE: &str = "你好服务端，我是客户端小黑!";

fn main() -> ExitCode {
    let options = ClientOptions::parse(NAME, ABOUT, MESSAGE);
    netcore::report(NAME, run(&options))
}

fn run(options: &ClientOptions) -> Result<(), Error> {
    // The server's address, from --host and --port (the grader passes both).
    let server = options.addr()?;
    // The message as GBK bytes, ready to send.
    let send_data = options.encoding.encode(&options.message)?;
    println!("sending ({}): {}", options.encoding, PyBytes(&send_data));

    // TODO 1 (socket): create a TCP socket of the server address's family:
    //     let client = socket2::Socket::new(socket2::Domain::for_address(server),
    //                                       socket2::Type::STREAM, Some(socket2::Protocol::TCP))
    //         .context(|| "cannot create a socket")?;   // needs `use netcore::Context;`
    //     See: lessons/lesson-02/README.md#1-socket
    //   中文：创建一个 TCP 客户端套接字，地址族要和服务端地址的一致（IPv4 还是 IPv6，
    //     由 `server` 决定），写法就是上面那段代码（要先写 `use netcore::Context;`）。
    //     参见：lessons/lesson-02/README.zh-CN.md#1-socket
    //
    // TODO 2 (connect): connect it to `server`. When nothing listens there, report it with
    //     netcore::error::connect_failed(server, &err, "cargo run -p lesson-03").
    //     See: lessons/lesson-02/README.md#2-connect
    //   中文：用这个套接字和 `server` 建立连接。如果那里没有程序在监听，就用
    //     netcore::error::connect_failed(server, &err, "cargo run -p lesson-03") 报告错误。
    //     参见：lessons/lesson-02/README.zh-CN.md#2-connect
    //
    // TODO 3 (send): send all of `send_data`. send() returns how many bytes it took, which may
    //     be fewer than offered: loop until every byte is sent.
    //     See: lessons/lesson-02/README.md#4-send
    //   中文：把 `send_data` 全部发送出去。send() 返回这一次放进发送缓冲区的字节数，
    //     可能比你交给它的少：要循环发送，直到每个字节都发完。
    //     参见：lessons/lesson-02/README.zh-CN.md#4-send
    //
    // TODO 4 (recv): receive up to 1024 bytes (`std::io::Read::read` on `&client` is recv).
    //     0 bytes means the server closed the connection without replying: return an error.
    //     Print the bytes with PyBytes, as `received: b'...'`.
    //     See: lessons/lesson-02/README.md#5-recv
    //   中文：接收数据，一次最多 1024 字节（在 `&client` 上调用 `std::io::Read::read` 就是 recv）。
    //     收到 0 字节，说明服务端没有回复就关闭了连接：返回一个错误。
    //     用 PyBytes 把收到的字节打印成 `received: b'...'`。
    //     参见：lessons/lesson-02/README.zh-CN.md#5-recv
    //
    // TODO 5 (decode): print `decoded: ` and the reply decoded with options.encoding.decode(..).
    //     If `.has_invalid()`, warn on stderr: the bytes were not valid GBK.
    //     See: lessons/lesson-02/README.md#6-decode-the-reply
    //   中文：用 options.encoding.decode(..) 对回复进行解码，打印 `decoded: ` 和解码后的文字。
    //     如果 `.has_invalid()` 为真，说明收到的字节不是合法的 GBK：在 stderr 上打印一条警告。
    //     参见：lessons/lesson-02/README.zh-CN.md#6-解码回复
    //
    // TODO 6 (close): close the socket (drop it).
    //     See: lessons/lesson-02/README.md#7-close
    //   中文：关闭套接字（drop 掉它）。
    //     参见：lessons/lesson-02/README.zh-CN.md#7-close
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = server;
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-02/src/main.rs",
        "还没有写好：请按照 exercises/lesson-02/src/main.rs 里的 TODO 步骤来写",
    )))
}
