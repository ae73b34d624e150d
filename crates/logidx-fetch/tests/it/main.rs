//! logidx-fetch against a running fakehub on loopback.

mod download;
mod job_logs;
mod limits;
mod listing;
mod owners;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fakehub::{Config, FakeHub};
use futures_util::StreamExt;
use logidx_fetch::{Client, ClientBuilder, RepoName, Reporter, RetryPolicy, Run, RunFilter, Token};

pub(crate) async fn hub(config: Config) -> FakeHub {
    FakeHub::start(config).await.expect("fakehub starts")
}

/// A client for `hub` with quick retries, so fault tests finish fast.
pub(crate) fn builder(hub: &FakeHub) -> ClientBuilder {
    Client::builder()
        .api_url(hub.api_url())
        .token(Token::new(hub.token()))
        .retry(RetryPolicy {
            max_tries: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
            secondary_wait: Duration::from_millis(100),
        })
}

pub(crate) fn repo() -> RepoName {
    RepoName::parse("acme/widgets").unwrap()
}

pub(crate) async fn collect_runs(
    client: &Client,
    filter: &RunFilter,
) -> logidx_fetch::Result<Vec<Run>> {
    let stream = client.runs(&repo(), filter);
    let mut stream = std::pin::pin!(stream);
    let mut runs = Vec::new();
    while let Some(run) = stream.next().await {
        runs.push(run?);
    }
    Ok(runs)
}

/// Records what the client told its reporter.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) events: Mutex<Vec<String>>,
}

impl Reporter for Recorder {
    fn on_rate_limited(&self, resume_at: jiff::Timestamp) {
        self.events
            .lock()
            .unwrap()
            .push(format!("rate limited until {resume_at}"));
    }

    fn on_retry(&self, _what: &str, _try_number: u32, reason: &str, _wait: Duration) {
        self.events.lock().unwrap().push(format!("retry: {reason}"));
    }
}

impl Recorder {
    pub(crate) fn shared() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub(crate) fn any(&self, needle: &str) -> bool {
        self.events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.contains(needle))
    }
}

/// The token must never reach blob storage, whatever a test did.
pub(crate) fn assert_token_stayed_home(hub: &FakeHub) {
    assert_eq!(hub.stats().auth_header_violations, 0);
}
