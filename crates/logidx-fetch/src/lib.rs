//! logidx-fetch: the GitHub REST client of logidx.
//!
//! For a repository and a filter it lists every run ([`Client::runs`], splitting `created`
//! windows over GitHub's 1,000-result cap), the jobs and steps of each attempt
//! ([`Client::jobs`]), and each attempt's log archive ([`Client::download_logs`]), politely:
//! a bounded number of requests in flight, rate limits waited out (and told to a
//! [`Reporter`]), server errors and broken transfers retried with jittered backoff, list pages
//! revalidated with `etag`s. It follows log redirects itself and never sends the token
//! anywhere but the API host. Outcomes are typed: [`LogsOutcome::Logs`], `Gone` (410),
//! `NotFound` (404), `NotReady`, or an [`Error`] naming the run, the attempt and the HTTP
//! status; after downloads keep failing the same way, [`Error::BlobOutage`] at once.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use logidx_fetch::{Client, LogsOutcome, RepoName, RunFilter, discover_token};
//!
//! # async fn demo() -> logidx_fetch::Result<()> {
//! let client = Client::builder().token(discover_token(None)?).build()?;
//! let repo = RepoName::parse("rust-lang/rust")?;
//! let filter = RunFilter { branch: Some("main".into()), ..RunFilter::default() };
//! let mut runs = std::pin::pin!(client.runs(&repo, &filter));
//! while let Some(run) = runs.next().await {
//!     let run = run?;
//!     if !run.is_completed() {
//!         continue;
//!     }
//!     let jobs = client.jobs(&repo, run.id, run.run_attempt).await?;
//!     if let LogsOutcome::Logs(archive) = client.download_logs(&repo, &run, run.run_attempt).await? {
//!         println!("run {} has {} jobs and a {} byte archive", run.id, jobs.len(), archive.len());
//!     }
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app;
mod budget;
mod client;
mod error;
mod logs;
mod model;
mod reporter;
mod repos;
mod runs;
mod token;

pub use app::{AppKey, GitHubApp, Installation};
pub use budget::{BudgetPolicy, BudgetStatus};
pub use client::{Client, ClientBuilder, NotReadyPolicy, RetryPolicy};
pub use error::{Error, Failure, LogName, Result};
pub use logidx_urls::GITHUB_API;
pub use logs::{Archive, JobLogOutcome, LogsOutcome};
pub use model::{Actor, Job, RepoName, Repository, Run, Step, Workflow};
pub use reporter::{NoReporter, Reporter};
pub use runs::{RUN_STATUSES, RunFilter, jobs_of_attempt};
pub use token::{Token, discover_token};
