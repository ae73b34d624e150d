//! A line's level, read from the runner's markers at the start of its text.

use std::str::FromStr;

use serde::Serialize;

use crate::query::SyntaxError;

/// How the runner marked a line: `##[error]`, `##[warning]`, `##[notice]`, `##[debug]`, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
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
}

/// A level name, case-insensitively (`level:error` in queries).
impl FromStr for Level {
    type Err = SyntaxError;

    fn from_str(name: &str) -> Result<Level, SyntaxError> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| SyntaxError::InvalidValue {
                field: "level",
                value: name.to_owned(),
                expected: "one of error, warning, notice, debug, info",
            })
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
            assert_eq!(level.as_str().parse().ok(), Some(level));
        }
        assert_eq!("ERROR".parse().ok(), Some(Level::Error));
        assert_eq!("fatal".parse::<Level>().ok(), None);
    }
}
