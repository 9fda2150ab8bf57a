//! What exercise 09 prints about its clients, written for you as in lesson
//! 09: lesson 05's lines, each in English or the tutorial's Chinese, and
//! none with `--quiet`.

use std::io;
use std::net::SocketAddr;

use netcore::error::describe;
use netcore::lang::tr;
use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::Decoded;

use crate::{Config, NAME};

/// The line for one recv: the text, or a note that only half a character
/// came; and a warning for bytes the encoding does not allow.
pub(crate) fn print_message(config: &Config, message: &Decoded, bytes: &[u8], ip_port: SocketAddr) {
    if config.quiet {
        return;
    }
    if message.text.is_empty() {
        let half = tr(
            "received: (half a character, waiting for the rest)",
            "接收的数据： （半个字符，等待其余部分）",
        );
        println!("{half} {}", PyAddr(ip_port));
    } else {
        // Escaped (PyText): a client's text cannot forge a line.
        let received = tr("received:", "接收的数据：");
        println!("{received} {} {}", PyText(&message.text), PyAddr(ip_port));
    }
    if message.has_invalid() {
        let (client, bytes, encoding) = (PyAddr(ip_port), PyBytes(bytes), config.encoding);
        eprintln!(
            "{NAME}: {}",
            netcore::tr!(
                "warning: {client} sent bytes that are not valid {encoding}, shown as �; the bytes: {bytes}",
                "警告: {client} 发来的字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
            )
        );
    }
}

/// recv returned 0: the client closed its side. 客户端下线.
pub(crate) fn offline(config: &Config, ip_port: SocketAddr) {
    if !config.quiet {
        let offline = tr("client offline:", "客户端下线");
        println!("{offline} {}", PyAddr(ip_port));
    }
}

/// recv failed: reset by the peer, say. This client is gone; the others
/// go on.
pub(crate) fn dropped(config: &Config, ip_port: SocketAddr, err: &io::Error) {
    if !config.quiet {
        let dropped = tr("client dropped:", "客户端断开:");
        println!("{dropped} {} ({})", PyAddr(ip_port), describe(err));
    }
}

/// send failed: the client is gone.
pub(crate) fn cannot_reply(config: &Config, ip_port: SocketAddr, err: &io::Error) {
    if !config.quiet {
        let cannot = tr("cannot reply to", "无法回复");
        println!("{cannot} {}: {}", PyAddr(ip_port), describe(err));
    }
}
