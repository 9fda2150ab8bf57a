//! Exercise 08: write an event loop on mio (lesson 08).
//!
//! `exercise-08 --port P` answers every message with `ok, 收到了`, as lesson
//! 05 does; `exercise-08 echo --port P` sends every byte back. Both from ONE
//! thread: fill in the TODO steps of `run`, and write a client's state and
//! its turn below it. `lessons/lesson-08/README.md` explains every step.
//! Check your work with `cargo run -p grader -- check lesson-08`, and by
//! hand: `cargo run -p exercise-08 -- --port 8080`, then
//! `cargo run -p lesson-02 -- --interactive` in other terminals.
//!
//! What the TODO steps use: `mio` (already in Cargo.toml: `mio::Poll`,
//! `mio::Events`, `mio::Interest`, `mio::Token`, `mio::net::TcpListener`);
//! `use netcore::Context;`, which lets you write
//! `.context(|| "what was being done")?` after an I/O call; and
//! `std::io::ErrorKind::WouldBlock`, what every call on a non-blocking
//! socket says when it would have had to wait.
//!
//! 中文：`exercise-08 --port P` 像第 05 课一样，对每条消息回复 `ok, 收到了`；
//! `exercise-08 echo --port P` 把收到的每个字节发回去。两种模式都只用一个线程：
//! 完成 `run` 里的各个 TODO 步骤，再在它下面写出一个客户端的状态和它的一轮处理，
//! 每个 TODO 下面都有中文说明；`lessons/lesson-08/README.zh-CN.md` 讲解了每一步。
//! 用 `cargo run -p grader -- check lesson-08` 检查你的程序；也可以手工检查：`cargo run -p exercise-08 -- --port 8080`，然后在其他终端里
//! 运行 `cargo run -p lesson-02 -- --interactive`。
//!
//! TODO 步骤会用到：`mio`（Cargo.toml 里已经有了：`mio::Poll`、`mio::Events`、
//! `mio::Interest`、`mio::Token`、`mio::net::TcpListener`）；`use netcore::Context;`，
//! 写了它之后可以在 I/O 调用后面加上 `.context(|| "正在做什么")?`；以及
//! `std::io::ErrorKind::WouldBlock`：非阻塞套接字上的调用在本来需要等待时，都会返回这个错误。

use std::process::ExitCode;

use lexopt::prelude::*;
use netcore::Error;
use netcore::cli::{self, ServerOptions};

const NAME: &str = "exercise-08";
const ABOUT: &str = "exercise 08: an event loop on mio, one thread for every client";
/// The tutorial's reply to every message: "ok, got it".
const REPLY: &str = "ok, 收到了";

fn main() -> ExitCode {
    let help = ServerOptions::help(NAME, ABOUT).positional(
        "MODE",
        "reply: answer each message with `ok, 收到了`; echo: send every byte back [default: reply]",
    );
    let (options, echo) = cli::parse_or_exit(NAME, |parser| {
        let (mut options, mut echo) = (ServerOptions::default(), None);
        while let Some(arg) = parser.next()? {
            match arg {
                Value(value) if echo.is_none() => {
                    echo = Some(match value.string()?.as_str() {
                        "reply" => false,
                        "echo" => true,
                        other => {
                            return Err(netcore::tr!(
                                "unknown mode '{other}': expected reply or echo",
                                "未知的模式 '{other}'：应为 reply 或 echo"
                            )
                            .into());
                        }
                    });
                }
                Long("host") => options.host = parser.value()?.string()?,
                Long("port") => options.port = cli::port("--port", parser.value()?)?,
                Long("encoding") => {
                    options.encoding = cli::encoding("--encoding", parser.value()?)?;
                }
                Long("lang") => cli::lang(parser.value()?)?,
                Short('h') | Long("help") => help.print_and_exit(),
                _ => return Err(arg.unexpected()),
            }
        }
        Ok((options, echo.unwrap_or(false)))
    });
    netcore::report(NAME, run(&options, echo))
}

fn run(options: &ServerOptions, echo: bool) -> Result<(), Error> {
    let addr = options.addr()?;
    let reply = options.encoding.encode(REPLY)?;
    // One descriptor per client, and the grader connects 1,000 at once: many systems start a
    // program with room for 1024 only. Written for you (plumbing, not the lesson).
    //   中文：每个客户端占一个描述符，而评分程序会同时连上 1,000 个：很多系统启动程序时只给
    //   1024 个的空间。这一行已经为你写好（辅助代码，不是本课的内容）。
    let _ = netcore::sys::raise_open_file_limit();

    // TODO 1 (listen): socket, SO_REUSEADDR, bind(addr), listen(1024), as in exercise 05; then
    //     make the socket non-blocking (set_nonblocking(true)): from now on no call waits.
    //     Print `listening on IP:PORT`.
    //     See: lessons/lesson-08/README.md#1-listen-and-make-the-socket-non-blocking
    //   中文：和练习 05 一样：创建套接字，设置 SO_REUSEADDR，bind(addr)，listen(1024)；然后
    //     把套接字设为非阻塞（set_nonblocking(true)）：从此没有哪个调用会等待。
    //     打印 `listening on IP:PORT`。
    //     参见：lessons/lesson-08/README.zh-CN.md#1-监听并把套接字设为非阻塞
    //
    // TODO 2 (poll): create the poll (mio::Poll::new(), which is epoll_create1) and room for
    //     its events (mio::Events::with_capacity(1024)); hand the socket to mio
    //     (mio::net::TcpListener::from_std(socket.into())) and register it with a token of
    //     its own and Interest::READABLE (epoll_ctl ADD).
    //     See: lessons/lesson-08/README.md#2-a-poll-epoll_create1-and-epoll_ctl
    //   中文：创建 poll（mio::Poll::new()，也就是 epoll_create1），以及存放事件的空间
    //     （mio::Events::with_capacity(1024)）；把套接字交给 mio
    //     （mio::net::TcpListener::from_std(socket.into())），用一个它自己的 token 和
    //     Interest::READABLE 注册它（epoll_ctl ADD）。
    //     参见：lessons/lesson-08/README.zh-CN.md#2-一个-pollepoll_create1-和-epoll_ctl
    //
    // TODO 3 (event_loop, accept): the loop. Wait with poll.poll(&mut events, timeout)
    //     (epoll_wait; try again when it fails with ErrorKind::Interrupted). The timeout is
    //     None (as long as it takes: an idle server must use no CPU), or Some(Duration::ZERO)
    //     while some client has work left over (TODO 5). For each event:
    //   - the listener's token: accept until WouldBlock (mio is edge-triggered: clients
    //     still waiting get no second event). Register each client with a token of its own
    //     and Interest::READABLE only, keep it in a HashMap<Token, your client struct>, and
    //     print `client connected: ` with its address (netcore::pyrepr::PyAddr);
    //   - any other token: that client's turn (TODO 5); remove it from the map when its turn
    //     says it is done.
    //     See: lessons/lesson-08/README.md#3-the-event-loop
    //          lessons/lesson-08/README.md#4-accept-everyone-waiting
    //   中文：事件循环。用 poll.poll(&mut events, timeout) 等待（即 epoll_wait；以
    //     ErrorKind::Interrupted 失败时再试一次）。超时是 None（需要等多久就等多久：空闲的
    //     服务端不能占用 CPU），当有客户端还有没做完的工作时（TODO 5）则是
    //     Some(Duration::ZERO)。对每个事件：
    //   - 监听套接字的 token：一直 accept 到 WouldBlock（mio 是边缘触发的：还在等待的客户端
    //     不会再有第二个事件）。每个客户端用它自己的 token 注册，只关注 Interest::READABLE，
    //     放进一个 HashMap<Token, 你的客户端结构体>，并打印 `client connected: ` 和它的地址
    //     （netcore::pyrepr::PyAddr）；
    //   - 其他 token：轮到那个客户端处理（TODO 5）；如果这一轮处理的结果是连接已结束，就把它从
    //     映射表里移除。
    //     参见：lessons/lesson-08/README.zh-CN.md#3-事件循环
    //           lessons/lesson-08/README.zh-CN.md#4-接受所有在等待的客户端
    //
    // Then delete these two lines.
    //   中文：最后把下面这两句（`let _ = ...;` 和 `Err(...)`）删掉。
    let _ = (addr, reply, echo);
    Err(Error::msg(netcore::lang::tr(
        "not written yet: follow the TODO steps in exercises/lesson-08/src/main.rs",
        "还没有写好：请按照 exercises/lesson-08/src/main.rs 里的 TODO 步骤来写",
    )))
}

// TODO 4 (state): a struct for one client, kept between two events: its mio TcpStream, its
//     address, its token, ONE decoder for the whole connection (`options.encoding.decoder()`:
//     it keeps half a character from one recv for the next; the grader splits a character in
//     two), its output waiting to be sent (a std::collections::VecDeque<u8>), whether
//     WRITABLE is in its interest, and whether recv returned 0.
//     See: lessons/lesson-08/README.md#5-a-connections-turn
//   中文：一个客户端的结构体，在两个事件之间保存它的状态：它的 mio TcpStream、地址、token，
//     整个连接只用一个解码器（`options.encoding.decoder()`：它把这一次 recv 收到的半个字符
//     留到下一次；评分程序会把一个字符拆成两半发送），等着发送的输出
//     （std::collections::VecDeque<u8>），WRITABLE 是否在它关注的事件里，以及 recv 是否
//     返回过 0。
//     参见：lessons/lesson-08/README.zh-CN.md#5-一个连接的一轮处理
//
// TODO 5 (turn): a client's turn: read (TODO 6), then send (TODO 7). Close it when recv has
//     returned 0 and all its output is sent, or on an error: deregister it first
//     (epoll_ctl DEL), then drop it. WRITABLE belongs in its interest only while output
//     waits: reregister (epoll_ctl MOD) with READABLE | WRITABLE when output is left after
//     sending, with READABLE alone when it is all sent, and ONLY when that changes (a MOD
//     makes epoll report a ready socket again at once: a MOD at every turn is a busy loop).
//     When it stopped reading because its output was full (TODO 6) and sending made room, it
//     must get another turn without waiting for an event: no event will come for bytes that
//     were announced already.
//     See: lessons/lesson-08/README.md#5-a-connections-turn
//   中文：一个客户端的一轮处理：先读（TODO 6），再发送（TODO 7）。recv 返回过 0 并且输出
//     全部发完了，或者出错时，关闭它：先注销（epoll_ctl DEL），再丢弃它（drop）。只在有输出等着
//     发送时，关注的事件里才有 WRITABLE：发送之后还剩输出，就用 READABLE | WRITABLE 重新注册
//     （epoll_ctl MOD）；全部发完了，就只用 READABLE；而且只在这一点变化时才重新注册（MOD 会
//     让 epoll 立刻再报告一次就绪的套接字：每一轮都 MOD 就是忙循环）。如果它因为输出已满而
//     停止了读取（TODO 6），而发送腾出了空间，它必须不等事件就再轮一次：已经报告过的字节
//     不会再有事件。
//     参见：lessons/lesson-08/README.zh-CN.md#5-一个连接的一轮处理
//
// TODO 6 (read): recv until WouldBlock (edge-triggered: bytes left unread get no second
//     event). Reply mode: each recv of up to 1024 bytes is one message: print `received: `,
//     decoder.feed(..).text escaped as `netcore::pyrepr::PyText(&text)` (a client's bytes must
//     not steer your terminal) and the address, and add the whole reply, `ok, 收到了`, to the
//     output (the grader checks those exact bytes). Echo mode: add the bytes themselves.
//     0 bytes: print `client offline: ` and the address; read no more. An error (a reset):
//     close. Backpressure: while 256 KiB or more wait in its output, read nothing more from
//     this client: a client that never reads must not grow the server's memory.
//     See: lessons/lesson-08/README.md#6-read-until-wouldblock
//   中文：一直 recv 到 WouldBlock（边缘触发：没读的字节不会再有第二个事件）。reply 模式：每次
//     最多 1024 字节的 recv 就是一条消息：打印 `received: `、decoder.feed(..).text（用
//     `netcore::pyrepr::PyText(&text)` 转义：客户端发来的字节不能操纵你的终端）和地址，
//     再把整条回复 `ok, 收到了` 加进输出（评分程序会逐字节检查）。echo 模式：把字节本身加进
//     输出。收到 0 字节：打印 `client offline: ` 和地址；不再读取。出错（连接被重置）：关闭。
//     背压：只要它的输出里有 256 KiB 或更多在等着，就不再从这个客户端读取：一个从不读取的
//     客户端不能让服务端的内存增长。
//     参见：lessons/lesson-08/README.zh-CN.md#6-一直读到-wouldblock
//
// TODO 7 (write): send from the front of the output until it is empty or send says
//     WouldBlock, removing what each send took: a partial send is normal, and the rest waits
//     for WRITABLE.
//     See: lessons/lesson-08/README.md#7-send-what-fits-the-rest-waits-for-writable
//   中文：从输出的前端开始发送，直到输出为空，或者 send 说 WouldBlock；每次 send 收下多少，
//     就从输出里去掉多少：只发出一部分是正常的，剩下的等 WRITABLE。
//     参见：lessons/lesson-08/README.zh-CN.md#7-能发多少发多少剩下的等-writable
