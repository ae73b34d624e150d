//! logidx: full-text search over GitHub Actions logs, across every run, attempt, job and step.
//!
//! [`sync`] lists a repository's runs, downloads each attempt's log archive, extracts its
//! lines into their jobs and steps, and indexes them; [`Index::search`] then finds lines across
//! all of it, each hit with its run, attempt, job, step, line number and web link. This crate
//! wires the pipeline and re-exports what a library user needs; the parts are also available
//! whole as [`fetch`] (the GitHub client), [`extract`] (archive and line parsing) and
//! [`index`] (the deduplicating tantivy index).
//!
//! Searching an index that `logidx sync` filled (here a new, empty one):
//!
//! ```
//! use logidx::{Index, Order, Query};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let dir = dir.path().join("logidx");
//! let index = Index::open(&dir)?; // `logidx sync` puts it in ~/.local/share/logidx
//! # assert!(index.search(&Query::parse("anything")?)?.is_empty());
//! let query = Query::parse("\"panicked at\" branch:main")?
//!     .order(Order::NewestFirst)
//!     .limit(10)
//!     .context(2, 2);
//! for hit in index.search(&query)? {
//!     println!("{} run {} job {}: {}", hit.run.repo, hit.run.run_id, hit.step.job_name, hit.text);
//!     println!("  {}", hit.url);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Syncing from code (the token as `gh` users expect it: `GH_TOKEN`, `GITHUB_TOKEN`,
//! `gh auth token`):
//!
//! ```no_run
//! use std::sync::Arc;
//! use logidx::{Client, Index, NoSyncReporter, RepoName, SyncOptions, discover_token};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let index = Index::open("logs-index")?;
//! let client = Client::builder().token(discover_token(None)?);
//! let mut options = SyncOptions::new(vec![RepoName::parse("acme/widgets")?], client);
//! options.filter.since = Some(logidx::parse_time_bound("7d", jiff::Timestamp::now())?);
//! let summary = logidx::sync(&index, &options, Arc::new(NoSyncReporter))?;
//! println!("{} lines from {} attempts", summary.lines, summary.attempts_indexed);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod convert;
mod intel;
pub mod json;
mod sync;
mod time;

pub use convert::OUTSIDE_STEPS;
pub use intel::{FlakyJob, NewInFailure, NewLine, flaky_jobs, new_in_failures};
pub use sync::{
    AttemptDone, Cancel, NoSyncReporter, Outcome, SyncError, SyncFailure, SyncOptions,
    SyncReporter, SyncSummary, sync,
};
pub use time::{TimeBoundError, parse_time_bound};

pub use logidx_extract as extract;
pub use logidx_fetch as fetch;
pub use logidx_index as index;
pub use logidx_urls as urls;

pub use logidx_fetch::{
    Client, ClientBuilder, GITHUB_API, RepoName, Reporter, RunFilter, Token, discover_token,
};
pub use logidx_index::{
    AttemptRecord, AttemptState, ContextLine, Counts, DeleteStats, Deletion, ErrorGroup, Filter,
    GroupBy, Hit, Index, Level, Line, Order, Query, RunAttempt, SCHEMA_VERSION, Selection,
    ShownStep, Sighting, Step, StepMeta, WriterOptions, line_url,
};
pub use logidx_urls::web_base;

/// Nanoseconds since the Unix epoch, as the index keeps time (saturating past 2262).
pub fn nanos(at: jiff::Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(if at.as_second() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// An error and its causes on one line: `a: b: c`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
