//! Reads the book's website (`bash docs/book.sh` builds it into
//! `target/book/{en,zh-CN}`) the way a browser follows it: every page, its
//! links and the element ids they point to, and the text of its code
//! blocks.
//!
//! mdBook writes regular HTML with double-quoted attributes, so a small
//! scanner is enough; [`broken_links`] reports every `href` and `src` that
//! leads to no file, out of the site, or to an id its page lacks.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Pages mdBook writes for a web server rather than for the book: its 404
/// page links from the server's root (`<base href="/">`), which a site
/// read from files does not have.
pub const SERVER_PAGES: [&str; 1] = ["404.html"];

/// Every `.html` file under `dir`, sorted.
pub fn pages(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every tag of `html`, the text between its `<` and `>`: outside
/// comments, and not inside scripts and styles (whose text is no markup).
pub fn tags(html: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        // The tag ends at the first `>` outside a quoted value.
        let mut quote = None;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let tag = &rest[1..end];
        tags.push(tag);
        rest = &rest[end + 1..];
        let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("");
        for raw in ["script", "style"] {
            if name.eq_ignore_ascii_case(raw) {
                let close = format!("</{raw}");
                rest = rest.find(&close).map_or("", |n| &rest[n..]);
            }
        }
    }
    tags
}

/// The values of the attribute `name` on every tag of `html`, unescaped.
pub fn attributes(html: &str, name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for tag in tags(html) {
        let mut rest = tag;
        while let Some(at) = rest.find(name) {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + name.len()..];
            rest = after;
            let Some(value) = after.strip_prefix('=') else {
                continue;
            };
            let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(end) = value[1..].find(quote) else {
                break;
            };
            if before.is_some_and(char::is_whitespace) {
                values.push(unescape(&value[1..1 + end]));
            }
            rest = &value[1 + end..];
        }
    }
    values
}

/// The ids a link's fragment can name on a page: `id` and `name`.
pub fn ids(html: &str) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = attributes(html, "id").into_iter().collect();
    ids.extend(attributes(html, "name"));
    ids
}

/// HTML's character references, as mdBook and browsers write them.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&n| n <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `%E4%B8%AD` and the like in a URL, decoded (as UTF-8).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The text of every code block (`<pre>...<code>...</code>`) of `html`, its
/// highlighting markup removed.
pub fn code_blocks(html: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<pre") {
        rest = &rest[at..];
        let Some(code) = rest.find("<code") else {
            break;
        };
        rest = &rest[code..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</code>") else {
            break;
        };
        blocks.push(text_of(&rest[open_end + 1..close]));
        rest = &rest[close..];
    }
    blocks
}

/// `html` as text: tags removed, references decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// The text of the first `<tag ...>...</tag>` in `html`.
pub fn element_text(html: &str, tag: &str) -> Option<String> {
    let open = html.find(&format!("<{tag}"))?;
    let rest = &html[open..];
    let start = rest.find('>')? + 1;
    let end = rest.find(&format!("</{tag}>"))?;
    Some(text_of(&rest[start..end]))
}

/// Where a link on `page` leads: a file (`None` when the link leaves the
/// site: another scheme, or an address on the web) and the fragment.
pub fn target(page: &Path, link: &str) -> Option<(PathBuf, String)> {
    let scheme = link.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if scheme || link.starts_with("//") {
        return None;
    }
    let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
    let path = path.split('?').next().unwrap_or("");
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        normalize(&page.parent()?.join(percent_decode(path)))
    };
    Some((file, percent_decode(fragment)))
}

/// `path` without `.` and `..` (no file system calls: a link's target may
/// not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            part => out.push(part),
        }
    }
    out
}

/// Every link of every page under `site` that is broken: to no file, out
/// of `site`, or to a fragment that is no id of its page. One line each.
pub fn broken_links(site: &Path) -> Vec<String> {
    let site = normalize(site);
    let mut ids_of: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for page in pages(&site) {
        if page
            .file_name()
            .is_some_and(|n| SERVER_PAGES.iter().any(|s| n == *s))
        {
            continue;
        }
        let Ok(html) = fs::read_to_string(&page) else {
            problems.push(format!("{}: cannot be read", page.display()));
            continue;
        };
        let shown = page
            .strip_prefix(&site)
            .unwrap_or(&page)
            .display()
            .to_string();
        let links = attributes(&html, "href")
            .into_iter()
            .chain(attributes(&html, "src"));
        for link in links {
            let Some((mut file, fragment)) = target(&page, &link) else {
                continue;
            };
            if !file.starts_with(&site) {
                problems.push(format!("{shown}: {link} leads out of the site"));
                continue;
            }
            if file.is_dir() {
                file = file.join("index.html");
            }
            if !file.is_file() {
                problems.push(format!("{shown}: {link} leads to no file"));
                continue;
            }
            if fragment.is_empty() || file.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let ids = ids_of.entry(file.clone()).or_insert_with(|| {
                fs::read_to_string(&file)
                    .map(|html| ids(&html))
                    .unwrap_or_default()
            });
            if !ids.contains(&fragment) {
                problems.push(format!("{shown}: {link}: its page has no id '{fragment}'"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site in a temporary folder, removed on drop.
    struct Site(PathBuf);

    impl Site {
        fn new(pages: &[(&str, &str)]) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "site-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            for (path, html) in pages {
                let path = dir.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, html).unwrap();
            }
            Site(dir)
        }
    }

    impl Drop for Site {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn attributes_are_read_whole_and_unescaped() {
        let html = r#"<a href="a.html#x" data-href="no"><h2 id="4-字节流而不是消息">x</h2><img src="c&amp;d.svg">"#;
        assert_eq!(attributes(html, "href"), ["a.html#x"]);
        assert_eq!(attributes(html, "src"), ["c&d.svg"]);
        assert!(ids(html).contains("4-字节流而不是消息"));
        // Only in tags: not in text, comments or scripts.
        let html = r#"<pre><code>&lt;a href="code.html"&gt;</code></pre><!-- <a href="c.html"> --><script>s = '<a href="s.html">';</script><a title='x>y' href='b.html'>"#;
        assert_eq!(attributes(html, "href"), ["b.html"]);
    }

    #[test]
    fn code_blocks_lose_their_highlighting() {
        let html = r#"<p><code>inline</code></p><pre><code class="language-rust hljs"><span class="hljs-keyword">let</span> a = &amp;b;
c();</code></pre>"#;
        assert_eq!(code_blocks(html), ["let a = &b;\nc();"]);
        assert_eq!(
            element_text("<title>A &lt; B</title>", "title").as_deref(),
            Some("A < B")
        );
    }

    #[test]
    fn links_resolve_like_a_browser() {
        let page = Path::new("/site/en/lessons/lesson-05/index.html");
        assert_eq!(
            target(page, "../lesson-03/index.html#3-bind"),
            Some((
                PathBuf::from("/site/en/lessons/lesson-03/index.html"),
                "3-bind".to_owned()
            ))
        );
        assert_eq!(
            target(page, "#%E5%8A%A0%E5%9B%BA"),
            Some((page.to_path_buf(), "加固".to_owned()))
        );
        assert_eq!(target(page, "https://docs.rs/socket2"), None);
        assert_eq!(target(page, "mailto:a@b"), None);
        assert_eq!(unescape("&#x4e2d;&#25991; &amp;amp; & x"), "中文 &amp; & x");
    }

    #[test]
    fn broken_links_are_found_and_good_ones_pass() {
        let site = Site::new(&[
            (
                "en/index.html",
                r#"<a href="lessons/a.html#run-it"></a><a href="https://x.org/y"></a><a href="../zh-CN/index.html"></a>"#,
            ),
            (
                "en/lessons/a.html",
                r#"<h2 id="run-it"></h2><a href="../index.html"></a>"#,
            ),
            ("zh-CN/index.html", r#"<a href="../en/index.html"></a>"#),
            (
                "en/404.html",
                r#"<base href="/"><a href="missing.html"></a>"#,
            ),
        ]);
        assert_eq!(broken_links(&site.0), Vec::<String>::new());

        let site = Site::new(&[(
            "en/index.html",
            r#"<a href="gone.html"></a><a href="index.html#nowhere"></a><img src="../../outside.png">"#,
        )]);
        let problems = broken_links(&site.0.join("en"));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("gone.html leads to no file"),
            "{problems:?}"
        );
        assert!(problems[1].contains("no id 'nowhere'"), "{problems:?}");
        assert!(
            problems[2].contains("leads out of the site"),
            "{problems:?}"
        );
    }
}
