//! fakehub: a faithful simulator of GitHub Actions' REST API and the blob storage its log
//! redirects point at, so that logidx's tests and benchmarks never need the internet.
//!
//! It serves two listeners on loopback, so a log redirect is really cross-origin:
//! - the **API** (`/repos/{owner}/{repo}/actions/…`): runs with every filter and GitHub's
//!   pagination, attempts, jobs, workflows; `302` log redirects; a token required; primary and
//!   secondary rate limits; `etag`s and free `304`s;
//! - **blob storage**: signed URLs that expire, `403 AuthenticationFailed` for an expired or
//!   forged signature and for any request that carries `Authorization`.
//!
//! Its data is generated from a seed: repositories with several workflows, runs over a time
//! range, re-runs (partial ones whose archive holds only the re-run jobs), matrix and composite
//! job names, and log text as real CI writes it, repetitive across runs. The generator also
//! exposes the ground truth tests need ([`FakeHub::job_log`], [`Planted`] failures). Behaviour
//! follows `shared/GITHUB_LOGS.md`; where this crate and that file disagree, that file wins.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let hub = fakehub::FakeHub::start(fakehub::Config::default()).await?;
//! let url = format!("{}/repos/acme/widgets/actions/runs", hub.api_url());
//! // … point a client at `url` with `Authorization: Bearer fakehub` …
//! assert_eq!(hub.stats().auth_header_violations, 0);
//! hub.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod archive;
mod config;
mod created;
mod fault;
mod generate;
mod json;
mod logs;
mod model;
mod rng;
mod server;
mod stats;
mod time;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use archive::{Entry, NAME_LIMIT, file_name_part};
pub use config::{Config, DEFAULT_DISTINCT};
pub use fault::{Fault, FaultKind, Host};
pub use generate::{FAILURE_MODES, FailureMode, failure_mode};
pub use logs::{JobLog, LineOrigin, LogLine, StepLog};
pub use model::{
    Attempt, Conclusion, Ecosystem, Job, JobSpec, Layout, Planted, Repo, Run, Script, Status, Step,
    StepKind, StepSpec, Workflow,
};
pub use stats::Stats;

use server::Shared;

/// A running fakehub. Dropping it stops the listeners; [`FakeHub::shutdown`] also waits.
pub struct FakeHub {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// What the generated logs hold, for checking the corpus is realistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusSummary {
    /// Jobs with a log.
    pub jobs: usize,
    /// Lines of their whole-job logs.
    pub lines: usize,
    /// Bytes of their whole-job logs.
    pub bytes: usize,
    /// Distinct line texts once the timestamp and ANSI codes are removed.
    pub distinct_lines: usize,
}

impl CorpusSummary {
    /// `distinct_lines / lines`: 8.2% in real job logs of one workflow.
    pub fn distinct_ratio(&self) -> f64 {
        self.distinct_lines as f64 / self.lines.max(1) as f64
    }
}

impl FakeHub {
    /// Generates the data and starts both listeners.
    pub async fn start(mut config: Config) -> std::io::Result<FakeHub> {
        for repo in &config.repos {
            let valid = repo
                .split_once('/')
                .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
            if !valid {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("repository `{repo}` is not `owner/name`"),
                ));
            }
        }
        config.end =
            Some(jiff::Timestamp::from_second(config.end_second()).expect("now is in range"));
        let api = TcpListener::bind(SocketAddr::new(config.host, config.api_port)).await?;
        let blob = TcpListener::bind(SocketAddr::new(config.host, config.blob_port)).await?;
        let api_url = format!("http://{}", api.local_addr()?);
        let blob_url = format!("http://{}", blob.local_addr()?);
        let repos = generate::build(&config);
        let shared = Arc::new(Shared::new(config, repos, api_url, blob_url));
        let (stop, stopped) = watch::channel(false);
        let api_app = axum::Router::new()
            .fallback(server::api)
            .with_state(Arc::clone(&shared));
        let blob_app = axum::Router::new()
            .fallback(server::blob)
            .with_state(Arc::clone(&shared));
        let tasks = vec![
            serve(api, api_app, stopped.clone()),
            serve(blob, blob_app, stopped),
        ];
        Ok(FakeHub {
            shared,
            stop,
            tasks,
        })
    }

    /// Base URL of the API (`http://127.0.0.1:PORT`), what a client uses for `https://api.github.com`.
    pub fn api_url(&self) -> &str {
        &self.shared.api_url
    }

    /// Base URL of the blob storage that log redirects point at.
    pub fn blob_url(&self) -> &str {
        &self.shared.blob_url
    }

    /// The token clients must send.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The configuration, with [`Config::end`] resolved.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats.lock().expect("stats lock").clone()
    }

    /// Adds a fault rule; rules are tried in the order they were added.
    pub fn inject(&self, fault: Fault) {
        self.shared
            .faults
            .lock()
            .expect("fault list lock")
            .push(fault);
    }

    /// A copy of one repository's generated data (`owner/name`).
    pub fn repo(&self, full_name: &str) -> Option<Repo> {
        let repos = self.shared.repos.read().expect("repos lock");
        repos.iter().find(|r| r.full_name() == full_name).cloned()
    }

    /// The log of one job, with the ground truth of every line's step.
    pub fn job_log(&self, full_name: &str, job_id: u64) -> Option<JobLog> {
        let repos = self.shared.repos.read().expect("repos lock");
        let repo = repos.iter().find(|r| r.full_name() == full_name)?;
        let (run, job) = repo.job(job_id)?;
        let c = &self.shared.config;
        Some(logs::job_log(repo, run, job, c.lines_per_job, c.distinct))
    }

    /// The files of an attempt's archive, uncompressed, as the blob host would zip them.
    pub fn archive_entries(
        &self,
        full_name: &str,
        run_id: u64,
        attempt: u32,
    ) -> Option<Vec<Entry>> {
        let repos = self.shared.repos.read().expect("repos lock");
        let repo = repos.iter().find(|r| r.full_name() == full_name)?;
        let run = repo.run(run_id)?;
        let c = &self.shared.config;
        Some(archive::attempt_entries(
            repo,
            run,
            run.attempt(attempt)?,
            c.lines_per_job,
            c.distinct,
        ))
    }

    /// Generates every archived job log once and measures it. Costs as much as serving them all.
    pub fn corpus_summary(&self) -> CorpusSummary {
        let repos = self.shared.repos.read().expect("repos lock");
        let c = &self.shared.config;
        let mut summary = CorpusSummary {
            jobs: 0,
            lines: 0,
            bytes: 0,
            distinct_lines: 0,
        };
        let mut seen = HashSet::new();
        for repo in repos.iter() {
            for run in &repo.runs {
                for attempt in run
                    .attempts
                    .iter()
                    .filter(|a| a.status == Status::Completed)
                {
                    for job in attempt.archived_jobs() {
                        summary.jobs += 1;
                        let log = logs::job_log(repo, run, job, c.lines_per_job, c.distinct);
                        for (_, line) in log.job_file_lines() {
                            summary.lines += 1;
                            summary.bytes += line.text.len() + 30;
                            seen.insert(rng::hash_bytes(&strip_ansi(&line.text)));
                        }
                    }
                }
            }
        }
        summary.distinct_lines = seen.len();
        summary
    }

    /// Stops both listeners, letting requests in flight finish for up to a second.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(1), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|&s| s).await;
        };
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
    })
}

/// Removes ANSI CSI sequences (`ESC [ … final`), the form GitHub logs use.
fn strip_ansi(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == 0x1b && text.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < text.len() && !(0x40..=0x7e).contains(&text[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}
