//! Values printed the way Python prints them.
//!
//! The tutorial's output shows bytes as Python's `repr` does
//! (`b'\xc4\xe3\xba\xc3'`) and addresses as Python's `(host, port)` tuples.
//! Printing ours the same way lets a learner hold the two outputs side by
//! side and compare them character for character.

use std::fmt;
use std::net::SocketAddr;

/// Bytes in Python's `b'...'` notation, exactly as `repr(bytes)` writes them.
///
/// Printable ASCII stands for itself, `\t`, `\n`, `\r` and `\\` are escaped,
/// every other byte is `\xNN` in lower-case hex. Like Python, it quotes with
/// `"` when the bytes contain `'` but no `"`.
///
/// ```
/// use netcore::pyrepr::PyBytes;
/// assert_eq!(PyBytes(b"\xce\xd2ok!\n").to_string(), r"b'\xce\xd2ok!\n'");
/// assert_eq!(PyBytes(b"it's").to_string(), r#"b"it's""#);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PyBytes<'a>(pub &'a [u8]);

impl fmt::Display for PyBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
            b'"'
        } else {
            b'\''
        };
        let mut out = String::with_capacity(bytes.len() * 4 + 3);
        out.push('b');
        out.push(char::from(quote));
        for &byte in bytes {
            match byte {
                b'\\' => out.push_str("\\\\"),
                b'\t' => out.push_str("\\t"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                _ if byte == quote => {
                    out.push('\\');
                    out.push(char::from(byte));
                }
                0x20..=0x7e => out.push(char::from(byte)),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.push_str("\\x");
                    out.push(char::from(HEX[usize::from(byte >> 4)]));
                    out.push(char::from(HEX[usize::from(byte & 0xf)]));
                }
            }
        }
        out.push(char::from(quote));
        f.write_str(&out)
    }
}

/// Text from a peer, shown so that it stays on its line and cannot steer a
/// terminal: as Python's `repr(str)` writes it, without the quotes.
/// Printable characters (Chinese included) stand for themselves; `\n`,
/// `\r`, `\t` and `\\` are escaped, and so is every character Python counts
/// as not printable: control and format characters (those that move the
/// cursor, hide or reorder text), separators other than the space, and
/// private-use characters, as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
/// (Simplification: characters Unicode has not assigned yet are shown as
/// they are; Python escapes those too, from its own table.)
///
/// ```
/// use netcore::pyrepr::PyText;
/// assert_eq!(PyText("你好").to_string(), "你好");
/// assert_eq!(
///     PyText("a\nreceived: forged\x1b]0;t\x07").to_string(),
///     r"a\nreceived: forged\x1b]0;t\x07"
/// );
/// assert_eq!(PyText("LIAF\u{202e}").to_string(), r"LIAF\u202e");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PyText<'a>(pub &'a str);

impl fmt::Display for PyText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if not_printable(c) => match c as u32 {
                    n @ ..0x100 => write!(f, "\\x{n:02x}")?,
                    n @ ..0x10000 => write!(f, "\\u{n:04x}")?,
                    n => write!(f, "\\U{n:08x}")?,
                },
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Whether Python's `str.isprintable()` is false for `c` (Unicode 14's
/// categories Cc, Cf, Zs but the space, Zl, Zp and Co), or `c` is one of
/// the noncharacters U+FFFE and U+FFFF.
fn not_printable(c: char) -> bool {
    matches!(
        c as u32,
        0x00..=0x1f
            | 0x7f..=0xa0
            | 0xad
            | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x890..=0x891
            | 0x8e2
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xe000..=0xf8ff
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0xfffe..=0xffff
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x1343f
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..=0xffffd
            | 0x100000..=0x10fffd
    )
}

/// Bytes described for a person: Python's `b'...'` form, then, when they
/// hold non-ASCII text, that text and the encoding it was read in:
/// `b'\xce\xd2' ("我" in GBK)`. Valid UTF-8 is shown as UTF-8, anything else
/// that is valid GBK as GBK, so that bytes are never shown as mojibake; bytes
/// that are neither are shown only as `b'...'`.
pub fn describe_bytes(bytes: &[u8]) -> String {
    let repr = PyBytes(bytes).to_string();
    if bytes.is_ascii() {
        return repr;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return format!("{repr} ({text:?} in UTF-8)");
    }
    let decoded = crate::text::Encoding::Gbk.decode(bytes);
    if decoded.has_invalid() {
        repr
    } else {
        format!("{repr} ({:?} in GBK)", decoded.text)
    }
}

/// A socket address as Python prints the `address` that `accept()` returns:
/// `('127.0.0.1', 54600)` for IPv4, `('::1', 54600, 0, 0)` for IPv6
/// (host, port, flow info, scope id).
///
/// ```
/// use netcore::pyrepr::PyAddr;
/// let addr = "127.0.0.1:54600".parse().unwrap();
/// assert_eq!(PyAddr(addr).to_string(), "('127.0.0.1', 54600)");
/// let addr = "[::1]:8080".parse().unwrap();
/// assert_eq!(PyAddr(addr).to_string(), "('::1', 8080, 0, 0)");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PyAddr(pub SocketAddr);

impl fmt::Display for PyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(v4) => write!(f, "('{}', {})", v4.ip(), v4.port()),
            SocketAddr::V6(v6) => write!(
                f,
                "('{}', {}, {}, {})",
                v6.ip(),
                v6.port(),
                v6.flowinfo(),
                v6.scope_id()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_tutorials_output() {
        let sent = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";
        assert_eq!(
            PyBytes(sent).to_string(),
            r"b'\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!'"
        );
    }

    #[test]
    fn escapes_like_python() {
        // Each expected value was printed by CPython 3.11's repr(bytes).
        let cases: &[(&[u8], &str)] = &[
            (b"", "b''"),
            (b"\x00\x1f\x7f\x80\xff", r"b'\x00\x1f\x7f\x80\xff'"),
            (b"a\\b", r"b'a\\b'"),
            (b"\t\r\n", r"b'\t\r\n'"),
            (b"'", r#"b"'""#),
            (b"\"", r#"b'"'"#),
            (b"'\"", r#"b'\'"'"#),
            (b" ~", "b' ~'"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(PyBytes(bytes).to_string(), *expected, "{bytes:?}");
        }
    }

    #[test]
    fn agrees_with_python_on_every_byte() {
        // Without python3 there is nothing to compare with (testkit, which
        // says so, depends on this crate: it cannot be used here).
        let Ok(output) = std::process::Command::new("python3")
            .args(["-c", "print(repr(bytes(range(256))), end='')"])
            .output()
        else {
            return;
        };
        let all: Vec<u8> = (0..=255).collect();
        assert!(output.status.success());
        assert_eq!(
            PyBytes(&all).to_string(),
            String::from_utf8(output.stdout).unwrap()
        );
    }

    #[test]
    fn text_agrees_with_python_on_every_assigned_character() {
        // Python's repr of every character its Unicode table assigns (the
        // quotes aside, whose escaping depends on the quote repr picks).
        let script = "import sys, unicodedata\n\
            cs = [chr(c) for c in range(0x110000) if not 0xd800 <= c <= 0xdfff \
            and unicodedata.category(chr(c)) != 'Cn' and chr(c) not in '\\'\"']\n\
            sys.stdout.buffer.write(' '.join('%x' % ord(c) for c in cs).encode() + b'\\n')\n\
            sys.stdout.buffer.write(repr(''.join(cs))[1:-1].encode())";
        let Ok(output) = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
        else {
            return;
        };
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let (points, python) = stdout.split_once('\n').unwrap();
        let text: String = points
            .split(' ')
            .map(|hex| char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap())
            .collect();
        let ours = PyText(&text).to_string();
        if ours != python {
            let (a, b): (Vec<char>, Vec<char>) = (ours.chars().collect(), python.chars().collect());
            let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
            let show = |v: &[char]| {
                v[at.saturating_sub(8)..(at + 24).min(v.len())]
                    .iter()
                    .collect::<String>()
            };
            panic!(
                "differs from Python at {at}: ours {:?}, Python's {:?}",
                show(&a),
                show(&b)
            );
        }
    }
}
