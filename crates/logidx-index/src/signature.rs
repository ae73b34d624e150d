//! Error signatures: which lines are errors, and what stays of them once their variable parts
//! (numbers, hex, UUIDs, addresses, durations, temp paths, timestamps) are masked, so that the
//! same failure in two runs has one signature and two different failures have two.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use xxhash_rust::xxh3::xxh3_64;

/// How a rule recognises an error line, after leading whitespace.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// The line starts with this.
    Prefix(&'static str),
    /// The line contains this.
    Contains(&'static str),
    /// The line starts with a word ending in this, then `:` (`ValueError: …`, `IOException: …`).
    NamedError(&'static str),
}

/// One failure shape of one ecosystem. Add rows here to recognise more.
#[derive(Debug, Clone, Copy)]
struct Rule {
    /// Where it comes from, for the reader of this table.
    #[allow(dead_code, reason = "documents the table")]
    source: &'static str,
    shape: Shape,
}

const fn rule(source: &'static str, shape: Shape) -> Rule {
    Rule { source, shape }
}

/// The failure shapes of the ecosystems in our corpus. `##[error]` lines are errors too (their
/// level); the runner's closing `Process completed with exit code N.` is one of them.
const RULES: &[Rule] = &[
    rule("runner", Shape::Prefix("##[error]")),
    rule("rust panic", Shape::Contains("' panicked at ")),
    rule("rustc", Shape::Prefix("error[E")),
    rule("rustc, cargo", Shape::Prefix("error: ")),
    rule("pytest summary", Shape::Prefix("FAILED ")),
    rule("pytest assertion", Shape::Prefix("E   ")),
    rule("python traceback", Shape::NamedError("Error")),
    rule("python, java", Shape::NamedError("Exception")),
    rule("npm", Shape::Prefix("npm ERR!")),
    rule("go test", Shape::Prefix("--- FAIL:")),
    rule("go test, jest", Shape::Prefix("FAIL ")),
    rule("go test", Shape::Prefix("FAIL\t")),
    rule("go race detector", Shape::Prefix("WARNING: DATA RACE")),
    rule("go", Shape::Prefix("panic: ")),
    rule("generic", Shape::Prefix("Error: ")),
    rule("jest, mocha", Shape::Contains(" Error: ")),
    rule("generic", Shape::Prefix("ERROR: ")),
    rule("timeouts", Shape::Contains("timed out")),
    rule("timeouts", Shape::Contains("Timeout exceeded")),
];

/// A searcher per [`Shape::Contains`] rule, by rule: `str::contains` builds one at every call,
/// and that was half the cost of adding a new text to the index.
static FINDERS: LazyLock<Vec<Option<Finder<'static>>>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| match rule.shape {
            Shape::Contains(part) => Some(Finder::new(part)),
            _ => None,
        })
        .collect()
});

/// Whether `text` (a normalised line: no timestamp, no ANSI codes) is an error line.
pub fn is_error_line(text: &str) -> bool {
    let line = text.trim_start();
    // The word before the first `:`, past any dots (`java.io.IOException`).
    let name = line.split_once(':').and_then(|(name, _)| {
        let name = name.rsplit('.').next().unwrap_or(name);
        name.chars()
            .all(|c| c.is_alphanumeric() || c == '_')
            .then_some(name)
    });
    RULES
        .iter()
        .zip(FINDERS.iter())
        .any(|(rule, finder)| match rule.shape {
            Shape::Prefix(prefix) => line.starts_with(prefix),
            Shape::Contains(_) => finder
                .as_ref()
                .is_some_and(|finder| finder.find(line.as_bytes()).is_some()),
            Shape::NamedError(suffix) => {
                name.is_some_and(|name| name.ends_with(suffix) && name.len() > suffix.len())
            }
        })
}

/// The signature of an error line: a hash of its masked text; `None` for other lines. Never 0.
pub fn signature(text: &str) -> Option<u64> {
    is_error_line(text).then(|| xxh3_64(mask(text).as_bytes()).max(1))
}

/// `text` with its variable parts replaced by `<n>`, `<hex>`, `<uuid>`, `<ip>`, `<dur>`,
/// `<tmp>` and `<time>`. Digits inside identifiers (`case_429`, `E0425`, `utf8`) are kept: they
/// name things.
pub fn mask(text: &str) -> String {
    let text = text.trim();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let word_before = i > 0 && is_word(bytes[i - 1]);
        let found = if word_before {
            None
        } else {
            temp_path(bytes, i)
                .map(|end| (end, "<tmp>"))
                .or_else(|| timestamp(bytes, i).map(|end| (end, "<time>")))
                .or_else(|| uuid(bytes, i).map(|end| (end, "<uuid>")))
                .or_else(|| ipv4(bytes, i).map(|end| (end, "<ip>")))
                .or_else(|| hex(bytes, i).map(|end| (end, "<hex>")))
                .or_else(|| duration(bytes, i).map(|end| (end, "<dur>")))
                .or_else(|| number(bytes, i).map(|end| (end, "<n>")))
        };
        match found {
            Some((end, mark)) => {
                out.push_str(mark);
                i = end;
            }
            None => {
                // Copy one character (not one byte) and any word characters glued to it.
                let start = i;
                i += 1;
                while i < bytes.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                if is_word(bytes[start]) {
                    while i < bytes.len() && is_word(bytes[i]) {
                        i += 1;
                    }
                }
                out.push_str(&text[start..i]);
            }
        }
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of a run of `pred` bytes from `at`.
fn run(bytes: &[u8], at: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut end = at;
    while end < bytes.len() && pred(bytes[end]) {
        end += 1;
    }
    end
}

/// Whether the token ending at `end` is not glued to a following word character.
fn ends_word(bytes: &[u8], end: usize) -> bool {
    end >= bytes.len() || !is_word(bytes[end])
}

fn number(bytes: &[u8], at: usize) -> Option<usize> {
    let mut end = run(bytes, at, |b| b.is_ascii_digit());
    if end == at {
        return None;
    }
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = run(bytes, end + 1, |b| b.is_ascii_digit());
    }
    ends_word(bytes, end).then_some(end)
}

fn duration(bytes: &[u8], at: usize) -> Option<usize> {
    let digits = run(bytes, at, |b| b.is_ascii_digit() || b == b'.');
    if digits == at || !bytes[at].is_ascii_digit() {
        return None;
    }
    let rest = &bytes[digits..];
    [
        "ms", "µs", "us", "ns", "s", "m", "h", "sec", "secs", "seconds",
    ]
    .iter()
    .filter(|unit| rest.starts_with(unit.as_bytes()))
    .map(|unit| digits + unit.len())
    .filter(|&end| ends_word(bytes, end))
    .max()
}

fn hex(bytes: &[u8], at: usize) -> Option<usize> {
    let start = if bytes[at..].starts_with(b"0x") {
        at + 2
    } else {
        at
    };
    let end = run(bytes, start, |b| b.is_ascii_hexdigit());
    let digits = &bytes[start..end];
    let long_enough = if start > at {
        !digits.is_empty()
    } else {
        digits.len() >= 7
    };
    let mixed = start > at || digits.iter().any(u8::is_ascii_digit);
    (long_enough && mixed && ends_word(bytes, end)).then_some(end)
}

fn uuid(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    for (n, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if n > 0 {
            if bytes.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        let end = run(bytes, i, |b| b.is_ascii_hexdigit());
        if end - i != len {
            return None;
        }
        i = end;
    }
    ends_word(bytes, i).then_some(i)
}

fn ipv4(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    for n in 0..4 {
        if n > 0 {
            if bytes.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let end = run(bytes, i, |b| b.is_ascii_digit());
        if end == i || end - i > 3 {
            return None;
        }
        i = end;
    }
    if bytes.get(i) == Some(&b':') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i = run(bytes, i + 1, |b| b.is_ascii_digit());
    }
    ends_word(bytes, i).then_some(i)
}

/// `2024-01-28T19:27:26.0547628Z` or `2024-01-28 19:27:26`, with an optional fraction and zone.
fn timestamp(bytes: &[u8], at: usize) -> Option<usize> {
    let shape = b"0000-00-00?00:00:00";
    if bytes.len() < at + shape.len() {
        return None;
    }
    for (b, want) in bytes[at..].iter().zip(shape) {
        let ok = match want {
            b'0' => b.is_ascii_digit(),
            b'?' => *b == b'T' || *b == b' ',
            other => b == other,
        };
        if !ok {
            return None;
        }
    }
    let mut end = at + shape.len();
    if bytes.get(end) == Some(&b'.') {
        end = run(bytes, end + 1, |b| b.is_ascii_digit());
    }
    if bytes.get(end) == Some(&b'Z') {
        end += 1;
    }
    Some(end)
}

/// Temporary directories up to the end of the path: `/tmp/…`, `/var/folders/…`,
/// `C:\Users\…\Temp\…`, `/home/runner/work/_temp/…`.
fn temp_path(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = &bytes[at..];
    let prefixes: [&[u8]; 4] = [
        b"/tmp/",
        b"/var/folders/",
        b"/home/runner/work/_temp/",
        b"C:\\Users\\",
    ];
    let prefix = prefixes.iter().find(|p| rest.starts_with(p))?;
    if prefix.starts_with(b"C:") && !rest.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\Temp\\")) {
        return None;
    }
    Some(run(bytes, at, |b| {
        !b.is_ascii_whitespace() && !b"'\"`),:;".contains(&b)
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn masking_never_panics(text in "\\PC{0,80}", digits in "[0-9a-f.:/-]{0,40}") {
            mask(&text);
            mask(&format!("{text}{digits}"));
            signature(&format!("error: {digits}{text}"));
        }
    }

    #[test]
    fn error_lines_are_recognised_by_the_table() {
        for line in [
            "##[error]Process completed with exit code 101.",
            "thread 'parser::tests::roundtrip' panicked at src/parser.rs:221:10:",
            "error[E0425]: cannot find value `x` in this scope",
            "error: could not compile `widgets` (lib) due to 1 previous error",
            "FAILED tests/test_api.py::test_get - AssertionError",
            "E   AssertionError: assert 1 == 2",
            "ModuleNotFoundError: No module named 'yaml'",
            "  java.lang.IllegalStateException: boom",
            "npm ERR! code ELIFECYCLE",
            "--- FAIL: TestServe (0.12s)",
            " FAIL  src/format/render.test.ts",
            "FAIL\tgithub.com/acme/widgets/parser\t0.12s",
            "  ● client › retries › Error: read ECONNRESET 127.0.0.1:41000",
            "panic: runtime error: index out of range [3] with length 3",
            "Error: Process completed with exit code 1.",
            "ERROR: Job failed",
            "connect to 10.0.0.1:443 timed out",
        ] {
            assert!(is_error_line(line), "{line}");
        }
        for line in [
            "running 99 tests",
            "test parser::tests::case_429 ... ok",
            "Compiling widgets v0.1.0",
            "no errors: all good",
            "Error handling is covered",
            "FAILURES",
            "##[warning]deprecated",
        ] {
            assert!(!is_error_line(line), "{line}");
        }
    }

    #[test]
    fn variable_parts_are_masked_and_names_kept() {
        let cases = [
            (
                "thread 'parser::tests::roundtrip' panicked at src/parser.rs:221:10:",
                "thread 'parser::tests::roundtrip' panicked at src/parser.rs:<n>:<n>:",
            ),
            (
                "called `Result::unwrap()` on an `Err` value: Os { code: 110 } (127.0.0.1:41706)",
                "called `Result::unwrap()` on an `Err` value: Os { code: <n> } (<ip>)",
            ),
            (
                "error[E0425]: cannot find value `case_429` in utf8 at 0x7ffd5e8a",
                "error[E0425]: cannot find value `case_429` in utf8 at <hex>",
            ),
            (
                "FAILED /tmp/pytest-of-runner/pytest-3/test_x0/test_a.py::test - took 1.25s",
                "FAILED <tmp>::test - took <dur>",
            ),
            (
                "request 550e8400-e29b-41d4-a716-446655440000 at 2024-01-28T19:27:26.0547628Z for 4cd255cf785e2300ec335d5aedb1f69c4d301e93",
                "request <uuid> at <time> for <hex>",
            ),
        ];
        for (line, masked) in cases {
            assert_eq!(mask(line), masked, "{line}");
        }
    }

    #[test]
    fn the_same_panic_elsewhere_merges_and_another_panic_does_not() {
        let a = signature("thread 'a::b' panicked at src/x.rs:10:5:").unwrap();
        let moved = signature("thread 'a::b' panicked at src/x.rs:12:9:").unwrap();
        let other = signature("thread 'c::d' panicked at src/x.rs:10:5:").unwrap();
        assert_eq!(a, moved);
        assert_ne!(a, other);
        let tmp = |dir: &str| signature(&format!("Error: cannot open {dir}/cache.db: denied"));
        assert_eq!(tmp("/tmp/.tmpA1b2C3"), tmp("/tmp/.tmpZZ9Y8X"));
        assert_eq!(signature("running 1 test"), None);
    }

    #[test]
    fn masking_never_panics_on_odd_text() {
        for line in [
            "",
            "0x",
            "1.",
            "é1",
            "C:\\Users\\a",
            "2024-01-28T",
            "1.2.3.4:",
            "💥 error: 1",
        ] {
            mask(line);
            signature(line);
        }
    }
}
