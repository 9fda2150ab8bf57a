//! The lessons, one module each: a lesson's checks (points, summaries,
//! hints), its constants and the code that plays the other side of its
//! conversation live together in `lNN.rs`, which exports one `LESSON`;
//! [`crate::catalog::LESSONS`] lists them. A new lesson is a new module
//! and one line in that list.
//!
//! Hints are written for every language a class hands in: what to do, then
//! short asides for Python, C, Java, Node.js and Rust where the call differs.

pub(crate) mod l02;
pub(crate) mod l03;
pub(crate) mod l04;
pub(crate) mod l05;
pub(crate) mod l06;
pub(crate) mod l07;
pub(crate) mod l08;
pub(crate) mod l09;

pub(crate) mod crowd;

use crate::i18n::tr;

/// `text` in GBK.
pub(crate) fn gbk(text: &str) -> Vec<u8> {
    netcore::text::Encoding::Gbk
        .encode(text)
        .unwrap_or_default()
}

/// Bytes for a reason: Python's `b'...'` form, then the text they hold in
/// the encoding that applies: `b'ok, \xca\xd5\xb5\xbd\xc1\xcb' ("ok, 收到了" in
/// GBK)`, in Chinese `b'ok, \xca\xd5\xb5\xbd\xc1\xcb'（GBK 编码的 "ok, 收到了"）`.
/// UTF-8 is named as such, so that a reply in the wrong encoding is never
/// shown as mojibake. The bytes and the text are escaped the same way in
/// both languages ([`netcore::pyrepr::describe_bytes`]'s way).
pub(crate) fn show_bytes(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(80)];
    if crate::i18n::current() == crate::i18n::Lang::En {
        return netcore::pyrepr::describe_bytes(bytes);
    }
    let repr = netcore::pyrepr::PyBytes(bytes).to_string();
    if bytes.is_ascii() {
        return repr;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return format!("{repr}（UTF-8 编码的 {text:?}）");
    }
    let decoded = netcore::text::Encoding::Gbk.decode(bytes);
    if decoded.has_invalid() {
        repr
    } else {
        format!("{repr}（GBK 编码的 {:?}）", decoded.text)
    }
}

/// Whether `bytes` are non-empty, valid GBK: the text, or what they are
/// instead, said so that "the program sent ..." ("程序发送了...") reads
/// on with it.
pub(crate) fn valid_gbk(bytes: &[u8]) -> Result<String, String> {
    if bytes.is_empty() {
        return Err(tr("nothing", "0 个字节（什么也没有）").to_owned());
    }
    let n = bytes.len();
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        // Chinese text in UTF-8 often happens to decode as (wrong) GBK;
        // valid UTF-8 with non-ASCII characters is almost never GBK.
        let shown = show_bytes(bytes);
        return Err(crate::tr!(
            "{n} bytes of UTF-8, not GBK: {shown}",
            "{n} 个字节的 UTF-8，不是 GBK：{shown}"
        ));
    }
    let decoded = netcore::text::Encoding::Gbk.decode(bytes);
    if decoded.has_invalid() {
        let shown = show_bytes(bytes);
        Err(crate::tr!(
            "{n} bytes that are not valid GBK: {shown}",
            "{n} 个不是有效 GBK 的字节：{shown}"
        ))
    } else {
        Ok(decoded.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_is_told_from_utf8() {
        assert_eq!(valid_gbk(&gbk("我是服务器")).unwrap(), "我是服务器");
        let utf8 = valid_gbk("我是服务器".as_bytes()).unwrap_err();
        assert!(
            utf8.contains("UTF-8") && utf8.contains("我是服务器"),
            "{utf8}"
        );
        assert!(
            valid_gbk(b"\xff\xff")
                .unwrap_err()
                .contains("not valid GBK")
        );
        assert_eq!(valid_gbk(b"ok").unwrap(), "ok");
        assert!(valid_gbk(b"").is_err());
    }

    #[test]
    fn bytes_are_shown_with_the_text_they_hold_never_as_mojibake() {
        assert_eq!(
            show_bytes(&gbk("ok, 收到了")),
            "b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb' (\"ok, 收到了\" in GBK)"
        );
        assert_eq!(
            show_bytes("ok, 收到".as_bytes()),
            "b'ok, \\xe6\\x94\\xb6\\xe5\\x88\\xb0' (\"ok, 收到\" in UTF-8)"
        );
        assert_eq!(show_bytes(b"ok"), "b'ok'");
    }

    #[test]
    fn chinese_reasons_show_bytes_escaped_as_english_ones_do() {
        use crate::i18n::{Lang, with_lang};
        let zh = |bytes: &[u8]| with_lang(Lang::Zh, || show_bytes(bytes));
        assert_eq!(
            zh(&gbk("ok, 收到了")),
            "b'ok, \\xca\\xd5\\xb5\\xbd\\xc1\\xcb'（GBK 编码的 \"ok, 收到了\"）"
        );
        assert_eq!(
            zh("a\u{1b}[2J 收到".as_bytes()),
            "b'a\\x1b[2J \\xe6\\x94\\xb6\\xe5\\x88\\xb0'（UTF-8 编码的 \"a\\u{1b}[2J 收到\"）"
        );
        assert_eq!(zh(b"\xff\xfe"), "b'\\xff\\xfe'");
        let utf8 = with_lang(Lang::Zh, || valid_gbk("我是服务器".as_bytes())).unwrap_err();
        assert!(utf8.starts_with("15 个字节的 UTF-8，不是 GBK"), "{utf8}");
    }
}
