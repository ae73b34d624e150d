//! ANSI colors, on or off as `--color`, the terminal and `NO_COLOR` decide.

use std::borrow::Cow;

/// Paints text, or leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Colors {
    on: bool,
}

impl Colors {
    pub(crate) fn new(on: bool) -> Colors {
        Colors { on }
    }

    pub(crate) fn is_on(self) -> bool {
        self.on
    }

    fn paint<'a>(self, sgr: &str, text: &'a str) -> Cow<'a, str> {
        if self.on {
            Cow::Owned(format!("\x1b[{sgr}m{text}\x1b[0m"))
        } else {
            Cow::Borrowed(text)
        }
    }

    pub(crate) fn error(self, text: &str) -> Cow<'_, str> {
        self.paint("1;31", text)
    }

    pub(crate) fn warning(self, text: &str) -> Cow<'_, str> {
        self.paint("33", text)
    }

    /// A matched word: bold red, as grep and ripgrep.
    pub(crate) fn matched(self, text: &str) -> Cow<'_, str> {
        self.paint("1;31", text)
    }

    /// Context lines and secondary detail.
    pub(crate) fn dim(self, text: &str) -> Cow<'_, str> {
        self.paint("2", text)
    }

    /// Line numbers.
    pub(crate) fn number(self, text: &str) -> Cow<'_, str> {
        self.paint("32", text)
    }

    /// Group headers.
    pub(crate) fn header(self, text: &str) -> Cow<'_, str> {
        self.paint("1;35", text)
    }

    /// Step headers.
    pub(crate) fn step(self, text: &str) -> Cow<'_, str> {
        self.paint("36", text)
    }
}
