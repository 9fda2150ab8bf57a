//! The grader's two languages: English (the default) and Chinese, the
//! tutorial's own.
//!
//! `--lang en|zh` chooses one for the whole run, and without it the locale
//! does ([`Lang::from_env`]: `LC_ALL`, `LC_MESSAGES`, `LANG`). Every text a
//! person reads (a check's summary and hint, a reason, a report's labels)
//! is written in both, side by side where it is used: [`Text`] for the
//! catalog's fixed texts, [`tr!`](crate::tr) for a reason built with
//! `format!`. What programs read (check ids, JSON keys, `core` and
//! `robust`, JUnit class names, the CSV's header) stays the same in both.
//!
//! The language is the process's ([`netcore::lang`]), set once by the
//! command line: a grading speaks one language, and its reasons are built
//! in many places and threads. The grader's own unit tests read English
//! whatever the machine's locale, and a test may choose another language
//! for its own thread ([`with_lang`]).

pub use netcore::lang::Lang;

/// A text in both languages: one home for each of the catalog's summaries,
/// hints and titles, so that the Chinese sits beside the English it
/// translates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    /// The English text.
    pub en: &'static str,
    /// The Chinese text.
    pub zh: &'static str,
}

impl Text {
    /// A text in English and in Chinese.
    pub const fn new(en: &'static str, zh: &'static str) -> Text {
        Text { en, zh }
    }

    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        lang.pick(self.en, self.zh)
    }

    /// The text in the grading's language ([`current`]).
    pub fn tr(self) -> &'static str {
        self.get(current())
    }
}

/// The grading's language: the one [`set`], else the locale's. In the
/// grader's unit tests, English unless the test chose another for its
/// thread ([`with_lang`]), so that no test depends on the machine's locale.
pub fn current() -> Lang {
    #[cfg(test)]
    {
        TEST_LANG.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        netcore::lang::current()
    }
}

/// Sets the grading's language (the command line's `--lang`, or the
/// locale's).
pub fn set(lang: Lang) {
    netcore::lang::set(lang);
}

/// `en` or `zh`, whichever is in the grading's language.
pub fn tr(en: &'static str, zh: &'static str) -> &'static str {
    current().pick(en, zh)
}

#[cfg(test)]
thread_local! {
    /// The language of a unit test's thread.
    static TEST_LANG: std::cell::Cell<Lang> = const { std::cell::Cell::new(Lang::En) };
}

/// Runs `f` with `lang` as the grading's language on this thread (unit
/// tests only).
#[cfg(test)]
pub fn with_lang<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    let before = TEST_LANG.with(|l| l.replace(lang));
    let result = f();
    TEST_LANG.with(|l| l.set(before));
    result
}

/// `format!` with the English or the Chinese format string, whichever is in
/// the grading's language ([`current`]): `tr!("port {port} is in use",
/// "端口 {port} 已被占用")`. Both take the same arguments.
#[macro_export]
macro_rules! tr {
    ($en:literal, $zh:literal $(, $arg:expr)* $(,)?) => {
        match $crate::i18n::current() {
            $crate::i18n::Lang::En => format!($en $(, $arg)*),
            $crate::i18n::Lang::Zh => format!($zh $(, $arg)*),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_tests_read_english_and_may_choose_chinese() {
        let text = Text::new("passed", "通过");
        assert_eq!(text.tr(), "passed");
        let n = 3;
        assert_eq!(
            with_lang(Lang::Zh, || (
                text.tr(),
                crate::tr!("{n} left", "还剩 {n} 个")
            )),
            ("通过", "还剩 3 个".to_owned())
        );
        assert_eq!(crate::tr!("{n} left", "还剩 {n} 个"), "3 left");
    }
}
