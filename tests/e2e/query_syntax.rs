//! The query language as users type it: boolean operators and their precedence against a
//! brute-force filter of every line, notes for what a query is read as, pasted identifiers,
//! a query in several arguments or starting with `-`, pasted commit shas.

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

/// How many hits `search` prints (places outside steps may repeat: a preamble's and
/// `system.txt`'s lines are both step 0).
fn number_of_hits(env: &Env, args: &[&str]) -> u64 {
    let output = search(env, &["--json", "-n", "100000"], args);
    json_lines(&output).len() as u64
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

#[test]
fn a_pasted_sha_finds_its_commits_runs_and_the_texts_that_hold_it() {
    let env = Env::start(30, |_| ());
    env.sync();
    let repo = env.hub.repo("acme/widgets").unwrap();
    let shas: Vec<&str> = repo.runs.iter().map(|r| r.head_sha.as_str()).collect();
    let sha = shas
        .iter()
        .find(|s| s[..7].bytes().any(|b| b.is_ascii_alphabetic()))
        .expect("a sha with a letter in its first 7 digits");
    let short = sha[..7].to_owned();
    let of_commit = |run: &fakehub::Run| run.head_sha.starts_with(&short);

    // Every line of the commit's runs (the logs hold whole shas, not this prefix): those of
    // its steps as fakehub wrote them, and the lines outside steps that `sha:` finds too.
    let expected =
        env.places_in_runs_where(|run, line| of_commit(run) || Words::of(line).has(&short));
    assert!(!expected.is_empty());
    let by_filter = places_of_hits(&env, &[&format!("sha:{short}")]);
    let in_steps = |places: BTreeSet<Place>| -> BTreeSet<Place> {
        places.into_iter().filter(|p| p.step_number > 0).collect()
    };
    assert_eq!(in_steps(by_filter.clone()), expected);
    let upper = short.to_ascii_uppercase();
    for word in [&short, &upper] {
        assert_eq!(places_of_hits(&env, &[word]), by_filter, "{word}");
        assert_eq!(
            count(&env, &[word]),
            number_of_hits(&env, &[word]),
            "{word}"
        );
    }
    let output = env.run(&["search", "--count", &short]);
    assert_eq!(
        text(&output.stderr),
        format!(
            "note: `{short}` also matches every line of the runs of commits starting with it; \
             write \"{short}\" to search only the text\n"
        )
    );
    // With other words, the sha stands for its runs or the word.
    let with_git = env.places_in_runs_where(|run, line| {
        let words = Words::of(line);
        words.has("git") && (of_commit(run) || words.has(&short))
    });
    let query = format!("{short} git");
    let hits = places_of_hits(&env, &[&query]);
    assert!(!with_git.is_empty() && with_git.len() < expected.len());
    assert_eq!(
        count(&env, &[&query]),
        number_of_hits(&env, &[&query]),
        "{query}"
    );
    assert_eq!(in_steps(hits), with_git, "{query}");
    // Quoted, it is only text: the whole sha is in the checkout's lines alone.
    let quoted = env.places_where(|line| Words::of(line).has(sha));
    assert!(!quoted.is_empty() && quoted.len() < expected.len());
    assert_eq!(places_of_hits(&env, &[&format!("\"{sha}\"")]), quoted);
    let whole = places_of_hits(&env, &[&format!("sha:{sha}")]);
    assert_eq!(places_of_hits(&env, &[sha]), whole, "{sha}");

    // A sha-like word that only occurs in text (a build's hash) still finds that text.
    let found = std::cell::RefCell::new(None);
    env.places_where(|line| {
        if found.borrow().is_none() {
            let words = Words::of(line);
            *found.borrow_mut() = words
                .0
                .iter()
                .find(|w| {
                    (7..=40).contains(&w.len())
                        && w.bytes().all(|b| b.is_ascii_hexdigit())
                        && w.bytes().any(|b| b.is_ascii_alphabetic())
                        && !shas.iter().any(|s| s.starts_with(w.as_str()))
                })
                .cloned();
        }
        false
    });
    let word = found.into_inner().expect("fakehub's logs hold hashes");
    let expected = env.places_where(|line| Words::of(line).has(&word));
    assert!(!expected.is_empty());
    let hits = places_of_hits(&env, &[&word]);
    assert_eq!(
        count(&env, &[&word]),
        number_of_hits(&env, &[&word]),
        "{word}"
    );
    assert_eq!(in_steps(hits), expected, "{word}");
}
