//! The lessons the grader knows and their checks: points, kind, a one-line
//! summary, and the hint shown when a check fails.

/// What a check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// What the tutorial teaches: the tutorial's own code passes it.
    Core,
    /// Where the tutorial's own code would fail: a split character, a
    /// reset, invalid bytes.
    Robust,
}

impl Kind {
    /// `core` or `robust`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Core => "core",
            Kind::Robust => "robust",
        }
    }
}

/// One check.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// Its id, e.g. `concurrent`.
    pub id: &'static str,
    /// Core or robust.
    pub kind: Kind,
    /// Points for passing it.
    pub points: u32,
    /// What it checks, in one line.
    pub summary: &'static str,
    /// What to look at when it fails; names the walkthrough section.
    pub hint: &'static str,
}

/// One lesson's checks, and how its program is run.
#[derive(Clone, Copy, Debug)]
pub struct Lesson {
    /// `lesson-05`.
    pub id: &'static str,
    /// What the student writes.
    pub title: &'static str,
    /// The modes the program is run in (`{mode}`), or none.
    pub modes: &'static [&'static str],
    /// The checks, in the order they run.
    pub checks: &'static [Check],
}

impl Lesson {
    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&'static Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The most points there are.
    pub fn max_points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

const fn core(id: &'static str, points: u32, summary: &'static str, hint: &'static str) -> Check {
    Check {
        id,
        kind: Kind::Core,
        points,
        summary,
        hint,
    }
}

const fn robust(id: &'static str, points: u32, summary: &'static str, hint: &'static str) -> Check {
    Check {
        id,
        kind: Kind::Robust,
        points,
        summary,
        hint,
    }
}

/// Every lesson the grader can grade.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "lesson-02",
        title: "the TCP client",
        modes: &[],
        checks: &[
            core(
                "connects",
                1,
                "connects to the server at {host}:{port}",
                "create a TCP socket and connect((host, port)) with the port the grader gives (see lessons/lesson-02/README.md#2-connect)",
            ),
            core(
                "sends-gbk",
                2,
                "sends a non-empty message that is valid GBK",
                "encode the text as GBK before sending it (Python: .encode(\"gbk\")) (see lessons/lesson-02/README.md#3-the-conversation)",
            ),
            core(
                "prints-reply",
                2,
                "prints the server's reply 我是服务器, decoded",
                "recv the reply and print it decoded from GBK (Python: recv_data.decode(\"gbk\")) (see lessons/lesson-02/README.md#6-decode-the-reply)",
            ),
            core(
                "closes",
                1,
                "closes the connection after the reply",
                "call close() on the socket when the conversation is over (see lessons/lesson-02/README.md#7-close)",
            ),
            core(
                "exits-0",
                1,
                "exits with status 0",
                "let the program end normally after close() (see lessons/lesson-02/README.md#7-close)",
            ),
            robust(
                "refused",
                1,
                "with no server, exits non-zero with a message, not a crash",
                "catch the connection-refused error and print one line (see lessons/lesson-02/README.md#2-connect)",
            ),
            robust(
                "invalid-reply",
                1,
                "survives a reply that is not valid GBK",
                "decode with errors replaced, or catch the decoding error (see lessons/lesson-02/README.md#6-decode-the-reply)",
            ),
        ],
    },
    Lesson {
        id: "lesson-03",
        title: "the single TCP server",
        modes: &[],
        checks: &[
            core(
                "listens",
                1,
                "listens on the port it is given",
                "bind((\"\", port)) with the port the grader gives, then listen(128) (see lessons/lesson-03/README.md#3-bind)",
            ),
            core(
                "prints-message",
                2,
                "prints the client's message 我是客户端, decoded",
                "recv(1024) on the socket accept() returned, not the listening one, and print it decoded from GBK (see lessons/lesson-03/README.md#6-recv)",
            ),
            core(
                "replies-gbk",
                2,
                "replies with a non-empty message in valid GBK",
                "encode the reply as GBK, not UTF-8, and send it on the client's socket (see lessons/lesson-03/README.md#8-send)",
            ),
            core(
                "closes-client",
                1,
                "closes the client's socket after the reply",
                "close() the socket accept() returned (see lessons/lesson-03/README.md#9-close)",
            ),
            core(
                "exits-0",
                1,
                "exits with status 0 after one client",
                "close the listening socket and let the program end (see lessons/lesson-03/README.md#9-close)",
            ),
            core(
                "restarts",
                2,
                "started again at once, it binds the same port (SO_REUSEADDR)",
                "set SO_REUSEADDR before bind (see lessons/lesson-03/README.md#2-setsockoptso_reuseaddr)",
            ),
            robust(
                "invalid-gbk",
                2,
                "replies and exits normally when the message is not valid GBK",
                "decode with errors replaced, or catch the decoding error (see lessons/lesson-03/README.md#7-decode)",
            ),
        ],
    },
    Lesson {
        id: "lesson-04",
        title: "the notes: recv returns 0 when the other side closes",
        modes: &["server", "client"],
        checks: &[
            core(
                "server-listens",
                1,
                "in server mode, listens on the port it is given",
                "bind and listen on the port the grader gives (see lessons/lesson-04/README.md#the-server-and-client-modes)",
            ),
            core(
                "stops-on-zero",
                3,
                "when a client closes, the server stops reading: no CPU spent after",
                "when recv returns 0 bytes the client is gone: break out of the loop (see lessons/lesson-04/README.md#note-3-the-client-closes-the-servers-recv-returns-0)",
            ),
            core(
                "client-exits",
                2,
                "in client mode, exits when the server closes the connection",
                "when recv returns 0 bytes the server is gone: stop and exit (see lessons/lesson-04/README.md#note-4-the-server-closes-the-clients-recv-returns-0)",
            ),
            robust(
                "survives-reset",
                2,
                "a client that resets its connection does not stop the server",
                "catch the connection-reset error around recv and send, and go on to the next client (see lessons/lesson-04/README.md#where-the-simple-version-breaks)",
            ),
        ],
    },
    Lesson {
        id: "lesson-05",
        title: "the threaded server",
        modes: &[],
        checks: &[
            core(
                "listens",
                1,
                "listens on the port it is given",
                "bind and listen on the port the grader gives (see lessons/lesson-05/README.md#1-listen-as-before)",
            ),
            core(
                "prints-messages",
                1,
                "prints each message it receives, decoded",
                "print each message decoded from GBK (see lessons/lesson-05/README.md#4-serve-one-client)",
            ),
            core(
                "concurrent",
                3,
                "serves a second client while the first stays connected and silent",
                "the server seems to handle one client at a time: start a thread for each client that accept() returns (see lessons/lesson-05/README.md#3-a-thread-per-client)",
            ),
            core(
                "many-clients",
                3,
                "50 clients at once, 20 messages each: every reply is ok, 收到了 in GBK",
                "reply ok, 收到了 in GBK (those exact bytes) to every message, on the client's own thread (see lessons/lesson-05/README.md#4-serve-one-client)",
            ),
            core(
                "survives-close",
                1,
                "after a client closes, the next client is served",
                "when recv returns 0, close that client's socket and end only its thread (see lessons/lesson-05/README.md#4-serve-one-client)",
            ),
            robust(
                "survives-reset",
                1,
                "after a client resets its connection, the next client is served",
                "catch the connection-reset error in the client's thread (see lessons/lesson-05/README.md#where-the-tutorials-server-breaks)",
            ),
            robust(
                "split-character",
                2,
                "a GBK character split across two writes does not end the conversation",
                "decode with one incremental decoder per connection, which keeps half a character for the next recv (see lessons/lesson-05/README.md#4-serve-one-client)",
            ),
            robust(
                "invalid-gbk",
                1,
                "invalid GBK does not end the conversation",
                "decode with errors replaced instead of letting the error end the thread (see lessons/lesson-05/README.md#4-serve-one-client)",
            ),
        ],
    },
    Lesson {
        id: "lesson-06",
        title: "send and recv: a sink server and a source client",
        modes: &["sink", "source"],
        checks: &[
            core(
                "sink-listens",
                1,
                "in sink mode, listens on the port it is given",
                "bind and listen on the port the grader gives (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
            ),
            core(
                "sink-counts",
                3,
                "counts all 8 MiB sent in uneven pieces, replying 8388608",
                "one recv returns only what has arrived: recv in a loop until it returns 0, adding up the lengths (see lessons/lesson-06/README.md#4-a-stream-of-bytes-not-messages)",
            ),
            core(
                "source-sends-all",
                3,
                "in source mode, sends all {bytes} bytes of the pattern, intact (SHA-256)",
                "send() may take only part of the data: use sendall(), or loop until every byte is sent (see lessons/lesson-06/README.md#5-a-partial-send-and-why-write_all-exists)",
            ),
            core(
                "source-exits-0",
                1,
                "in source mode, closes and exits with status 0",
                "close the socket after the last byte and let the program end (see lessons/lesson-06/README.md#the-exercise-a-sink-and-a-source)",
            ),
        ],
    },
];

/// A check's summary with its placeholders filled in.
pub fn summary(check: &Check) -> String {
    check
        .summary
        .replace("{bytes}", &crate::run::SOURCE_BYTES.to_string())
        .replace("{host}:{port}", "the port it is given")
}

/// The lesson with this id (`lesson-05`, or just `05` or `5`).
pub fn lesson(id: &str) -> Option<&'static Lesson> {
    let wanted = id.trim_start_matches("lesson-").trim_start_matches('0');
    LESSONS
        .iter()
        .find(|l| l.id.trim_start_matches("lesson-").trim_start_matches('0') == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_hints_name_a_walkthrough() {
        for lesson in LESSONS {
            let mut ids: Vec<&str> = lesson.checks.iter().map(|c| c.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), lesson.checks.len(), "{}", lesson.id);
            for check in lesson.checks {
                assert!(
                    check.hint.contains("lessons/lesson-"),
                    "{}: {}",
                    lesson.id,
                    check.id
                );
                assert!(check.points > 0);
            }
        }
    }

    #[test]
    fn hints_point_at_sections_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for lesson in LESSONS {
            for check in lesson.checks {
                let link = check
                    .hint
                    .split("see ")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(')');
                let (file, anchor) = link.split_once('#').unwrap();
                let text = std::fs::read_to_string(root.join(file)).unwrap();
                let anchors: Vec<String> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .map(|h| github_anchor(h.trim_start_matches('#').trim()))
                    .collect();
                assert!(
                    anchors.contains(&anchor.to_owned()),
                    "{}: #{anchor} not in {file}: {anchors:?}",
                    check.id
                );
            }
        }
    }

    /// GitHub's heading anchors: lower case, punctuation dropped, spaces
    /// to hyphens.
    fn github_anchor(heading: &str) -> String {
        heading
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_lessons_by_short_names() {
        assert_eq!(lesson("5").unwrap().id, "lesson-05");
        assert_eq!(lesson("05").unwrap().id, "lesson-05");
        assert_eq!(lesson("lesson-05").unwrap().id, "lesson-05");
        assert!(lesson("lesson-01").is_none());
        assert!(lesson("9").is_none());
    }
}
