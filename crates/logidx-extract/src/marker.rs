//! The runner's markers (`##[error]`, `##[group]`, `[command]`…) that start a line's text.
//!
//! Not the index's `Level`: a marker also tells groups, sections and commands apart, which
//! step attribution reads; the index folds those into one level.

use serde::{Deserialize, Serialize};

/// The marker a cleaned line starts with. The text keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Marker {
    /// `##[error]`.
    Error,
    /// `##[warning]`.
    Warning,
    /// `##[notice]`.
    Notice,
    /// `##[debug]`.
    Debug,
    /// `##[command]` (the runner) or `[command]` (@actions/exec).
    Command,
    /// `##[section]`.
    Section,
    /// `##[group]` or `##[endgroup]`.
    Group,
}

impl Marker {
    /// The marker a cleaned line starts with, if any.
    #[inline]
    pub fn of(text: &str) -> Option<Marker> {
        // Most lines start with neither `#` nor `[`: one comparison, inlined, settles them.
        if matches!(text.as_bytes().first(), Some(b'#' | b'[')) {
            Marker::of_marked(text)
        } else {
            None
        }
    }

    /// [`Marker::of`] for a line that starts with `#` or `[`.
    fn of_marked(text: &str) -> Option<Marker> {
        if let Some(rest) = text.strip_prefix("##[") {
            let name = rest.split(['[', ']', ' ']).next().unwrap_or("");
            match name {
                "error" => Some(Marker::Error),
                "warning" => Some(Marker::Warning),
                "notice" => Some(Marker::Notice),
                "debug" => Some(Marker::Debug),
                "command" => Some(Marker::Command),
                "section" => Some(Marker::Section),
                "group" | "endgroup" => Some(Marker::Group),
                _ => None,
            }
        } else if text.starts_with("[command]") {
            Some(Marker::Command)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_from_the_start() {
        let cases = [
            (
                "##[error]Process completed with exit code 1.",
                Some(Marker::Error),
            ),
            ("##[warning]deprecated", Some(Marker::Warning)),
            ("##[notice]note", Some(Marker::Notice)),
            ("##[debug]x", Some(Marker::Debug)),
            ("##[command]git", Some(Marker::Command)),
            ("[command]/usr/bin/git version", Some(Marker::Command)),
            ("##[section]Starting: Prepare job", Some(Marker::Section)),
            ("##[group]Run cargo test", Some(Marker::Group)),
            ("##[endgroup]", Some(Marker::Group)),
            ("##[unknown]x", None),
            ("error: not a marker", None),
            (" ##[error]indented", None),
        ];
        for (text, marker) in cases {
            assert_eq!(Marker::of(text), marker, "{text}");
        }
    }
}
