//! The checks of each lesson, as the grader plays the other side of the
//! conversation.

mod l02;
mod l03;
mod l04;
mod l05;
mod l06;

use crate::catalog::Lesson;
use crate::run::{Ctx, Outcome};

/// Runs every check of `lesson`.
pub fn grade(lesson: &'static Lesson, ctx: &Ctx) -> Vec<Outcome> {
    match lesson.id {
        "lesson-02" => l02::grade(lesson, ctx),
        "lesson-03" => l03::grade(lesson, ctx),
        "lesson-04" => l04::grade(lesson, ctx),
        "lesson-05" => l05::grade(lesson, ctx),
        _ => l06::grade(lesson, ctx),
    }
}

/// "我是服务器" ("I am the server"): the tutorial's section-2 reply.
pub(crate) const SERVER_REPLY: &str = "我是服务器";
/// "我是客户端" ("I am the client"): the tutorial's section-3 message.
pub(crate) const CLIENT_MESSAGE: &str = "我是客户端";
/// "ok, 收到了": the threaded server's reply to every message.
pub(crate) const THREADED_REPLY: &str = "ok, 收到了";

/// `text` in GBK.
pub(crate) fn gbk(text: &str) -> Vec<u8> {
    netcore::text::Encoding::Gbk
        .encode(text)
        .unwrap_or_default()
}

/// Whether `bytes` are non-empty, valid GBK.
pub(crate) fn valid_gbk(bytes: &[u8]) -> Result<String, String> {
    if bytes.is_empty() {
        return Err("nothing".to_owned());
    }
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        // Chinese text in UTF-8 often happens to decode as (wrong) GBK;
        // valid UTF-8 with non-ASCII characters is almost never GBK.
        return Err(format!(
            "{} bytes of UTF-8 ({}), not GBK: encode with .encode(\"gbk\")",
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        ));
    }
    let decoded = netcore::text::Encoding::Gbk.decode(bytes);
    if decoded.has_invalid() {
        Err(format!(
            "{} bytes that are not valid GBK: {}",
            bytes.len(),
            netcore::pyrepr::PyBytes(&bytes[..bytes.len().min(40)])
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
        assert!(
            valid_gbk("我是服务器".as_bytes())
                .unwrap_err()
                .contains("UTF-8")
        );
        assert!(
            valid_gbk(b"\xff\xff")
                .unwrap_err()
                .contains("not valid GBK")
        );
        assert_eq!(valid_gbk(b"ok").unwrap(), "ok");
        assert!(valid_gbk(b"").is_err());
    }
}
