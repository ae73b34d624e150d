//! The query language on arbitrary strings: `Query::parse` and `Query::text`, the tantivy
//! query each text becomes, and a search and a count with it over a small index, so that the
//! recursive stages after the parser (notes, negations, commits, filters, time windows) run on
//! whatever the parser accepts. Any answer but a panic, a hang or unbounded memory is fine.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logidx_index::{GroupBy, Index, Line, Query, RunAttempt, Step, StepMeta};
use tantivy::schema::{Schema, TEXT};

/// An index of two attempts, opened once: its directory lives as long as the process.
fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let index = Index::open(dir.path()).expect("a new index");
            let mut writer = index.writer().expect("the writer");
            let texts = [
                "##[group]Run cargo test",
                "error[E0308]: mismatched types",
                "thread 'main' panicked at src/lib.rs:10:5",
                "##[error]Process completed with exit code 101.",
                "warning: unused variable: `x`",
                "test result: FAILED. 3 passed; 1 failed",
                "HEAD is now at 44875c6 Merge pull request #12",
            ];
            for run_id in 1..=2u64 {
                let attempt = RunAttempt {
                    repo: "acme/widgets".to_owned(),
                    run_id,
                    run_attempt: 1,
                    run_number: run_id,
                    workflow_name: "CI".to_owned(),
                    workflow_path: ".github/workflows/ci.yml".to_owned(),
                    event: "push".to_owned(),
                    head_branch: "main".to_owned(),
                    head_sha: format!("44875c6{run_id}").repeat(5),
                    actor: "octocat".to_owned(),
                    run_created_at: jiff::Timestamp::from_second(1_706_659_200).expect("a time"),
                };
                let step = Step {
                    meta: StepMeta {
                        job_id: 10 + run_id,
                        job_name: "test (ubuntu)".to_owned(),
                        job_conclusion: "failure".to_owned(),
                        step_number: 3,
                        step_name: "Run tests".to_owned(),
                        step_conclusion: "failure".to_owned(),
                    },
                    lines: texts
                        .iter()
                        .enumerate()
                        .map(|(i, text)| Line {
                            timestamp: attempt.run_created_at
                                + jiff::SignedDuration::from_secs(i as i64),
                            text: (*text).to_owned(),
                        })
                        .collect(),
                };
                writer.add_attempt(&attempt, &[step]).expect("indexed");
            }
            writer.commit().expect("committed");
            drop(writer);
            (dir, index)
        })
        .1
}

fn field() -> tantivy::schema::Field {
    static SCHEMA: OnceLock<(Schema, tantivy::schema::Field)> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut schema = Schema::builder();
            let text = schema.add_text_field("text", TEXT);
            (schema.build(), text)
        })
        .1
}

fuzz_target!(|input: &[u8]| {
    let Ok(input) = std::str::from_utf8(input) else {
        return;
    };
    if let Ok(query) = Query::text(input) {
        let _ = query.text_query_over(field());
    }
    let Ok(query) = Query::parse(input) else {
        return;
    };
    let _ = (
        query.text_part(),
        query.positive_tokens(),
        query.time_range(),
    );
    let _ = query.text_query_over(field());
    let query = query.limit(5).context(1, 1);
    let _ = index().search(&query);
    let _ = index().count(&query, GroupBy::Step);
});
