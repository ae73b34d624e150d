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

#[test]
fn sync_and_search_from_code() {
    let env = Env::start(8, |_| ());
    let index = Index::open(env.index()).unwrap();
    let client = Client::builder()
        .api_url(env.hub.api_url())
        .token(Token::new(env.hub.token()));
    let options = SyncOptions::new(vec![RepoName::parse("acme/widgets").unwrap()], client);
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
fn a_cancelled_sync_commits_what_it_indexed() {
    let env = Env::start(8, |_| ());
    let index = Index::open(env.index()).unwrap();
    let client = Client::builder()
        .api_url(env.hub.api_url())
        .token(Token::new(env.hub.token()));
    let options = SyncOptions::new(vec![RepoName::parse("acme/widgets").unwrap()], client);
    options.cancel.cancel();
    let summary = logidx::sync(&index, &options, Arc::new(logidx::NoSyncReporter)).unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.attempts_indexed, 0);
    assert_eq!(env.hub.stats().count("blob"), 0);
}
