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
//! Syncing from code, then asking the index (here against fakehub, GitHub's simulator; for
//! GitHub, take the token as `gh` users keep it with [`discover_token`], and narrow the runs
//! with [`SyncOptions::filter`]):
//!
//! ```
//! use std::sync::Arc;
//! use logidx::{Client, Index, NoSyncReporter, Query, SyncOptions, Token};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let runtime = tokio::runtime::Runtime::new()?;
//! # let config = fakehub::Config {
//! #     runs: 3,
//! #     days: 2,
//! #     lines_per_job: 20,
//! #     not_ready_for: std::time::Duration::ZERO,
//! #     ..fakehub::Config::default()
//! # };
//! # let hub = runtime.block_on(fakehub::FakeHub::start(config))?;
//! # let dir = tempfile::tempdir()?;
//! # let (api_url, token) = (hub.api_url(), hub.token());
//! let index = Index::open(dir.path().join("index"))?;
//! let client = Client::builder().api_url(api_url).token(Token::new(token));
//! let options = SyncOptions::new(vec!["acme/widgets".parse()?], client);
//! let summary = logidx::sync(&index, &options, Arc::new(NoSyncReporter))?;
//! println!("{} lines from {} attempts", summary.lines, summary.attempts_indexed);
//! # assert!(summary.attempts_indexed > 0 && !summary.has_failures());
//!
//! // Jobs that failed and passed on one commit, and what a failed job printed that its last
//! // success did not.
//! let of_repo = logidx::FlakyFilter { repo: Some("acme/widgets".into()), ..Default::default() };
//! for job in logidx::flaky_jobs(&index, &of_repo)? {
//!     println!("{} flaked on {}", job.job_name, job.repo);
//! }
//! if let Some(hit) = index.search(&Query::parse("error")?)?.first() {
//!     let web = logidx::web_base(api_url);
//!     for failed in logidx::new_in_failures(&index, &hit.run.repo, hit.run.run_id, None, None, &web)? {
//!         println!("{}: {} new error lines", failed.job_name, failed.lines.len());
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod config;
mod convert;
mod intel;
pub mod json;
pub mod notify;
pub mod owners;
mod sync;
mod watch;

pub use convert::OUTSIDE_STEPS;
pub use intel::{FlakyFilter, FlakyJob, NewInFailure, NewLine, flaky_jobs, new_in_failures};
pub use sync::{
    AttemptDone, Cancel, GoneRule, IndexedAttempt, NoSyncReporter, Outcome, SyncError, SyncFailure,
    SyncOptions, SyncReporter, SyncSummary, sync,
};
pub use sync::{GIVE_UP_AFTER, given_up};
pub use watch::{Cycle, SlidingSince, WatchOptions, WatchReporter, WatchSummary, watch};

pub use logidx_extract as extract;
pub use logidx_fetch as fetch;
pub use logidx_index as index;
pub use logidx_urls as urls;

pub use logidx_fetch::{
    BudgetPolicy, BudgetStatus, Client, ClientBuilder, GITHUB_API, RepoName, Reporter, RunFilter,
    Token, discover_token,
};
pub use logidx_index::{
    AttemptRecord, AttemptState, ContextLine, Counts, DeleteStats, Deletion, DurationError,
    ErrorGroup, Filter, GroupBy, GroupPlace, Hit, Index, Level, NamePattern, Order, Query,
    RunAttempt, SCHEMA_VERSION, Selection, ShownStep, Sighting, StepMeta, TimeBoundError,
    WriterOptions, is_age, line_url, parse_duration, parse_time_bound,
};
pub use logidx_urls::web_base;
