//! One received message, printed as lesson 05 prints it: decoded with the
//! connection's own decoder (a character split across two `recv` calls is
//! printed once it is whole), escaped, with the client's address; bytes
//! that are not valid in the encoding are shown as `�`, with a warning.

use std::net::SocketAddr;

use netcore::pyrepr::{PyAddr, PyBytes, PyText};
use netcore::text::StreamDecoder;

use crate::NAME;
use crate::args::say;

/// Prints what one `recv` brought: `received: TEXT ('IP', PORT)`.
pub(crate) fn print(decoder: &mut StreamDecoder, data: &[u8], ip_port: SocketAddr) {
    let message = decoder.feed(data);
    if message.text.is_empty() {
        // Only the first byte of a two-byte character has come: the
        // decoder keeps it until the rest arrives, in a later recv.
        say!(
            "received: (half a character, waiting for the rest) {}",
            "接收的数据： （半个字符，等待其余部分） {}",
            PyAddr(ip_port)
        );
    } else {
        // Escaped (PyText): a client's text cannot forge a line of this
        // output or steer the terminal.
        say!(
            "received: {} {}",
            "接收的数据： {} {}",
            PyText(&message.text),
            PyAddr(ip_port)
        );
    }
    if message.has_invalid() && !crate::args::quiet() {
        let (client, bytes, encoding) = (PyAddr(ip_port), PyBytes(data), decoder.encoding());
        eprintln!(
            "{NAME}: {}",
            netcore::tr!(
                "warning: {client} sent bytes that are not valid {encoding}, shown as �; the bytes: {bytes}",
                "警告: {client} 发来的字节不是有效的 {encoding}，显示为 �；这些字节: {bytes}"
            )
        );
    }
}
