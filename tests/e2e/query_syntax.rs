//! The query language as users type it: boolean operators and their precedence against a
//! brute-force filter of every line, notes for what a query is read as, pasted identifiers,
//! a query in several arguments or starting with `-`.

use std::collections::BTreeSet;
use std::process::Output;

use crate::env::{Env, Place, json_lines, place, text};

/// A line's words as the index sees them: its ANSI codes removed, then tokenized.
struct Words(Vec<String>);

impl Words {
    fn of(line: &str) -> Words {
        let mut clean = String::with_capacity(line.len());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                // CSI: ESC [ parameters, then a final letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                clean.push(c);
            }
        }
        Words(logidx::index::tokenize(&clean))
    }

    fn has(&self, word: &str) -> bool {
        self.0.iter().any(|w| w == word)
    }
}

/// `logidx search FIRST… ARGS…`, checked to have matched or found nothing.
fn search(env: &Env, first: &[&str], args: &[&str]) -> Output {
    let all: Vec<&str> = ["search"]
        .iter()
        .chain(first)
        .chain(args)
        .copied()
        .collect();
    let output = env.run(&all);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        text(&output.stderr)
    );
    output
}

fn places_of_hits(env: &Env, args: &[&str]) -> BTreeSet<Place> {
    let output = search(env, &["--json", "-n", "100000"], args);
    json_lines(&output).iter().map(place).collect()
}

fn count(env: &Env, args: &[&str]) -> u64 {
    let output = search(env, &["--count"], args);
    text(&output.stdout).trim().parse().unwrap()
}

type Holds = fn(&Words) -> bool;

#[test]
fn boolean_queries_equal_a_filter_of_every_line() {
    let env = Env::start(40, |_| ());
    env.sync();
    let not_roundtrip: Holds = |l| l.has("panicked") && !l.has("roundtrip");
    let either: Holds = |l| l.has("panicked") || l.has("roundtrip");
    let cases: &[(&str, Holds)] = &[
        ("panicked AND NOT roundtrip", not_roundtrip),
        ("panicked NOT roundtrip", not_roundtrip),
        ("panicked -roundtrip", not_roundtrip),
        ("!roundtrip panicked", not_roundtrip),
        ("panicked && !roundtrip", not_roundtrip),
        ("panicked || roundtrip", either),
        ("panicked OR roundtrip", either),
        ("roundtrip OR connect_with_retry panicked", |l| {
            l.has("roundtrip") || (l.has("connect_with_retry") && l.has("panicked"))
        }),
        ("(roundtrip OR connect_with_retry) panicked", |l| {
            (l.has("roundtrip") || l.has("connect_with_retry")) && l.has("panicked")
        }),
        ("panicked -(roundtrip OR parser)", |l| {
            l.has("panicked") && !l.has("roundtrip") && !l.has("parser")
        }),
    ];
    for (query, holds) in cases {
        let expected = env.places_where(|line| holds(&Words::of(line)));
        assert!(!expected.is_empty(), "{query}: the corpus has such lines");
        assert_eq!(places_of_hits(&env, &[query]), expected, "{query}");
    }

    // Negations on their own: every line but those, whatever else the index holds.
    let all = count(&env, &["NOT zzzz_no_such_word"]);
    let some = count(&env, &["panicked OR roundtrip"]);
    let panicked = count(&env, &["panicked"]);
    let roundtrip_only = count(&env, &["roundtrip NOT panicked"]);
    assert!(all > some && some > 0, "{all} {some}");
    assert_eq!(count(&env, &["NOT panicked AND NOT roundtrip"]), all - some);
    assert_eq!(count(&env, &["-panicked -roundtrip"]), all - some);
    assert_eq!(count(&env, &["NOT panicked"]), all - panicked);
    assert_eq!(
        count(&env, &["panicked OR NOT roundtrip"]),
        all - roundtrip_only
    );
}

#[test]
fn lowercase_operators_are_searched_as_words_with_a_note() {
    let env = Env::start(20, |_| ());
    env.sync();
    let output = env.run(&["search", "--count", "panicked or roundtrip"]);
    let expected = env
        .places_where(|line| {
            let words = Words::of(line);
            words.has("panicked") && words.has("or") && words.has("roundtrip")
        })
        .len();
    assert_eq!(text(&output.stdout).trim(), expected.to_string());
    assert_eq!(
        text(&output.stderr),
        "note: `or` is searched as a word; write OR for the operator, or \"or\" to silence \
         this note\n"
    );
    let quiet = env.run(&["search", "--count", "--quiet", "panicked or roundtrip"]);
    assert_eq!(text(&quiet.stderr), "");
    let quoted = env.run(&["search", "--count", "panicked \"or\" roundtrip"]);
    assert_eq!(text(&quoted.stderr), "");
    assert_eq!(quoted.stdout, output.stdout);
}

#[test]
fn pasted_identifiers_are_searched_as_text_and_typos_of_fields_are_errors() {
    let env = Env::start(30, |_| ());
    env.sync();
    for (pasted, needle) in [
        (
            "net::tests::connect_with_retry",
            "net::tests::connect_with_retry",
        ),
        ("Result::unwrap()", "Result::unwrap()"),
        (
            "https://github.com/actions/runner-images",
            "https://github.com/actions/runner-images",
        ),
    ] {
        let output = env.run(&["search", "--json", "-n", "100000", pasted]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let name = pasted.split(':').next().unwrap();
        assert_eq!(
            text(&output.stderr),
            format!("note: `{pasted}` is searched as text: `{name}` is not a field\n")
        );
        let hits: BTreeSet<Place> = json_lines(&output).iter().map(place).collect();
        let expected = env.places_of(needle);
        assert!(!expected.is_empty(), "{needle}");
        assert_eq!(hits, expected, "{pasted}");
    }

    let typo = env.run(&["search", "panicked", "brnach:main"]);
    assert_eq!(typo.status.code(), Some(2));
    let stderr = text(&typo.stderr);
    assert!(
        stderr.starts_with("error: unknown field `brnach` in query\nhint: did you mean `branch:`?"),
        "{stderr}"
    );
}

#[test]
fn a_query_may_span_arguments_and_start_with_a_dash() {
    let env = Env::start(20, |_| ());
    env.sync();
    let both = env.places_where(|line| {
        let words = Words::of(line);
        words.has("panicked") && words.has("at")
    });
    assert!(!both.is_empty());
    assert_eq!(places_of_hits(&env, &["panicked", "at"]), both);
    assert_eq!(places_of_hits(&env, &["panicked at"]), both);

    let expected = env.places_where(|line| {
        let words = Words::of(line);
        words.has("panicked") && !words.has("roundtrip")
    });
    assert!(expected.len() > 1, "{}", expected.len());
    for args in [
        &["-roundtrip", "panicked"][..],
        &["-roundtrip panicked"],
        &["--", "-roundtrip", "panicked"],
        &["panicked", "-roundtrip"],
    ] {
        assert_eq!(places_of_hits(&env, args), expected, "{args:?}");
    }

    // Flags after the query are still flags.
    let output = env.run(&["search", "-roundtrip", "panicked", "-n", "1", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(json_lines(&output).len(), 1);
    let output = env.run(&["search", "panicked", "--count", "-C", "1"]);
    assert_eq!(
        text(&output.stdout).trim(),
        count(&env, &["panicked"]).to_string()
    );
}

#[test]
fn symbols_are_searched_as_words() {
    let env = Env::start(10, |c| c.ecosystem = Some(fakehub::Ecosystem::Node));
    env.sync();
    let ticked = env.places_of("✓ built");
    assert!(
        !ticked.is_empty(),
        "fakehub's vite builds print `✓ built in …ms`"
    );
    assert_eq!(places_of_hits(&env, &["✓"]), env.places_of("✓"));
    assert_eq!(places_of_hits(&env, &["\"✓ built\""]), ticked);
    let unticked = env.places_where(|line| {
        let words = Words::of(line);
        words.has("built") && !line.contains('✓')
    });
    assert_eq!(places_of_hits(&env, &["built", "-✓"]), unticked);
}
