//! The course as a book (`bash docs/book.sh`, see `crates/book`): the site
//! builds in English and in Chinese, every link and anchor in it leads
//! somewhere, every include was expanded into the region it names, the
//! benchmarks' charts are images, every page switches to the same page in
//! the other language, and a real
//! browser (headless Chromium) renders a lesson in each language, whose
//! screenshots are kept in `target/book-screenshots/`.
//!
//! The site is built once, by the first test that needs it, with
//! `docs/book.sh --no-install`. Without mdBook (or Chromium) the tests that
//! need it skip with a message; `.ci/run` installs both and sets
//! `SOCKET_LESSONS_REQUIRE_BOOK=1`, so in CI they cannot skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use course_tests::{site, walkthrough};
use testkit::Process;

/// Makes a missing mdBook or Chromium a failure instead of a skip.
const REQUIRE: &str = "SOCKET_LESSONS_REQUIRE_BOOK";

/// The languages of the book: the folders of `target/book`.
const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// An mdBook directive, which must never reach a page (written in two
/// pieces so that this file, shown in the book, is not expanded).
const DIRECTIVE: &str = concat!("{", "{#");

/// `docs/book.sh`'s exit status when mdBook is not installed.
const NOT_INSTALLED: i32 = 3;

/// The lesson the browser renders.
const LESSON: &str = "lesson-05";

fn root() -> PathBuf {
    fs::canonicalize(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .expect("the repository's root")
}

fn required() -> bool {
    std::env::var_os(REQUIRE).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Why the site is not there.
#[derive(Debug)]
enum Unbuilt {
    /// mdBook is not installed.
    Missing(String),
    /// The build failed.
    Failed(String),
}

/// The built site, `target/book`; `None` after saying why the test is
/// skipped.
fn site(test: &str) -> Option<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, Unbuilt>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(site) => Some(site),
        Err(Unbuilt::Missing(why)) => {
            assert!(
                !required(),
                "{test}: {why} ({REQUIRE} is set, so the book's tests cannot skip)"
            );
            eprintln!("{test}: skipped: {why}");
            None
        }
        Err(Unbuilt::Failed(why)) => panic!("{test}: the book does not build:\n{why}"),
    }
}

/// Runs `bash docs/book.sh --no-install`, once for every test here.
fn build() -> Result<PathBuf, Unbuilt> {
    let root = root();
    let mut command = Command::new("bash");
    command
        .arg(root.join("docs/book.sh"))
        .arg("--no-install")
        .current_dir(&root);
    let mut process = Process::spawn(command).map_err(Unbuilt::Failed)?;
    // A cold `cargo run -p book` on a loaded machine is the long part.
    let status = process
        .wait(Duration::from_secs(600))
        .map_err(Unbuilt::Failed)?;
    let stdout = String::from_utf8_lossy(process.stdout()).into_owned();
    let output = format!("{stdout}{}", String::from_utf8_lossy(&process.stderr()));
    match status.code() {
        Some(0) => Ok(root.join("target/book")),
        Some(NOT_INSTALLED) => Err(Unbuilt::Missing(output.trim().to_owned())),
        _ => Err(Unbuilt::Failed(format!("docs/book.sh: {status}\n{output}"))),
    }
}

/// A summary's links, in order.
fn summary_links(lang: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(root().join(format!("docs/book/{lang}/SUMMARY.md"))).unwrap();
    text.lines()
        .filter_map(|line| {
            let (title, rest) = line.split_once("](")?;
            let title = &title[title.find('[')? + 1..];
            Some((title.to_owned(), rest.split(')').next()?.to_owned()))
        })
        .collect()
}

/// The crates in `lessons` or `exercises`.
fn crate_dirs(folder: &str) -> Vec<String> {
    let mut dirs: Vec<String> = fs::read_dir(root().join(folder))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// A walkthrough's file in a language.
fn walkthrough_name(lang: &str) -> &'static str {
    if lang == "en" {
        "README.md"
    } else {
        "README.zh-CN.md"
    }
}

/// A code block's text as a page shows it: no trailing spaces or newlines.
fn normalized(code: &str) -> String {
    code.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

#[test]
fn the_summaries_list_every_lesson_and_exercise_in_both_languages() {
    let mut problems = Vec::new();
    for lang in LANGUAGES {
        let links: Vec<String> = summary_links(lang).into_iter().map(|(_, l)| l).collect();
        for folder in ["lessons", "exercises"] {
            for dir in crate_dirs(folder) {
                let wanted = format!("../../../{folder}/{dir}/{}", walkthrough_name(lang));
                if !links.contains(&wanted) {
                    problems.push(format!(
                        "docs/book/{lang}/SUMMARY.md has no chapter for {folder}/{dir}: add a line linking {wanted}"
                    ));
                }
            }
        }
        // A Chinese chapter is the translation wherever there is one.
        for link in &links {
            let english = link.trim_start_matches("../../../");
            let twin = english.replace(".md", ".zh-CN.md");
            if lang != "en" && !english.ends_with(".zh-CN.md") && root().join(&twin).exists() {
                problems.push(format!(
                    "docs/book/{lang}/SUMMARY.md links {link}, which has a translation: link ../../../{twin}"
                ));
            }
        }
    }
    let pages = |lang| -> Vec<String> {
        summary_links(lang)
            .into_iter()
            .map(|(_, link)| link.replace(".zh-CN.md", ".md"))
            .collect()
    };
    if pages("en") != pages("zh-CN") {
        problems.push(format!(
            "the two summaries must list the same pages in the same order:\n  en:    {:?}\n  zh-CN: {:?}",
            pages("en"),
            pages("zh-CN")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_link_and_anchor_resolves_in_both_languages() {
    let Some(site) = site("every_link_and_anchor_resolves_in_both_languages") else {
        return;
    };
    for lang in LANGUAGES {
        assert!(
            site.join(lang).join("index.html").is_file(),
            "{lang}: no index.html"
        );
        let pages = site::pages(&site.join(lang)).len();
        assert!(pages > 30, "{lang}: only {pages} pages");
    }
    let problems = site::broken_links(site);
    assert!(
        problems.is_empty(),
        "{} broken links in target/book:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_include_is_expanded_with_its_region() {
    let Some(site) = site("every_include_is_expanded_with_its_region") else {
        return;
    };
    let root = root();
    let mut problems = Vec::new();
    for page in site::pages(site) {
        let html = fs::read_to_string(&page).unwrap();
        if html.contains(DIRECTIVE) {
            problems.push(format!(
                "{}: an mdBook directive was left unexpanded",
                page.display()
            ));
        }
    }
    // Each walkthrough's quoted regions, as the walkthrough shows them.
    for lang in LANGUAGES {
        for lesson in crate_dirs("lessons") {
            let file = root
                .join("lessons")
                .join(&lesson)
                .join(walkthrough_name(lang));
            let quotes = walkthrough::quotes(&fs::read_to_string(&file).unwrap()).unwrap();
            let page = site
                .join(lang)
                .join("lessons")
                .join(&lesson)
                .join("index.html");
            let Ok(html) = fs::read_to_string(&page) else {
                problems.push(format!("{}: missing", page.display()));
                continue;
            };
            let blocks: Vec<String> = site::code_blocks(&html)
                .iter()
                .map(|b| normalized(b))
                .collect();
            for quote in quotes {
                if !blocks.contains(&normalized(&quote.text)) {
                    problems.push(format!(
                        "{}: no code block shows {}:{} as {} does",
                        page.display(),
                        quote.file,
                        quote.anchor,
                        file.display()
                    ));
                }
            }
        }
        // Each source page, the whole file.
        let sources = site.join(lang).join("source");
        for page in site::pages(&sources) {
            let relative = page.strip_prefix(&sources).unwrap().to_string_lossy();
            let Some(file) = relative.strip_suffix(".html") else {
                continue;
            };
            let path = root.join(file);
            if !path.is_file() {
                continue; // a folder's list
            }
            let html = fs::read_to_string(&page).unwrap();
            let contents = normalized(&fs::read_to_string(&path).unwrap());
            if !site::code_blocks(&html)
                .iter()
                .any(|b| normalized(b) == contents)
            {
                problems.push(format!("{}: does not show {file} whole", page.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_page_switches_to_the_same_page_in_the_other_language() {
    let Some(site) = site("every_page_switches_to_the_same_page_in_the_other_language") else {
        return;
    };
    let mut problems = Vec::new();
    for (lang, other) in [("en", "zh-CN"), ("zh-CN", "en")] {
        let book = site.join(lang);
        for page in site::pages(&book) {
            let relative = page.strip_prefix(&book).unwrap();
            // mdBook's own pages: the sidebar, the whole book, the 404 page.
            if ["toc.html", "print.html", "404.html"].contains(&relative.to_str().unwrap_or("")) {
                continue;
            }
            let twin = site.join(other).join(relative);
            let html = fs::read_to_string(&page).unwrap();
            let switches = site::attributes(&html, "href")
                .iter()
                .any(|link| site::target(&page, link).is_some_and(|(file, _)| file == twin));
            if !switches {
                problems.push(format!(
                    "{lang}/{}: no link to {other}/{}",
                    relative.display(),
                    relative.display()
                ));
            } else if !twin.is_file() {
                problems.push(format!(
                    "{lang}/{}: {other}/{} is missing",
                    relative.display(),
                    relative.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_benchmarks_charts_are_images_in_both_languages() {
    let Some(site) = site("the_benchmarks_charts_are_images_in_both_languages") else {
        return;
    };
    let root = root();
    let page = fs::read_to_string(root.join("docs/benchmarks.md")).unwrap();
    let charts: Vec<&str> = page
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".svg"))
        .collect();
    assert!(charts.len() >= 2, "docs/benchmarks.md shows {charts:?}");
    for lang in LANGUAGES {
        let page = site.join(lang).join("docs/benchmarks.html");
        let html = fs::read_to_string(&page).unwrap();
        let images: Vec<PathBuf> = site::tags(&html)
            .into_iter()
            .filter(|tag| tag.starts_with("img "))
            .flat_map(|tag| site::attributes(&format!("<{tag}>"), "src"))
            .filter_map(|src| site::target(&page, &src).map(|(file, _)| file))
            .collect();
        for chart in &charts {
            let shown = images
                .iter()
                .find(|file| file.file_name().is_some_and(|n| n == *chart))
                .unwrap_or_else(|| panic!("{}: no image of {chart}", page.display()));
            assert_eq!(
                fs::read(shown).unwrap(),
                fs::read(root.join("docs").join(chart)).unwrap(),
                "{}: {chart} is not the chart the benchmark drew",
                page.display()
            );
        }
    }
}

/// The Chromium on this machine, if any.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Runs headless Chromium on `url` with `args`, in a profile of its own;
/// its stdout and stderr.
fn run_chromium(browser: &str, url: &str, args: &[String], profile: &Path) -> (String, String) {
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            // As root in a container, Chromium's sandbox cannot start.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            // The page's console messages, on stderr.
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url);
    let mut process = Process::spawn(command).unwrap();
    let status = process
        .wait(Duration::from_secs(120))
        .unwrap_or_else(|err| panic!("{browser} {args:?} {url}: {err}"));
    let stdout = String::from_utf8_lossy(process.stdout()).into_owned();
    let stderr = String::from_utf8_lossy(&process.stderr()).into_owned();
    assert!(
        status.success(),
        "{browser} {args:?} {url}: {status}\n{stderr}"
    );
    (stdout, stderr)
}

/// `path` as a `file://` URL.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[test]
fn a_browser_renders_a_lesson_in_each_language() {
    let test = "a_browser_renders_a_lesson_in_each_language";
    let Some(site) = site(test) else {
        return;
    };
    let Some(browser) = chromium() else {
        assert!(
            !required(),
            "{test}: Chromium is required ({REQUIRE} is set) but was not found: apt-get install chromium"
        );
        eprintln!("{test}: skipped, Chromium not found (apt-get install chromium)");
        return;
    };
    let root = root();
    let shots = root.join("target/book-screenshots");
    fs::create_dir_all(&shots).unwrap();
    for (lang, other) in [("en", "zh-CN"), ("zh-CN", "en")] {
        let page = site
            .join(lang)
            .join("lessons")
            .join(LESSON)
            .join("index.html");
        let url = file_url(&page);
        let profile =
            std::env::temp_dir().join(format!("book-chromium-{}-{lang}", std::process::id()));
        let (dom, log) = run_chromium(browser, &url, &["--dump-dom".to_owned()], &profile);
        let shot = shots.join(format!("{LESSON}-{lang}.png"));
        let _ = fs::remove_file(&shot);
        run_chromium(
            browser,
            &url,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,2000".to_owned(),
            ],
            &profile,
        );
        let _ = fs::remove_dir_all(&profile);
        let context = format!("{lang}/lessons/{LESSON}/index.html in {browser}");

        // Its title: the summary's, and the walkthrough's heading.
        let walkthrough_file = root
            .join("lessons")
            .join(LESSON)
            .join(walkthrough_name(lang));
        let walkthrough = fs::read_to_string(&walkthrough_file).unwrap();
        let summary_title = summary_links(lang)
            .into_iter()
            .find(|(_, link)| {
                link.ends_with(&format!("lessons/{LESSON}/{}", walkthrough_name(lang)))
            })
            .map(|(title, _)| title)
            .unwrap();
        let title = site::element_text(&dom, "title").unwrap_or_default();
        assert!(
            title.contains(&summary_title),
            "{context}: title {title:?}, not {summary_title:?}"
        );
        let heading = walkthrough.lines().next().unwrap().trim_start_matches("# ");
        let main = &dom[dom.find("<main").unwrap_or(0)..];
        let h1 = site::element_text(main, "h1").unwrap_or_default();
        assert_eq!(h1.trim(), heading, "{context}: its heading");

        // Its code: every region the walkthrough quotes, once highlighted.
        let quotes = walkthrough::quotes(&walkthrough).unwrap();
        let blocks: Vec<String> = site::code_blocks(main)
            .iter()
            .map(|b| normalized(b))
            .collect();
        let shown = quotes
            .iter()
            .filter(|q| blocks.contains(&normalized(&q.text)))
            .count();
        assert!(
            quotes.len() >= 5,
            "{}: {} quotes",
            walkthrough_file.display(),
            quotes.len()
        );
        assert_eq!(
            shown,
            quotes.len(),
            "{context}: {shown} of the {} quoted regions shown",
            quotes.len()
        );
        assert!(
            main.contains("hljs"),
            "{context}: the code is not highlighted"
        );

        // No error: no directive left, no browser error page, no script error.
        let text = site::text_of(main);
        assert!(
            !text.contains(DIRECTIVE),
            "{context}: an mdBook directive was left in the page"
        );
        assert!(
            !dom.contains("ERR_FILE_NOT_FOUND") && !dom.contains("ERR_ACCESS_DENIED"),
            "{context}: Chromium's error page"
        );
        let script_errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(":CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
            .collect();
        assert!(
            script_errors.is_empty(),
            "{context}: script errors:\n{}",
            script_errors.join("\n")
        );

        // The language switch in the menu bar, to the same page.
        let switch = site::tags(&dom)
            .into_iter()
            .map(|tag| format!("<{tag}>"))
            .find(|tag| {
                site::attributes(tag, "id")
                    .iter()
                    .any(|id| id == "language-switch")
            })
            .unwrap_or_else(|| panic!("{context}: no language switch in the menu bar"));
        let href = site::attributes(&switch, "href")
            .into_iter()
            .next()
            .unwrap_or_default();
        let twin = site
            .join(other)
            .join("lessons")
            .join(LESSON)
            .join("index.html");
        assert_eq!(
            href,
            file_url(&twin),
            "{context}: the menu bar's language switch"
        );
        assert!(twin.is_file());

        // The screenshot, for people to look at (CI keeps it).
        let png = fs::read(&shot).unwrap_or_else(|err| panic!("{}: {err}", shot.display()));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 20_000,
            "{}: not a screenshot",
            shot.display()
        );
        eprintln!("{test}: {} ({} bytes)", shot.display(), png.len());
    }
}
