//! Stages the course as two mdBook books, from the walkthroughs themselves.
//!
//! Each language has a committed `docs/book/LANG/SUMMARY.md` whose links
//! name the repository's own files (`../../../lessons/lesson-05/README.md`,
//! or `README.zh-CN.md` for Chinese), and a `book.toml`. [`stage`] writes,
//! for each language, `OUT/LANG/` with:
//!
//! - every chapter, copied from its file with a few changes: each include
//!   marker and its code block becomes a code block that includes the
//!   anchored region with mdBook, so that the code comes from the source;
//!   each link is rewritten to the page it means in the book (a chapter of
//!   the same book, the same page in the other language's book, a page
//!   showing a source file or listing a folder); and the line that switches
//!   language is added where the file has none;
//! - a page for every source file and folder a chapter links to, under
//!   `source/`, each showing the whole file (again by an include) or
//!   listing the folder;
//! - the charts and other images the chapters show;
//! - `SUMMARY.md` and `book.toml`, with the source pages and the
//!   preprocessor that dedents included regions added.
//!
//! A chapter's page has the same path in both books (`README.md` and
//! `README.zh-CN.md` are both `index.md`), so that switching language is
//! replacing `en/` by `zh-CN/`. A link that leads nowhere, a Markdown file
//! that is not a chapter, a lesson missing from a summary or a chapter
//! missing from one language fail the staging, naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::markdown::{self, DIRECTIVE_OPEN, Line};
use crate::paths::{self, file_name, parent, relative, resolve, up_to_root};

/// Where each language's summary and `book.toml` are, from the root.
pub const BOOK_DIR: &str = "docs/book";

/// Where the source pages are, inside each book.
pub const SOURCE_DIR: &str = "source";

/// One language of the book, and the words the generated pages use in it.
#[derive(Debug)]
pub struct Language {
    /// Its code: the folder of its summary, of its staged book and of its site.
    pub code: &'static str,
    /// The line that switches to the other language, around the link.
    pub switch: (&'static str, &'static str),
    /// The appendix's part title in the summary.
    pub appendix: &'static str,
    /// The title of the page that lists the source pages.
    pub sources_title: &'static str,
    /// What that page says first.
    pub sources_intro: &'static str,
    /// What a source file's page says before the file.
    pub file_intro: &'static str,
    /// What a folder's page says before its list.
    pub folder_intro: &'static str,
    /// What a listed file that cannot be shown says.
    pub not_shown: &'static str,
    /// The note on top of a page that has no translation into this language.
    pub untranslated: Option<&'static str>,
    /// The note on top of the benchmarks' page (written by `bench`).
    pub generated: Option<&'static str>,
}

/// English: the walkthroughs as written.
pub const ENGLISH: Language = Language {
    code: "en",
    switch: ("English | [中文](", ")"),
    appendix: "Appendix",
    sources_title: "Source files",
    sources_intro: "Every file of the repository that a chapter links to, shown whole as it was when this book was built.",
    file_intro: "The whole file, as it was when this book was built.",
    folder_intro: "The folder's files, as they were when this book was built.",
    not_shown: "not shown here",
    untranslated: None,
    generated: None,
};

/// Chinese: the `*.zh-CN.md` twins, and the English page where there is none.
pub const CHINESE: Language = Language {
    code: "zh-CN",
    switch: ("[English](", ") | 中文"),
    appendix: "附录",
    sources_title: "源文件",
    sources_intro: "各章链接到的仓库文件，这里完整展示构建本书时的版本。",
    file_intro: "完整的文件，即构建本书时的版本。",
    folder_intro: "这个文件夹里的文件，即构建本书时的版本。",
    not_shown: "此处不展示",
    untranslated: Some("本页暂无中文版，下面是英文原文。"),
    generated: Some(
        "本页由基准测试程序（`cargo run --release -p bench`）根据一次实际运行的结果生成，只有英文版。",
    ),
};

/// The two languages, English first.
pub const LANGUAGES: [&Language; 2] = [&ENGLISH, &CHINESE];

/// The marker `bench` writes into the page it generates.
const GENERATED_MARKER: &str = "<!-- bench:begin";

/// Image files a chapter shows: copied into the book as they are.
const IMAGES: [&str; 5] = ["svg", "png", "jpg", "jpeg", "gif"];

/// What [`stage`] did, for its report.
#[derive(Debug, Default)]
pub struct Staged {
    /// Chapters per book.
    pub chapters: usize,
    /// Generated source and folder pages per book.
    pub source_pages: usize,
    /// Regions included in the chapters, in both books.
    pub includes: usize,
}

/// One language's book while it is staged.
struct Book {
    lang: &'static Language,
    /// Its summary, as committed.
    summary: String,
    /// Its chapters' files, in the summary's order.
    chapters: Vec<String>,
    /// Each chapter file's page in the book.
    pages: BTreeMap<String, String>,
}

/// Stages both books from the repository at `repo` into `out/en` and
/// `out/zh-CN`, replacing what was there. `preprocessor` is the command
/// mdBook runs to dedent included regions (this program's `dedent`).
pub fn stage(repo: &Path, out: &Path, preprocessor: &str) -> Result<Staged, String> {
    let repo = fs::canonicalize(repo).map_err(|err| format!("{}: {err}", repo.display()))?;
    fs::create_dir_all(out).map_err(|err| format!("{}: {err}", out.display()))?;
    let out = fs::canonicalize(out).map_err(|err| format!("{}: {err}", out.display()))?;
    let books: Vec<Book> = LANGUAGES
        .iter()
        .map(|lang| load(&repo, lang))
        .collect::<Result<_, _>>()?;
    let mut problems = check_books(&repo, &books);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }

    let mut staged = Staged::default();
    let mut sources = BTreeSet::new();
    let mut images = BTreeSet::new();
    let mut chapters: Vec<Vec<(String, String)>> = Vec::new();
    for (n, book) in books.iter().enumerate() {
        let other = &books[1 - n];
        let src = out.join(book.lang.code).join("src");
        let mut written = Vec::new();
        for file in &book.chapters {
            let page = &book.pages[file];
            let mut context = Context {
                repo: &repo,
                src: &src,
                book,
                other,
                file,
                page,
                sources: &mut sources,
                images: &mut images,
                includes: 0,
            };
            match context.chapter() {
                Ok(text) => written.push((page.clone(), text)),
                Err(err) => problems.extend(err.lines().map(str::to_owned)),
            }
            staged.includes += context.includes;
        }
        chapters.push(written);
    }
    let pages = source_pages(&repo, &books, &sources, &mut problems);
    if !problems.is_empty() {
        // An English page in both books is reported once.
        let mut seen = BTreeSet::new();
        problems.retain(|p| seen.insert(p.clone()));
        return Err(problems.join("\n"));
    }

    for (book, written) in books.iter().zip(chapters) {
        let root = out.join(book.lang.code);
        if root.exists() {
            fs::remove_dir_all(&root).map_err(|err| format!("{}: {err}", root.display()))?;
        }
        let src = root.join("src");
        for (page, text) in &written {
            write(&src.join(page), text)?;
        }
        for (page, text) in render_source_pages(&repo, &src, book, &pages) {
            write(&src.join(page), &text)?;
        }
        for image in &images {
            let to = src.join(image);
            create_parent(&to)?;
            fs::copy(repo.join(image), &to).map_err(|err| format!("{image}: {err}"))?;
        }
        write(&src.join("SUMMARY.md"), &summary(book, &pages)?)?;
        write(
            &root.join("book.toml"),
            &book_toml(&repo, book, preprocessor)?,
        )?;
        copy_theme_files(&repo, &root)?;
    }
    staged.chapters = books[0].chapters.len();
    staged.source_pages = pages.len() + 1;
    Ok(staged)
}

/// Reads a language's summary and lists its chapters.
fn load(repo: &Path, lang: &'static Language) -> Result<Book, String> {
    let summary_file = format!("{BOOK_DIR}/{}/SUMMARY.md", lang.code);
    let summary = fs::read_to_string(repo.join(&summary_file))
        .map_err(|err| format!("{summary_file}: {err}"))?;
    let mut chapters = Vec::new();
    let mut problems = Vec::new();
    for (line, kind) in markdown::lines(&summary) {
        if kind != Line::Prose {
            continue;
        }
        let _ = markdown::rewrite_links(line, &mut |target| {
            match resolve(parent(&summary_file), target) {
                Some(file) if repo.join(&file).is_file() && file.ends_with(".md") => {
                    chapters.push(file)
                }
                _ => problems.push(format!(
                    "{summary_file}: `{target}` is not a Markdown file of the repository"
                )),
            }
            Ok(target.to_owned())
        });
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let pages = chapters
        .iter()
        .map(|file| (file.clone(), page_of(file)))
        .collect();
    Ok(Book {
        lang,
        summary,
        chapters,
        pages,
    })
}

/// The page of a chapter file in its book: a folder's `README.md` (or
/// `README.zh-CN.md`) is its `index.md`, and a twin loses its `.zh-CN`.
pub fn page_of(file: &str) -> String {
    let dir = parent(file);
    let name = file_name(file);
    let name = match name {
        "README.md" | "README.zh-CN.md" => "index.md".to_owned(),
        name => name.replace(".zh-CN.md", ".md"),
    };
    if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    }
}

/// The Chinese twin of an English document.
fn twin(file: &str) -> Option<String> {
    (file.ends_with(".md") && !file.ends_with(".zh-CN.md"))
        .then(|| format!("{}.zh-CN.md", &file[..file.len() - 3]))
}

/// What makes the two books one course: the same pages in the same order,
/// and every lesson and exercise in both.
fn check_books(repo: &Path, books: &[Book]) -> Vec<String> {
    let mut problems = Vec::new();
    let pages = |book: &Book| -> Vec<String> {
        book.chapters
            .iter()
            .map(|f| book.pages[f].clone())
            .collect()
    };
    let (first, second) = (pages(&books[0]), pages(&books[1]));
    if first != second {
        problems.push(format!(
            "{BOOK_DIR}/en/SUMMARY.md and {BOOK_DIR}/zh-CN/SUMMARY.md must list the same pages in the same order (README.md and README.zh-CN.md are the same page):\n  en:    {}\n  zh-CN: {}",
            first.join(" "),
            second.join(" ")
        ));
    }
    for book in books {
        let mut seen = BTreeSet::new();
        for file in &book.chapters {
            if !seen.insert(&book.pages[file]) {
                problems.push(format!(
                    "{BOOK_DIR}/{}/SUMMARY.md lists the page of {file} twice",
                    book.lang.code
                ));
            }
        }
        for folder in ["lessons", "exercises"] {
            for dir in crate_dirs(&repo.join(folder)) {
                let english = format!("{folder}/{dir}/README.md");
                let wanted = match book.lang.code {
                    "en" => english.clone(),
                    _ => twin(&english)
                        .filter(|t| repo.join(t).exists())
                        .unwrap_or(english),
                };
                if !book.chapters.contains(&wanted) {
                    problems.push(format!(
                        "{BOOK_DIR}/{}/SUMMARY.md has no chapter for {folder}/{dir}: add a line linking ../../../{wanted}",
                        book.lang.code
                    ));
                }
            }
        }
    }
    problems
}

/// The crates in a folder (`lessons`, `exercises`), sorted.
pub fn crate_dirs(folder: &Path) -> Vec<String> {
    let mut dirs: Vec<String> = fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// One chapter being staged.
struct Context<'a> {
    repo: &'a Path,
    /// The staged book's `src`.
    src: &'a Path,
    book: &'a Book,
    other: &'a Book,
    /// The chapter's file, from the root.
    file: &'a str,
    /// Its page in the book.
    page: &'a str,
    /// Source files and folders linked to, from the root.
    sources: &'a mut BTreeSet<String>,
    /// Images shown, from the root.
    images: &'a mut BTreeSet<String>,
    includes: usize,
}

impl Context<'_> {
    /// The chapter's Markdown as the book shows it; or its problems, one
    /// line each, naming the chapter's file.
    fn chapter(&mut self) -> Result<String, String> {
        self.staged().map_err(|err| {
            if err.starts_with(self.file) {
                err
            } else {
                format!("{}: {err}", self.file)
            }
        })
    }

    fn staged(&mut self) -> Result<String, String> {
        let text = fs::read_to_string(self.repo.join(self.file)).map_err(|err| err.to_string())?;
        let text = markdown::escape_directives(&text);
        let text = markdown::replace_includes(&text, &mut |source, _anchor| {
            let dir = parent(self.file);
            let path = resolve(dir, source)
                .filter(|p| self.repo.join(p).is_file())
                .ok_or_else(|| format!("the include marker names {source}, which is missing"))?;
            self.includes += 1;
            Ok(paths::relative_fs(
                &self.src.join(parent(self.page)),
                &self.repo.join(path),
            ))
        })?;
        let mut problems = Vec::new();
        let mut out = String::with_capacity(text.len());
        for (line, kind) in markdown::lines(&text) {
            if kind == Line::Prose {
                // Every broken link is reported, not only a line's first.
                let line = markdown::rewrite_links(line, &mut |target| {
                    Ok(self.link(target).unwrap_or_else(|err| {
                        problems.push(format!("{}: {err}", self.file));
                        target.to_owned()
                    }))
                })?;
                out.push_str(&line);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(self.add_switch(&out))
    }

    /// Whether the chapter's file is in the other language (an English page
    /// in the Chinese book, for want of a translation).
    fn foreign(&self) -> bool {
        self.book.lang.code != "en" && !self.file.ends_with(".zh-CN.md")
    }

    /// The link in the book for a link `target` in the chapter's file.
    fn link(&mut self, target: &str) -> Result<String, String> {
        let bare = target.trim_start_matches('<').trim_end_matches('>');
        if bare.starts_with('#') || bare.contains("://") || bare.starts_with("mailto:") {
            return Ok(target.to_owned());
        }
        let (path, fragment) = match bare.split_once('#') {
            Some((path, fragment)) => (path, format!("#{fragment}")),
            None => (bare, String::new()),
        };
        let dir = parent(self.page);
        let file = resolve(parent(self.file), path)
            .ok_or_else(|| format!("the link {target} leads out of the repository"))?;
        if let Some(page) = self.book.pages.get(&file) {
            return Ok(format!("{}{fragment}", relative(dir, page)));
        }
        // An untranslated page leads to the translations of the pages it
        // links to; but to a part of a page only in English, whose
        // headings (and so anchors) are the English ones.
        if self.foreign()
            && fragment.is_empty()
            && let Some(page) = twin(&file).and_then(|t| self.book.pages.get(&t))
        {
            return Ok(format!("{}{fragment}", relative(dir, page)));
        }
        if let Some(page) = self.other.pages.get(&file) {
            return Ok(format!(
                "{}{fragment}",
                cross(page, self.page, self.other.lang.code)
            ));
        }
        let on_disk = self.repo.join(&file);
        if !on_disk.exists() {
            return Err(format!(
                "the link {target} is to {file}, which does not exist"
            ));
        }
        if file.ends_with(".md") {
            return Err(format!(
                "the link {target} is to {file}, which is not a chapter of the book: add it to {BOOK_DIR}/{}/SUMMARY.md",
                self.book.lang.code
            ));
        }
        let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        if on_disk.is_file() && extension.is_some_and(|e| IMAGES.contains(&e.as_str())) {
            self.images.insert(file.clone());
            return Ok(format!("{}{fragment}", relative(dir, &file)));
        }
        if !fragment.is_empty() {
            return Err(format!(
                "the link {target} is to a part of a source file, which the book cannot show"
            ));
        }
        if on_disk.is_dir()
            && let Some(page) = self
                .book
                .pages
                .get(&folder_chapter(&self.book.pages, &file))
        {
            return Ok(relative(dir, page));
        }
        self.sources.insert(file.clone());
        Ok(relative(dir, &source_page(&file, on_disk.is_dir())))
    }

    /// The chapter with its language switch, added after the title where
    /// the file has none, and the note on an untranslated page.
    fn add_switch(&self, text: &str) -> String {
        let has_switch = text.lines().take(8).any(|line| {
            let line = line.trim();
            (line.starts_with("English | [中文](") && line.ends_with(')'))
                || (line.starts_with("[English](") && line.ends_with(") | 中文"))
        });
        let mut note = String::new();
        if self.foreign() {
            let generated = text.contains(GENERATED_MARKER);
            let words = if generated {
                self.book.lang.generated
            } else {
                self.book.lang.untranslated
            };
            if let Some(words) = words {
                note = format!("\n> {words}\n");
            }
        }
        if has_switch && note.is_empty() {
            return text.to_owned();
        }
        let switch = if has_switch {
            String::new()
        } else {
            format!(
                "\n{}\n",
                switch_line(self.book.lang, self.page, self.other.lang.code)
            )
        };
        insert_after_title(text, &format!("{switch}{note}"))
    }
}

/// `text` with `insert` after its first `# ` title (or on top).
fn insert_after_title(text: &str, insert: &str) -> String {
    let mut out = String::with_capacity(text.len() + insert.len());
    let mut done = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.starts_with("# ") {
            out.push_str(insert);
            done = true;
        }
    }
    if !done {
        return format!("{insert}\n{out}");
    }
    out
}

/// The line that switches a page of a book in `lang` to the same page of
/// the book in `other`.
fn switch_line(lang: &Language, page: &str, other: &str) -> String {
    format!(
        "{}{}{}",
        lang.switch.0,
        cross(page, page, other),
        lang.switch.1
    )
}

/// The link from the page `from` of one book to the page `page` of the
/// book `lang` beside it.
fn cross(page: &str, from: &str, lang: &str) -> String {
    let html = format!("{}.html", page.strip_suffix(".md").unwrap_or(page));
    format!("{}../{lang}/{html}", up_to_root(parent(from)))
}

/// The chapter file that stands for a folder: its README.
fn folder_chapter(pages: &BTreeMap<String, String>, folder: &str) -> String {
    let index = format!("{folder}/index.md");
    pages
        .iter()
        .find(|(_, page)| **page == index)
        .map(|(file, _)| file.clone())
        .unwrap_or_default()
}

/// The page that shows a source file, or lists a folder.
fn source_page(file: &str, folder: bool) -> String {
    if folder {
        format!("{SOURCE_DIR}/{file}/index.md")
    } else {
        format!("{SOURCE_DIR}/{file}.md")
    }
}

/// A generated page: a source file or a folder.
#[derive(Debug)]
enum SourcePage {
    /// A text file, shown whole.
    File,
    /// A folder, as a list of its entries: each a name and where it leads
    /// (a chapter's page, or a source page), or `None` when it is not shown.
    Folder(Vec<(String, Option<String>)>),
}

/// The pages of every linked source file and folder (folders are listed,
/// and their files get pages too), keyed by their path from the root.
fn source_pages(
    repo: &Path,
    books: &[Book],
    sources: &BTreeSet<String>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, SourcePage> {
    let mut pages = BTreeMap::new();
    let mut todo: Vec<String> = sources.iter().cloned().collect();
    while let Some(path) = todo.pop() {
        if pages.contains_key(&path) {
            continue;
        }
        let on_disk = repo.join(&path);
        if on_disk.is_file() {
            if let Err(err) = showable(&on_disk) {
                problems.push(format!("{path}: a chapter links to it, but {err}"));
            }
            pages.insert(path, SourcePage::File);
            continue;
        }
        let mut entries: Vec<(bool, String)> = fs::read_dir(&on_disk)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                (
                    !e.path().is_dir(),
                    e.file_name().to_string_lossy().into_owned(),
                )
            })
            .filter(|(_, name)| !name.starts_with('.') && name != "target")
            .collect();
        entries.sort();
        let mut listed = Vec::new();
        for (is_file, name) in entries {
            let child = format!("{path}/{name}");
            // A chapter has the same page in both books.
            let chapter = books.iter().find_map(|book| {
                let file = if is_file {
                    child.clone()
                } else {
                    folder_chapter(&book.pages, &child)
                };
                book.pages.get(&file).cloned()
            });
            let (label, target) = if let Some(page) = chapter {
                (
                    format!("{name}{}", if is_file { "" } else { "/" }),
                    Some(page),
                )
            } else if !is_file {
                todo.push(child.clone());
                (format!("{name}/"), Some(source_page(&child, true)))
            } else if child.ends_with(".zh-CN.md") || showable(&repo.join(&child)).is_err() {
                (name, None)
            } else {
                todo.push(child.clone());
                (name, Some(source_page(&child, false)))
            };
            listed.push((label, target));
        }
        pages.insert(path, SourcePage::Folder(listed));
    }
    pages
}

/// Whether a file can be shown by including it: text, and no mdBook
/// directive of its own (mdBook would run it).
fn showable(path: &Path) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|err| err.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())?;
    if text.contains(&format!("{DIRECTIVE_OPEN}#")) {
        return Err("it holds an mdBook directive, which mdBook would run".to_owned());
    }
    Ok(())
}

/// The Markdown of every source page of a book, with its path in the book.
fn render_source_pages(
    repo: &Path,
    src: &Path,
    book: &Book,
    pages: &BTreeMap<String, SourcePage>,
) -> Vec<(String, String)> {
    let lang = book.lang;
    let other = LANGUAGES
        .iter()
        .find(|l| l.code != lang.code)
        .map_or("en", |l| l.code);
    let switch_to = |page: &str| switch_line(lang, page, other);
    let mut out = Vec::new();
    let index = format!("{SOURCE_DIR}/index.md");
    let mut list = String::new();
    for (path, page) in pages {
        let folder = matches!(page, SourcePage::Folder(_));
        let at = source_page(path, folder);
        let title = if folder {
            format!("{path}/")
        } else {
            path.clone()
        };
        list.push_str(&format!("- [`{title}`]({})\n", relative(SOURCE_DIR, &at)));
        let mut text = format!("# {title}\n\n{}\n\n", switch_to(&at));
        match page {
            SourcePage::File => {
                let contents = fs::read_to_string(repo.join(path)).unwrap_or_default();
                let fence = "`".repeat(longest_fence(&contents).max(2) + 1);
                let include = paths::relative_fs(&src.join(parent(&at)), &repo.join(path));
                text.push_str(&format!(
                    "{}\n\n{fence}{}\n{DIRECTIVE_OPEN}#include {include}}}}}\n{fence}\n",
                    lang.file_intro,
                    language_of(path, &contents)
                ));
            }
            SourcePage::Folder(entries) => {
                text.push_str(lang.folder_intro);
                text.push_str("\n\n");
                for (label, target) in entries {
                    match target {
                        Some(target) => text.push_str(&format!(
                            "- [`{label}`]({})\n",
                            relative(parent(&at), target)
                        )),
                        None => text.push_str(&format!("- `{label}` ({})\n", lang.not_shown)),
                    }
                }
            }
        }
        out.push((at, text));
    }
    out.push((
        index.clone(),
        format!(
            "# {}\n\n{}\n\n{}\n\n{list}",
            lang.sources_title,
            switch_to(&index),
            lang.sources_intro
        ),
    ));
    out
}

/// The longest run of backticks that starts a line of `text`.
fn longest_fence(text: &str) -> usize {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            trimmed.len() - trimmed.trim_start_matches('`').len()
        })
        .max()
        .unwrap_or(0)
}

/// The code block language for a file, for highlighting.
fn language_of(path: &str, contents: &str) -> &'static str {
    let extension = file_name(path).rsplit_once('.').map(|(_, e)| e);
    match extension {
        Some("rs") => "rust",
        Some("py") => "python",
        Some("sh") => "bash",
        Some("toml") => "toml",
        Some("json") => "json",
        Some("yml" | "yaml") => "yaml",
        Some("java") => "java",
        Some("c" | "h") => "c",
        Some("go") => "go",
        Some("js") => "javascript",
        Some("md") => "markdown",
        _ if contents.starts_with("#!")
            && contents.lines().next().is_some_and(|l| l.contains("sh")) =>
        {
            "bash"
        }
        _ => "text",
    }
}

/// The book's summary: the committed one with its links made the book's
/// pages, and the appendix of source pages after it.
fn summary(book: &Book, pages: &BTreeMap<String, SourcePage>) -> Result<String, String> {
    let summary_file = format!("{BOOK_DIR}/{}/SUMMARY.md", book.lang.code);
    let mut out = String::new();
    for (line, kind) in markdown::lines(&book.summary) {
        if kind == Line::Prose {
            let line = markdown::rewrite_links(line, &mut |target| {
                resolve(parent(&summary_file), target)
                    .and_then(|file| book.pages.get(&file).cloned())
                    .ok_or_else(|| format!("{summary_file}: {target} is not a chapter"))
            })?;
            out.push_str(&line);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n# {}\n\n- [{}]({SOURCE_DIR}/index.md)\n",
        book.lang.appendix, book.lang.sources_title
    ));
    for (path, page) in pages {
        let folder = matches!(page, SourcePage::Folder(_));
        let title = if folder {
            format!("{path}/")
        } else {
            path.clone()
        };
        out.push_str(&format!("  - [{title}]({})\n", source_page(path, folder)));
    }
    Ok(out)
}

/// The committed `book.toml`, with the dedent preprocessor added.
fn book_toml(repo: &Path, book: &Book, preprocessor: &str) -> Result<String, String> {
    let file = format!("{BOOK_DIR}/{}/book.toml", book.lang.code);
    let committed = fs::read_to_string(repo.join(&file)).map_err(|err| format!("{file}: {err}"))?;
    if preprocessor.contains(['"', '\'', '\\']) {
        return Err(format!(
            "the preprocessor's path has a quote or a backslash, which book.toml cannot hold: {preprocessor}"
        ));
    }
    Ok(format!(
        "# Staged from {file} by `book stage` (crates/book): edit that file, not this one.\n{committed}\n# Added when staged: strips the indentation an included region has in its source.\n[preprocessor.dedent]\ncommand = \"'{preprocessor}' dedent\"\nafter = [\"links\"]\n"
    ))
}

/// Copies the shared theme files (`docs/book/*.js`, `*.css`) into a book.
fn copy_theme_files(repo: &Path, root: &Path) -> Result<(), String> {
    let dir = repo.join(BOOK_DIR);
    let entries = fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let theme = path.extension().is_some_and(|e| e == "js" || e == "css");
        if theme && path.is_file() {
            fs::copy(&path, root.join(entry.file_name()))
                .map_err(|err| format!("{}: {err}", path.display()))?;
        }
    }
    Ok(())
}

/// Writes `text` to `path`, creating its folder.
fn write(path: &Path, text: &str) -> Result<(), String> {
    create_parent(path)?;
    fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Creates the folder `path` goes in.
fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapters_have_the_same_page_in_both_books() {
        assert_eq!(
            page_of("lessons/lesson-05/README.md"),
            "lessons/lesson-05/index.md"
        );
        assert_eq!(
            page_of("lessons/lesson-05/README.zh-CN.md"),
            "lessons/lesson-05/index.md"
        );
        assert_eq!(page_of("README.md"), "index.md");
        assert_eq!(page_of("docs/grading.zh-CN.md"), "docs/grading.md");
        assert_eq!(page_of("docs/benchmarks.md"), "docs/benchmarks.md");
    }

    #[test]
    fn the_other_language_is_beside_this_one() {
        assert_eq!(
            cross(
                "lessons/lesson-05/index.md",
                "lessons/lesson-05/index.md",
                "zh-CN"
            ),
            "../../../zh-CN/lessons/lesson-05/index.html"
        );
        assert_eq!(cross("index.md", "index.md", "en"), "../en/index.html");
        assert_eq!(
            switch_line(&CHINESE, "docs/grading.md", "en"),
            "[English](../../en/docs/grading.html) | 中文"
        );
    }

    #[test]
    fn the_switch_goes_after_the_title() {
        assert_eq!(
            insert_after_title("# T\n\ntext\n", "\nswitch\n"),
            "# T\n\nswitch\n\ntext\n"
        );
    }

    #[test]
    fn source_files_are_highlighted_by_their_kind() {
        assert_eq!(language_of("src/main.rs", ""), "rust");
        assert_eq!(language_of(".ci/run", "#!/usr/bin/env bash\n"), "bash");
        assert_eq!(language_of("tests/python/tutorial_server.py", ""), "python");
        assert_eq!(language_of("LICENSE", "text"), "text");
        assert_eq!(longest_fence("a\n````text\n```\n"), 4);
    }

    /// A small repository: one lesson in two languages, a page only in
    /// English, and the two summaries.
    struct Repo(std::path::PathBuf);

    impl Repo {
        fn new(files: &[(&str, &str)]) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "book-stage-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let base: [(&str, &str); 9] = [
                (
                    "docs/book/en/SUMMARY.md",
                    "# Summary\n\n- [L1](../../../lessons/lesson-01/README.md)\n- [Notes](../../../docs/notes.md)\n",
                ),
                (
                    "docs/book/zh-CN/SUMMARY.md",
                    "# 目录\n\n- [第一课](../../../lessons/lesson-01/README.zh-CN.md)\n- [笔记](../../../docs/notes.md)\n",
                ),
                ("docs/book/en/book.toml", "[book]\ntitle = \"T\"\n"),
                ("docs/book/zh-CN/book.toml", "[book]\ntitle = \"T\"\n"),
                ("docs/book/switch.js", "// js\n"),
                ("lessons/lesson-01/Cargo.toml", "[package]\n"),
                (
                    "lessons/lesson-01/src/main.rs",
                    "fn main() {\n    // ANCHOR: bind\n    bind();\n    // ANCHOR_END: bind\n}\n",
                ),
                (
                    "lessons/lesson-01/README.zh-CN.md",
                    "# 第一课\n\n<!-- translation of README.md, sha256 0 -->\n[English](README.md) | 中文\n\n见[笔记](../../docs/notes.md)。\n",
                ),
                (
                    "docs/notes.md",
                    "# Notes\n\nSee [bind](../lessons/lesson-01/README.md#bind), [lesson 01](../lessons/lesson-01/README.md) and ![chart](chart.svg).\n",
                ),
            ];
            let english = "# Lesson 01\n\nEnglish | [中文](README.zh-CN.md)\n\n## Bind\n\n<!-- include: src/main.rs:bind -->\n```rust\nbind();\n```\n\nIn [src/main.rs](src/main.rs) and [the notes](../../docs/notes.md#notes).\n";
            let defaults = base.into_iter().chain([
                ("lessons/lesson-01/README.md", english),
                ("docs/chart.svg", "<svg/>"),
            ]);
            for (path, text) in defaults.chain(files.iter().copied()) {
                let path = dir.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, text).unwrap();
            }
            Repo(dir)
        }

        fn stage(&self) -> Result<Staged, String> {
            stage(&self.0, &self.0.join("out"), "/bin/book")
        }

        fn staged(&self, lang: &str, page: &str) -> String {
            fs::read_to_string(self.0.join("out").join(lang).join("src").join(page)).unwrap()
        }
    }

    impl Drop for Repo {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_repository_is_staged_as_two_books() {
        let repo = Repo::new(&[]);
        let staged = repo.stage().unwrap();
        assert_eq!((staged.chapters, staged.includes), (2, 1));
        assert_eq!(
            staged.source_pages, 2,
            "main.rs, and the list of source pages"
        );

        let lesson = repo.staged("en", "lessons/lesson-01/index.md");
        assert!(
            lesson.contains("English | [中文](../../../zh-CN/lessons/lesson-01/index.html)"),
            "{lesson}"
        );
        let include = format!(
            "```rust,dedent\n{DIRECTIVE_OPEN}#include ../../../../../lessons/lesson-01/src/main.rs:bind}}}}\n```"
        );
        assert!(lesson.contains(&include), "{lesson}");
        assert!(
            lesson.contains("[src/main.rs](../../source/lessons/lesson-01/src/main.rs.md)"),
            "{lesson}"
        );
        assert!(
            lesson.contains("[the notes](../../docs/notes.md#notes)"),
            "{lesson}"
        );

        let chinese = repo.staged("zh-CN", "lessons/lesson-01/index.md");
        assert!(
            chinese.contains("[English](../../../en/lessons/lesson-01/index.html) | 中文"),
            "{chinese}"
        );
        assert!(
            chinese.contains("见[笔记](../../docs/notes.md)"),
            "{chinese}"
        );

        // A page only in English: a switch added in both books, a note in
        // Chinese, and its links to the translation unless to an anchor.
        let notes = repo.staged("en", "docs/notes.md");
        assert!(
            notes.starts_with("# Notes\n\nEnglish | [中文](../../zh-CN/docs/notes.html)\n"),
            "{notes}"
        );
        let notes = repo.staged("zh-CN", "docs/notes.md");
        assert!(
            notes.starts_with(
                "# Notes\n\n[English](../../en/docs/notes.html) | 中文\n\n> 本页暂无中文版"
            ),
            "{notes}"
        );
        assert!(
            notes.contains("[bind](../../en/lessons/lesson-01/index.html#bind)"),
            "{notes}"
        );
        assert!(
            notes.contains("[lesson 01](../lessons/lesson-01/index.md)"),
            "{notes}"
        );
        assert!(repo.0.join("out/zh-CN/src/docs/chart.svg").is_file());

        let source = repo.staged("en", "source/lessons/lesson-01/src/main.rs.md");
        let whole = format!(
            "```rust\n{DIRECTIVE_OPEN}#include ../../../../../../../lessons/lesson-01/src/main.rs}}}}\n```"
        );
        assert!(source.contains(&whole), "{source}");
        let summary = repo.staged("zh-CN", "SUMMARY.md");
        assert!(
            summary.contains("- [第一课](lessons/lesson-01/index.md)"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "  - [lessons/lesson-01/src/main.rs](source/lessons/lesson-01/src/main.rs.md)"
            ),
            "{summary}"
        );
        let toml = fs::read_to_string(repo.0.join("out/en/book.toml")).unwrap();
        assert!(toml.contains("command = \"'/bin/book' dedent\""), "{toml}");
        assert!(repo.0.join("out/en/switch.js").is_file());
    }

    #[test]
    fn what_the_book_cannot_show_fails_the_staging() {
        let broken = Repo::new(&[
            (
                "docs/notes.md",
                "# Notes\n\n[gone](../gone.rs) and [md](other.md)\n",
            ),
            ("docs/other.md", "# O\n"),
        ]);
        let err = broken.stage().unwrap_err();
        assert!(
            err.contains("../gone.rs is to gone.rs, which does not exist"),
            "{err}"
        );
        assert!(
            err.contains("docs/other.md, which is not a chapter"),
            "{err}"
        );

        let missing = Repo::new(&[
            ("lessons/lesson-02/Cargo.toml", "[package]\n"),
            ("lessons/lesson-02/README.md", "# L2\n"),
        ]);
        let err = missing.stage().unwrap_err();
        assert!(
            err.contains("docs/book/en/SUMMARY.md has no chapter for lessons/lesson-02"),
            "{err}"
        );

        let uneven = Repo::new(&[(
            "docs/book/zh-CN/SUMMARY.md",
            "# 目录\n\n- [第一课](../../../lessons/lesson-01/README.zh-CN.md)\n",
        )]);
        let err = uneven.stage().unwrap_err();
        assert!(err.contains("must list the same pages"), "{err}");
    }
}
