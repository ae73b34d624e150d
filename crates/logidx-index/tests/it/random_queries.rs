//! Random query strings, from a soup of the language's own tokens (operators, quotes,
//! parentheses, every field with good and bad values, commit-like words) and of any
//! characters, parsed and then searched and counted over a small index: an answer or an
//! error, never a panic. The fuzz target `fuzz/fuzz_targets/query.rs` runs the same longer.

use std::sync::OnceLock;

use jiff::Timestamp;
use logidx_index::{GroupBy, Index, Line, Query, Step};
use logidx_test_support::{attempt, step_meta};
use proptest::prelude::*;

const FIELDS: &[&str] = &[
    "repo",
    "run",
    "attempt",
    "job",
    "step",
    "branch",
    "workflow",
    "event",
    "sha",
    "level",
    "conclusion",
    "date",
    "after",
    "before",
    "nosuch",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&[
            "AND", "OR", "NOT", "and", "or", "(", ")", "\"", "-", "!", "&&", "||", " ", " ", "*",
            "::", "\\", "##[error]",
        ][..])
        .prop_map(str::to_owned),
        "[a-z]{1,6}",
        "[0-9a-f]{7,12}",
        (
            prop::sample::select(FIELDS),
            "[a-z0-9*.:()\" -]{0,10}|[0-9]{1,4}-[0-9]{2}-[0-9]{2}(\\.\\.[0-9]{4}-[0-9]{2}-[0-9]{2})?|[0-9]{1,3}(min|h|d|w|mo|m)",
        )
            .prop_map(|(field, value)| format!("{field}:{value}")),
        // Anything, controls and other scripts included.
        ".{1,4}",
    ]
}

fn query_text() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..16).prop_map(|tokens| tokens.join(""))
}

/// Two attempts of a few lines, written once.
fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let index = Index::open(dir.path()).unwrap();
            let mut writer = index.writer().unwrap();
            for run_id in 1..=2 {
                let lines = [
                    "##[group]Run cargo test",
                    "error[E0308]: mismatched types",
                    "thread 'main' panicked at src/lib.rs:10:5",
                    "##[error]Process completed with exit code 101.",
                    "HEAD is now at 44875c6 Merge pull request #12",
                ]
                .iter()
                .enumerate()
                .map(|(i, text)| Line {
                    timestamp: Timestamp::from_second(1_706_659_200 + i as i64).unwrap(),
                    text: (*text).to_owned(),
                })
                .collect();
                let step = Step {
                    meta: step_meta(10 + run_id, 3),
                    lines,
                };
                writer
                    .add_attempt(&attempt("acme/widgets", run_id, 1), &[step])
                    .unwrap();
            }
            writer.commit().unwrap();
            drop(writer);
            (dir, index)
        })
        .1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_query_parses_and_runs_or_is_an_error(input in query_text()) {
        let _ = Query::text(&input);
        if let Ok(query) = Query::parse(&input) {
            let query = query.limit(5).context(1, 1);
            let _ = index().search(&query);
            let _ = index().count(&query, GroupBy::Step);
        }
    }
}
