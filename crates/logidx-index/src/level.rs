//! A line's level, read from the runner's markers at the start of its text.

use serde::Serialize;

/// How the runner marked a line: `##[error]`, `##[warning]`, `##[notice]`, `##[debug]`, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// `##[error]…`, the runner's failure annotations.
    Error,
    /// `##[warning]…`.
    Warning,
    /// `##[notice]…`.
    Notice,
    /// `##[debug]…`, written when step debug logging is on.
    Debug,
    /// Every other line, groups and commands included.
    Info,
}

impl Level {
    /// Every level, for listing valid values.
    pub const ALL: [Level; 5] = [
        Level::Error,
        Level::Warning,
        Level::Notice,
        Level::Debug,
        Level::Info,
    ];

    /// The level of a normalised line (timestamp, BOM and ANSI codes already removed).
    ///
    /// Only the marker at the start counts: a test printing `##[error]` mid-line is not an error.
    pub fn of(text: &str) -> Level {
        let Some(rest) = text.strip_prefix("##[") else {
            return Level::Info;
        };
        let marker = rest.split_once(']').map_or("", |(marker, _)| marker);
        match marker {
            "error" => Level::Error,
            "warning" => Level::Warning,
            "notice" => Level::Notice,
            "debug" => Level::Debug,
            _ => Level::Info,
        }
    }

    /// The name used in queries (`level:error`) and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Debug => "debug",
            Level::Info => "info",
        }
    }

    /// Parses a level name, case-insensitively.
    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_leading_marker() {
        let cases = [
            ("##[error]Process completed with exit code 1.", Level::Error),
            (
                "##[warning]Node.js 16 actions are deprecated",
                Level::Warning,
            ),
            ("##[notice]Cache restored", Level::Notice),
            ("##[debug]Evaluating condition", Level::Debug),
            ("##[group]Run cargo test", Level::Info),
            ("[command]/usr/bin/git version", Level::Info),
            ("test foo ... ##[error] printed by a test", Level::Info),
            ("##[error", Level::Info),
            ("", Level::Info),
        ];
        for (text, level) in cases {
            assert_eq!(Level::of(text), level, "level of {text:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("ERROR"), Some(Level::Error));
        assert_eq!(Level::parse("fatal"), None);
    }
}
