//! Progress, told to whoever draws it: the library never prints.

use std::time::Duration;

use jiff::Timestamp;

/// Hears what the client is doing. Every method has a no-op default.
pub trait Reporter: Send + Sync {
    /// A page of runs was listed.
    fn on_runs_listed(&self, _runs: usize) {}

    /// The primary rate limit is nearly spent: requests pause until `resume_at`.
    fn on_rate_limited(&self, _resume_at: Timestamp) {}

    /// An API answer came: what the client has spent of its rate-limit budget and what is
    /// left ([`crate::BudgetStatus`]).
    fn on_budget(&self, _budget: &crate::BudgetStatus) {}

    /// A request failed and will be tried again after `wait`.
    fn on_retry(&self, _what: &str, _try_number: u32, _reason: &str, _wait: Duration) {}

    /// An archive download started; `total` is its `Content-Length` when known.
    fn on_download_start(&self, _run_id: u64, _attempt: u32, _total: Option<u64>) {}

    /// More bytes of an archive arrived.
    fn on_download_progress(&self, _run_id: u64, _attempt: u32, _bytes: u64) {}
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {}
