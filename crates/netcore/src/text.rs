//! Text on the wire: GBK (the tutorial's choice) or UTF-8.
//!
//! A socket carries bytes, not text. The tutorial turns text into bytes with
//! `"...".encode("gbk")` and back with `data.decode("gbk")`. Two things go
//! wrong with that on a real connection, and this module handles both:
//!
//! 1. **Text GBK cannot represent.** encoding_rs's plain `encode` silently
//!    replaces it with an HTML reference (`😀` becomes `&#128512;`) and only
//!    sets a flag. [`Encoding::encode`] refuses instead and names the
//!    character, as Python's `"😀".encode("gbk")` does.
//! 2. **A character split across two `recv` calls.** A GBK character is one
//!    or two bytes (four in GB18030); TCP may deliver the first byte in one
//!    `recv` and the second in the next. Decoding each chunk alone turns both
//!    halves into garbage. [`StreamDecoder`] keeps the half character until
//!    the rest arrives, which is what encoding_rs's `Decoder` is for.
//!
//! Invalid bytes are never fatal: they decode to U+FFFD (`�`) and are
//! counted in [`Decoded::invalid`], so the caller can print a warning and
//! carry on. Nothing is lost: callers also print the raw bytes.

use std::fmt;
use std::str::FromStr;

use encoding_rs::{DecoderResult, EncoderResult};

/// The text encodings the course uses on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// GBK, the tutorial's encoding for Chinese text (a superset of ASCII).
    #[default]
    Gbk,
    /// UTF-8.
    Utf8,
}

impl Encoding {
    /// The name used on the command line and in messages: `gbk` or `utf-8`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gbk => "gbk",
            Encoding::Utf8 => "utf-8",
        }
    }

    fn codec(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Gbk => encoding_rs::GBK,
            Encoding::Utf8 => encoding_rs::UTF_8,
        }
    }

    /// Encodes `text`, or fails naming the first character this encoding
    /// cannot represent (never a silent `&#NNN;` substitution).
    ///
    /// ```
    /// use netcore::text::Encoding;
    /// assert_eq!(Encoding::Gbk.encode("你好!").unwrap(), b"\xc4\xe3\xba\xc3!");
    /// let err = Encoding::Gbk.encode("hi 😀").unwrap_err();
    /// assert_eq!(err.character, '😀');
    /// assert_eq!(err.position, 3);
    /// ```
    pub fn encode(self, text: &str) -> Result<Vec<u8>, EncodeError> {
        if self == Encoding::Utf8 {
            return Ok(text.as_bytes().to_vec());
        }
        let mut encoder = self.codec().new_encoder();
        let capacity = encoder
            .max_buffer_length_from_utf8_without_replacement(text.len())
            .unwrap_or(text.len().saturating_mul(4));
        let mut out = Vec::with_capacity(capacity);
        let mut rest = text;
        loop {
            let (result, read) =
                encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            rest = &rest[read..];
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::OutputFull => out.reserve(rest.len().saturating_mul(4) + 4),
                EncoderResult::Unmappable(character) => {
                    // `read` includes the unmappable character itself.
                    let byte_offset = text.len() - rest.len() - character.len_utf8();
                    return Err(EncodeError {
                        character,
                        position: text[..byte_offset].chars().count(),
                        encoding: self,
                    });
                }
            }
        }
    }

    /// A fresh streaming decoder for one connection.
    pub fn decoder(self) -> StreamDecoder {
        StreamDecoder::new(self)
    }

    /// Decodes a complete message in one go (a stream with one chunk).
    ///
    /// Use [`StreamDecoder`] for anything read from a socket in pieces.
    pub fn decode(self, bytes: &[u8]) -> Decoded {
        let mut decoder = self.decoder();
        let mut decoded = decoder.feed(bytes);
        let tail = decoder.finish();
        decoded.text.push_str(&tail.text);
        decoded.invalid += tail.invalid;
        decoded
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;

    /// Accepts `gbk` and `utf-8` (also `utf8`), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "gbk" => Ok(Encoding::Gbk),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            _ => Err(crate::tr!(
                "unknown encoding '{s}': expected gbk or utf-8",
                "未知的编码 '{s}'：应为 gbk 或 utf-8"
            )),
        }
    }
}

/// Text that the chosen encoding cannot represent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// The first character that cannot be encoded.
    pub character: char,
    /// Its position in the text, counted in characters from 0.
    pub position: usize,
    /// The encoding that refused it.
    pub encoding: Encoding,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (character, code) = (self.character, u32::from(self.character));
        let (position, encoding) = (self.position, self.encoding.name().to_uppercase());
        f.write_str(&crate::tr!(
            "the character '{character}' (U+{code:04X}, at position {position}) cannot be encoded in {encoding}",
            "字符 '{character}'（U+{code:04X}，位置 {position}）无法用 {encoding} 编码"
        ))
    }
}

impl std::error::Error for EncodeError {}

/// Text decoded from one chunk of a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The text, with each invalid byte sequence replaced by U+FFFD.
    pub text: String,
    /// How many invalid byte sequences were replaced.
    pub invalid: usize,
}

impl Decoded {
    /// True when some bytes were not valid in the encoding.
    pub fn has_invalid(&self) -> bool {
        self.invalid > 0
    }
}

/// Decodes one connection's bytes as they arrive, keeping a character that
/// is split across two `recv` calls until its last byte comes.
///
/// Make one per connection (decoders keep state), [`feed`](Self::feed) it
/// every chunk that `recv` returns, and call [`finish`](Self::finish) once
/// when `recv` returns 0, so that a character cut off by the end of the
/// stream is reported instead of silently dropped.
///
/// ```
/// use netcore::text::Encoding;
/// let mut decoder = Encoding::Gbk.decoder();
/// // "你好" is c4 e3 ba c3; TCP delivers it as c4 | e3 ba | c3.
/// assert_eq!(decoder.feed(b"\xc4").text, "");
/// assert_eq!(decoder.feed(b"\xe3\xba").text, "你");
/// assert_eq!(decoder.feed(b"\xc3").text, "好");
/// assert!(!decoder.finish().has_invalid());
/// ```
pub struct StreamDecoder {
    decoder: encoding_rs::Decoder,
    encoding: Encoding,
    finished: bool,
}

impl StreamDecoder {
    /// A decoder for `encoding`, with no byte-order-mark sniffing (a BOM is
    /// data on a socket, not a file header).
    pub fn new(encoding: Encoding) -> Self {
        StreamDecoder {
            decoder: encoding.codec().new_decoder_without_bom_handling(),
            encoding,
            finished: false,
        }
    }

    /// The encoding this decoder reads.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Decodes the next chunk of the stream. A trailing partial character is
    /// kept for the next call.
    pub fn feed(&mut self, chunk: &[u8]) -> Decoded {
        self.decode(chunk, false)
    }

    /// Ends the stream: a partial character still held is reported as one
    /// invalid sequence. Further calls return nothing.
    pub fn finish(&mut self) -> Decoded {
        if self.finished {
            return Decoded::default();
        }
        self.finished = true;
        self.decode(&[], true)
    }

    fn decode(&mut self, mut src: &[u8], last: bool) -> Decoded {
        let mut out = Decoded::default();
        if self.finished && !last {
            // encoding_rs's decoder must not be used after its last call:
            // data fed after `finish` starts a new stream.
            self.decoder = self.encoding.codec().new_decoder_without_bom_handling();
            self.finished = false;
        }
        loop {
            // decode_to_string* writes only into spare capacity: reserve the
            // worst case first, or it reports OutputFull having written nothing.
            let room = self
                .decoder
                .max_utf8_buffer_length_without_replacement(src.len())
                .unwrap_or(src.len().saturating_mul(4));
            out.text.reserve(room.max(4));
            let (result, read) =
                self.decoder
                    .decode_to_string_without_replacement(src, &mut out.text, last);
            src = &src[read..];
            match result {
                DecoderResult::InputEmpty => return out,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => {
                    out.invalid += 1;
                    out.text.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

impl fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("encoding", &self.encoding)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_MESSAGE: &str = "你好服务端，我是客户端小黑!";
    const CLIENT_BYTES: &[u8] = b"\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";

    #[test]
    fn encodes_the_tutorials_message_to_the_tutorials_bytes() {
        assert_eq!(Encoding::Gbk.encode(CLIENT_MESSAGE).unwrap(), CLIENT_BYTES);
        assert_eq!(
            Encoding::Gbk.encode("我是服务器").unwrap(),
            b"\xce\xd2\xca\xc7\xb7\xfe\xce\xf1\xc6\xf7"
        );
    }

    #[test]
    fn refuses_an_unencodable_character_and_names_it() {
        let err = Encoding::Gbk.encode("你好😀!").unwrap_err();
        assert_eq!(err.character, '😀');
        assert_eq!(err.position, 2);
        let message = err.to_string();
        assert!(message.contains("'😀'"), "{message}");
        assert!(message.contains("U+1F600"), "{message}");
        assert!(message.contains("GBK"), "{message}");
        assert!(!message.contains("&#"), "{message}");
    }

    #[test]
    fn utf8_encodes_everything() {
        assert_eq!(Encoding::Utf8.encode("😀").unwrap(), "😀".as_bytes());
    }

    #[test]
    fn decodes_every_split_point_of_a_message() {
        for split in 0..=CLIENT_BYTES.len() {
            let mut decoder = Encoding::Gbk.decoder();
            let mut text = decoder.feed(&CLIENT_BYTES[..split]).text;
            text += &decoder.feed(&CLIENT_BYTES[split..]).text;
            let tail = decoder.finish();
            text += &tail.text;
            assert_eq!(text, CLIENT_MESSAGE, "split at byte {split}");
            assert_eq!(tail.invalid, 0);
        }
    }

    #[test]
    fn decodes_byte_by_byte() {
        let mut decoder = Encoding::Gbk.decoder();
        let mut text = String::new();
        for byte in CLIENT_BYTES {
            let decoded = decoder.feed(std::slice::from_ref(byte));
            assert!(!decoded.has_invalid());
            text += &decoded.text;
        }
        assert_eq!(text, CLIENT_MESSAGE);
    }

    #[test]
    fn decoding_halves_alone_is_what_goes_wrong() {
        // What the tutorial's `recv(1024).decode("gbk")` does when a
        // character straddles two reads: each half alone is invalid.
        let first = Encoding::Gbk.decode(b"\xc4");
        let second = Encoding::Gbk.decode(b"\xe3");
        assert!(first.has_invalid());
        assert_ne!(first.text + &second.text, "你");
    }

    #[test]
    fn replaces_and_counts_invalid_bytes_and_keeps_going() {
        let mut decoder = Encoding::Gbk.decoder();
        let decoded = decoder.feed(b"ok\xff\xffok\x80");
        // 0xff is never valid in GBK; 0x80 is the euro sign.
        assert_eq!(decoded.text, "ok\u{FFFD}\u{FFFD}ok€");
        assert_eq!(decoded.invalid, 2);
        // The decoder is still usable after invalid input.
        assert_eq!(decoder.feed(b"\xba\xc3").text, "好");
    }

    #[test]
    fn finish_reports_a_character_cut_off_by_end_of_stream() {
        let mut decoder = Encoding::Gbk.decoder();
        assert_eq!(decoder.feed(b"ab\xc4").text, "ab");
        let tail = decoder.finish();
        assert_eq!(tail.text, "\u{FFFD}");
        assert_eq!(tail.invalid, 1);
        assert_eq!(decoder.finish(), Decoded::default());
    }

    #[test]
    fn utf8_stream_split_inside_a_character() {
        let bytes = "我是服务器".as_bytes();
        let mut decoder = Encoding::Utf8.decoder();
        let mut text = decoder.feed(&bytes[..4]).text;
        text += &decoder.feed(&bytes[4..]).text;
        assert_eq!(text, "我是服务器");
        assert!(!decoder.finish().has_invalid());
    }

    #[test]
    fn large_chunks_decode_without_output_full() {
        let text = "问题正在处理中".repeat(10_000);
        let bytes = Encoding::Gbk.encode(&text).unwrap();
        let decoded = Encoding::Gbk.decode(&bytes);
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.invalid, 0);
    }

    #[test]
    fn parses_encoding_names() {
        assert_eq!("GBK".parse::<Encoding>(), Ok(Encoding::Gbk));
        assert_eq!("utf8".parse::<Encoding>(), Ok(Encoding::Utf8));
        assert_eq!("UTF-8".parse::<Encoding>(), Ok(Encoding::Utf8));
        let err = "latin9".parse::<Encoding>().unwrap_err();
        assert!(err.contains("latin9") && err.contains("gbk"), "{err}");
    }
}
