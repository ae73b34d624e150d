//! The tokenizer for log text: lowercased runs of letters, digits and `_`, however long, and
//! each emoji or other non-ASCII symbol (`🔥`, `✓`, `©`) a token of its own.
//!
//! Tantivy's default tokenizer drops tokens of 40 bytes and more, which loses commit SHAs and
//! long identifiers; this one keeps them. Punctuation splits tokens, so a path or `error[E0425]`
//! is searched as a phrase of its parts, and `E0425`, `0x7ff` or `ModuleNotFoundError` as written.
//! Symbols are searchable because logs mark outcomes with them (`✓ built`, `❌ failed`); ASCII
//! punctuation, Unicode punctuation, box drawing, emoji modifiers and joiners still split.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the tokenizer is registered under in both indexes.
/// Register [`LogTokenizer`] under this name to parse queries as the index does.
pub const LOG_TOKENIZER: &str = "logidx";

/// Tantivy refuses longer terms; longer runs are split into tokens of at most this many bytes.
const MAX_TOKEN_BYTES: usize = 65_000;

/// Splits log text into lowercased words of letters, digits and `_`, and symbols.
#[derive(Clone, Default)]
pub struct LogTokenizer {
    token: Token,
}

/// The tokens of one text.
pub struct LogTokenStream<'a> {
    text: &'a str,
    offset: usize,
    token: &'a mut Token,
}

impl Tokenizer for LogTokenizer {
    type TokenStream<'a> = LogTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> LogTokenStream<'a> {
        self.token.reset();
        LogTokenStream {
            text,
            offset: 0,
            token: &mut self.token,
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A non-ASCII symbol, a token by itself: not a letter or digit, space, control, combining
/// mark, punctuation, box drawing, braille (spinners), variation selector, emoji modifier or
/// the replacement character (invalid UTF-8).
fn is_symbol(c: char) -> bool {
    !c.is_ascii()
        && !c.is_alphanumeric()
        && !c.is_whitespace()
        && !c.is_control()
        && !matches!(c,
            '\u{a1}' | '\u{a7}' | '\u{ab}' | '\u{ad}' | '\u{b6}' | '\u{b7}' | '\u{bb}' | '\u{bf}'
            | '\u{300}'..='\u{36f}'
            | '\u{2000}'..='\u{206f}'
            | '\u{2500}'..='\u{259f}'
            | '\u{2800}'..='\u{28ff}'
            | '\u{3000}'..='\u{303f}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{fe30}'..='\u{fe4f}'
            | '\u{fff9}'..='\u{fffd}'
            | '\u{1f3fb}'..='\u{1f3ff}'
            | '\u{e0000}'..='\u{e007f}')
}

fn starts_token(c: char) -> bool {
    is_word_char(c) || is_symbol(c)
}

impl TokenStream for LogTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let rest = &self.text[self.offset..];
        let Some(start) = rest.find(starts_token) else {
            self.offset = self.text.len();
            return false;
        };
        let word = &rest[start..];
        let first = word.chars().next().expect("a token starts here");
        let mut len = if is_word_char(first) {
            word.find(|c| !is_word_char(c)).unwrap_or(word.len())
        } else {
            first.len_utf8()
        };
        if len > MAX_TOKEN_BYTES {
            len = MAX_TOKEN_BYTES;
            while !word.is_char_boundary(len) {
                len -= 1;
            }
        }
        let from = self.offset + start;
        self.offset = from + len;
        self.token.text.clear();
        if word[..len].is_ascii() {
            self.token.text.push_str(&word[..len]);
            self.token.text.make_ascii_lowercase();
        } else {
            self.token
                .text
                .extend(word[..len].chars().flat_map(char::to_lowercase));
        }
        self.token.offset_from = from;
        self.token.offset_to = self.offset;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The tokens of `text` as the index sees them.
pub fn tokenize(text: &str) -> Vec<String> {
    token_spans(text)
        .into_iter()
        .map(|(_, token)| token)
        .collect()
}

/// The tokens of `text` with the byte range each was read from (to highlight matches).
pub fn token_spans(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut tokenizer = LogTokenizer::default();
    let mut stream = tokenizer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push((token.offset_from..token.offset_to, token.text.clone()));
    }
    tokens
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn tokenizes_log_lines() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("  ...  ", &[]),
            (
                "error[E0425]: cannot find value",
                &["error", "e0425", "cannot", "find", "value"],
            ),
            (
                "ModuleNotFoundError: No module named 'x'",
                &["modulenotfounderror", "no", "module", "named", "x"],
            ),
            ("segfault at 0x7FF", &["segfault", "at", "0x7ff"]),
            (
                "HEAD is now at 0123456789ABCDEF0123456789abcdef01234567",
                &["head", "is", "now", "at", sha],
            ),
            (
                "/home/runner/work/my_crate/src/lib.rs:10:5",
                &[
                    "home", "runner", "work", "my_crate", "src", "lib", "rs", "10", "5",
                ],
            ),
            (
                "##[error]Process completed with exit code 101.",
                &[
                    "error",
                    "process",
                    "completed",
                    "with",
                    "exit",
                    "code",
                    "101",
                ],
            ),
            (
                "thread 'main' panicked at src/main.rs",
                &["thread", "main", "panicked", "at", "src", "main", "rs"],
            ),
            ("ÉCHEC Straße", &["échec", "straße"]),
            ("🔥 deploy✅done", &["🔥", "deploy", "✅", "done"]),
            ("🔥🔥 ✓ built", &["🔥", "🔥", "✓", "built"]),
            // Emoji modifiers, joiners and punctuation split, as spaces do.
            (
                "❤\u{fe0f} a\u{200d}b — “c” … ─── d",
                &["❤", "a", "b", "c", "d"],
            ),
            ("© 2024 · ±1 °C", &["©", "2024", "±", "1", "°", "c"]),
        ];
        for (text, expected) in cases {
            assert_eq!(tokenize(text), *expected, "tokens of {text:?}");
        }
    }

    #[test]
    fn splits_runs_tantivy_would_refuse() {
        let tokens = tokenize(&"a".repeat(MAX_TOKEN_BYTES + 10));
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[0].len(), MAX_TOKEN_BYTES);
        assert_eq!(tokens[1].len(), 10);
    }

    #[test]
    fn positions_and_offsets_follow_the_text() {
        let mut tokenizer = LogTokenizer::default();
        let mut stream = tokenizer.token_stream("a-Bc  d");
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            seen.push((t.position, t.offset_from, t.offset_to));
        }
        assert_eq!(seen, [(0, 0, 1), (1, 2, 4), (2, 6, 7)]);
    }

    proptest! {
        #[test]
        fn tokens_are_lowercased_words_of_the_text(text in "[a-zA-Z0-9_ .:/\\[\\]()=,éÉß✓🔥—\u{fe0f}-]{0,80}") {
            let lower = text.to_lowercase();
            for token in tokenize(&text) {
                prop_assert!(!token.is_empty());
                prop_assert!(token.chars().all(is_word_char) || token.chars().all(is_symbol), "{token:?}");
                prop_assert!(lower.contains(&token), "{token:?} not in {lower:?}");
            }
        }

        #[test]
        fn words_joined_by_punctuation_come_back(words in proptest::collection::vec("[a-zA-Z0-9_]{1,60}", 0..8), sep in "[ ./:\\[\\]()=,-]{1,3}") {
            let text = words.join(&sep);
            let expected: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
            prop_assert_eq!(tokenize(&text), expected);
        }
    }
}
