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

/// `text` (from GitHub, so anyone's) with its control characters written out: C0 but tab as
/// `\x07`, DEL as `\x7f`, C1 as `\u{9b}`, so that printing it cannot move the cursor, retitle
/// the window or start an escape sequence on a terminal.
pub(crate) fn inert(text: &str) -> Cow<'_, str> {
    let is_control = |c: char| c.is_control() && c != '\t';
    if !text.contains(is_control) {
        return Cow::Borrowed(text);
    }
    let mut inert = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if !is_control(c) => inert.push(c),
            '\0'..='\u{7f}' => inert.push_str(&format!("\\x{:02x}", u32::from(c))),
            _ => inert.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(inert)
}

/// `url` with every byte that is not printable ASCII percent-encoded: a link from GitHub's data
/// can then neither end an OSC 8 sequence nor start another control sequence.
pub(crate) fn inert_url(url: &str) -> Cow<'_, str> {
    if url.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Cow::Borrowed(url);
    }
    let mut inert = String::with_capacity(url.len() + 8);
    for byte in url.bytes() {
        if (0x21..=0x7e).contains(&byte) {
            inert.push(char::from(byte));
        } else {
            inert.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(inert)
}

/// `text` as an OSC 8 hyperlink to `url`, which must be inert ([`inert_url`]).
pub(crate) fn hyperlink(url: &str, text: &str) -> String {
    format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_out() {
        assert!(matches!(inert("plain\ttext é 🔥"), Cow::Borrowed(_)));
        assert_eq!(
            inert("a\0b\x07c\x1b[31m\u{7f}\u{85}\u{9b}d\u{a0}"),
            "a\\x00b\\x07c\\x1b[31m\\x7f\\u{85}\\u{9b}d\u{a0}"
        );
    }

    #[test]
    fn urls_are_made_inert_and_links_wrap_their_text() {
        let plain = "https://github.com/o/r/actions/runs/1/job/2#step:3:4";
        assert!(matches!(inert_url(plain), Cow::Borrowed(_)));
        let hostile = "https://x/\x1b]8;;evil\x07 é\u{9b}\x7f";
        let inert = inert_url(hostile);
        assert_eq!(inert, "https://x/%1B]8;;evil%07%20%C3%A9%C2%9B%7F");
        assert!(inert.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert_eq!(
            hyperlink(plain, "12"),
            format!("\x1b]8;;{plain}\x1b\\12\x1b]8;;\x1b\\")
        );
    }
}
