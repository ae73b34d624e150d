//! The library facade: `logidx::sync` and `Index::search` from code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use logidx::{
    AttemptDone, Client, Index, Outcome, Query, RepoName, Reporter, SyncOptions, SyncReporter,
    Token,
};

use crate::env::Env;

#[derive(Default)]
struct Counting {
    indexed: AtomicU64,
    runs_listed: AtomicU64,
}

impl Reporter for Counting {
    fn on_runs_listed(&self, runs: usize) {
        self.runs_listed.fetch_add(runs as u64, Ordering::Relaxed);
    }
}

impl SyncReporter for Counting {
    fn on_attempt_done(&self, done: &AttemptDone) {
        if matches!(done.outcome, Outcome::Indexed { .. }) {
            self.indexed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Syncing fakehub's `acme/widgets`, as a library user would set it up.
fn options_for(env: &Env) -> SyncOptions {
    let client = Client::builder()
        .api_url(env.hub.api_url())
        .token(Token::new(env.hub.token()));
    SyncOptions::new(vec![RepoName::parse("acme/widgets").unwrap()], client)
}

#[test]
fn sync_and_search_from_code() {
    let env = Env::start(8, |_| ());
    let index = Index::open(env.index()).unwrap();
    let options = options_for(&env);
    let reporter = Arc::new(Counting::default());
    let summary = logidx::sync(&index, &options, reporter.clone()).unwrap();
    assert_eq!(
        reporter.indexed.load(Ordering::Relaxed),
        summary.attempts_indexed
    );
    assert_eq!(reporter.runs_listed.load(Ordering::Relaxed), summary.runs);
    assert!(!summary.has_failures());

    index.reload().unwrap();
    let hits = index
        .search(
            &Query::parse("\"Process completed\" level:error")
                .unwrap()
                .limit(3),
        )
        .unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.run.repo == "acme/widgets"));
}

#[test]
fn a_sync_cancelled_before_it_starts_downloads_nothing() {
    let env = Env::start(8, |_| ());
    let index = Index::open(env.index()).unwrap();
    let options = options_for(&env);
    options.cancel.cancel();
    let summary = logidx::sync(&index, &options, Arc::new(logidx::NoSyncReporter)).unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.attempts_indexed, 0);
    assert_eq!(env.hub.stats().count("blob"), 0);
}

/// Cancels the sync once `after` attempts are done, as a Ctrl-C would.
struct CancelAfter {
    cancel: logidx::Cancel,
    after: u64,
    done: AtomicU64,
}

impl Reporter for CancelAfter {}

impl SyncReporter for CancelAfter {
    fn on_attempt_done(&self, _done: &AttemptDone) {
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
            self.cancel.cancel();
        }
    }
}

#[test]
fn a_sync_cancelled_midway_commits_what_it_indexed_and_the_next_resumes() {
    let env = Env::start(60, |_| ());
    let index = Index::open(env.index()).unwrap();
    let options = options_for(&env);
    let reporter = Arc::new(CancelAfter {
        cancel: options.cancel.clone(),
        after: 3,
        done: AtomicU64::new(0),
    });
    let summary = logidx::sync(&index, &options, reporter).unwrap();
    assert!(summary.cancelled);
    index.reload().unwrap();
    let committed = index.attempts(None).unwrap().len() as u64;
    assert!(committed >= 3, "{summary:?}");
    assert_eq!(committed, summary.attempts_indexed);

    let rest = logidx::sync(&index, &options_for(&env), Arc::new(logidx::NoSyncReporter)).unwrap();
    assert!(!rest.cancelled && rest.attempts_indexed > 0);
    assert_eq!(rest.attempts_skipped, committed);
}
