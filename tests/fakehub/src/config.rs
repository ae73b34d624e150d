//! What a fakehub serves and how it misbehaves.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use jiff::Timestamp;

use crate::fault::Fault;
use crate::model::{Ecosystem, Layout};

/// Everything a [`crate::FakeHub`] is started with. `Config::default()` is a small repository
/// suitable for tests; change fields with struct update syntax.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repositories as `owner/name`; each gets its own workflows and runs.
    pub repos: Vec<String>,
    /// Runs per repository.
    pub runs: usize,
    /// The runs are spread over this many days, ending at [`Config::end`].
    pub days: u32,
    /// Creation time of the newest run; `None` means the moment fakehub starts.
    pub end: Option<Timestamp>,
    /// Seed of all generated data.
    pub seed: u64,
    /// The token clients must send (`Authorization: Bearer …` or `token …`).
    pub token: String,
    /// Base of `html_url`s (`https://github.com`).
    pub web_base: String,
    /// Address both listeners bind to.
    pub host: IpAddr,
    /// API port (0 picks a free one).
    pub api_port: u16,
    /// Blob-storage port (0 picks a free one).
    pub blob_port: u16,
    /// How long a signed blob URL stays valid (GitHub: one minute).
    pub url_expiry: Duration,
    /// An attempt's archive answers 404 for this long after it completes.
    pub not_ready_for: Duration,
    /// A job's log (`GET …/actions/jobs/{id}/logs`) answers 404 for this long after the job
    /// completes, while GitHub finalises it (`docs/github.md` section 10: about 30 s).
    pub job_log_not_ready_for: Duration,
    /// Archives of runs created longer ago than this are gone.
    pub retention: Duration,
    /// Status for a gone archive: 410 (usual) or 404.
    pub gone_status: u16,
    /// Primary rate limit: requests per window.
    pub rate_limit: u32,
    /// Primary rate limit window (GitHub: one hour).
    pub rate_window: Duration,
    /// Status when the primary limit is exhausted: 403 or 429.
    pub rate_limited_status: u16,
    /// Secondary rate limit: more concurrent API requests than this are refused.
    pub max_concurrent: usize,
    /// `retry-after` sent with a secondary limit; `None` sends it blank.
    pub retry_after: Option<u64>,
    /// The newest this many runs of each repository are still in progress.
    pub in_progress: usize,
    /// Average log lines a job writes.
    pub lines_per_job: usize,
    /// Share of lines made unique, from 0 (all repeats) to 1 (no two lines alike).
    pub distinct: f64,
    /// One layout for every archive, or `None` for a realistic mix.
    pub layout: Option<Layout>,
    /// One ecosystem for every repository, or `None` to vary by repository.
    pub ecosystem: Option<Ecosystem>,
    /// Share of attempts whose archive the results service broke for one of their jobs (left
    /// out, misnamed, or under both services' names: [`crate::ArchiveBreak`]), chosen by seed;
    /// 0 (none) by default. [`crate::World::break_archive`] breaks a chosen one.
    pub broken_archives: f64,
    /// Faults to inject; more can be added at run time with [`crate::FakeHub::inject`].
    pub faults: Vec<Fault>,
    /// The oldest this many runs of each repository are hostile, as a fork's pull request can
    /// make them: control characters and escape sequences in their workflow, job, step and
    /// branch names, actor and commit message, and log lines with them and invalid UTF-8
    /// ([`crate::hostile`]).
    pub hostile_runs: usize,
    /// A step of one run prints [`crate::REPEATED_TEXT`] this many times, all but the first
    /// without a timestamp, so that its files compress about 1,030× ([`crate::BulkLog`]); 0 (none)
    /// by default. [`crate::World::bulk_log`] says where.
    pub repeated_lines: u64,
    /// A step of one run prints varied lines until its job's whole-job log is this many bytes
    /// (at most; within a line of it); 0 (none) by default. Served from a temporary file,
    /// never held in memory.
    pub huge_log_bytes: u64,
    /// A step of one run prints one line of this many bytes; 0 (none) by default.
    pub huge_line_bytes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            repos: vec!["acme/widgets".to_owned()],
            runs: 40,
            days: 14,
            end: None,
            seed: 7,
            token: "fakehub".to_owned(),
            web_base: "https://github.com".to_owned(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            api_port: 0,
            blob_port: 0,
            url_expiry: Duration::from_secs(60),
            not_ready_for: Duration::from_secs(30),
            job_log_not_ready_for: Duration::from_secs(30),
            retention: Duration::from_secs(90 * 86_400),
            gone_status: 410,
            rate_limit: 5_000,
            rate_window: Duration::from_secs(3_600),
            rate_limited_status: 403,
            max_concurrent: 100,
            retry_after: Some(60),
            in_progress: 1,
            lines_per_job: 200,
            distinct: DEFAULT_DISTINCT,
            layout: None,
            ecosystem: None,
            broken_archives: 0.0,
            faults: Vec::new(),
            hostile_runs: 0,
            repeated_lines: 0,
            huge_log_bytes: 0,
            huge_line_bytes: 0,
        }
    }
}

/// Share of fresh lines that, with the generator's stable lines, gives about the 8.2% distinct
/// lines measured on real job logs of one workflow (`docs/github.md` section 9) at the default
/// size of a few hundred runs.
pub const DEFAULT_DISTINCT: f64 = 0.09;

impl Config {
    pub(crate) fn end_second(&self) -> i64 {
        self.end.unwrap_or_else(Timestamp::now).as_second()
    }
}
