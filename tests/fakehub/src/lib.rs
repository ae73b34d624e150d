//! fakehub: a faithful simulator of GitHub Actions' REST API and the blob storage its log
//! redirects point at, so that logidx's tests and benchmarks never need the internet.
//!
//! It serves two listeners on loopback, so a log redirect is really cross-origin:
//! - the **API** (`/repos/{owner}/{repo}/actions/…`): runs with every filter and GitHub's
//!   pagination, attempts, jobs, workflows; `302` log redirects (an attempt's archive, one
//!   job's log); a token required; primary and secondary rate limits; `etag`s and free `304`s;
//!   each token's own primary rate limit in windows as short as a test needs, with the
//!   requests past it counted ([`Stats::rate_limit_violations`]);
//!   and, outside GitHub's paths, control endpoints (`POST /_fakehub/jobs/{id}/complete`,
//!   `/_fakehub/runs/{id}/complete-next-job`, `/_fakehub/runs/{id}/complete`,
//!   `/_fakehub/tick`) that move time on, as live mode ([`Config::live`]) does by itself;
//! - **blob storage**: signed URLs that expire, `403 AuthenticationFailed` for an expired or
//!   forged signature and for any request that carries `Authorization`.
//!
//! Its data is generated from a seed: repositories with several workflows, runs over a time
//! range, re-runs (partial ones whose archive holds only the re-run jobs), runs in progress
//! whose jobs complete one by one ([`World::complete_job`]), archives broken as the results
//! service breaks them ([`ArchiveBreak`]), matrix and composite job names, and log text as
//! real CI writes it, repetitive across runs. [`World`] gives the
//! same data without a server (archives for extract's and index's tests and benches), with the
//! ground truth tests need ([`World::job_log`]'s line origins, [`Planted`] failures). On demand
//! it plants logs far bigger than CI's usual ([`BulkLog`]: a line repeated millions of times, a
//! job log of a GiB, a line of tens of MiB), served without holding them in memory. Behaviour
//! follows `docs/github.md`; where this crate and that page disagree, the page wins.
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

mod app;
mod archive;
mod bulk;
mod config;
mod created;
mod fault;
mod generate;
pub mod hostile;
mod json;
mod logs;
mod model;
mod owners;
mod rng;
mod server;
mod stats;
mod time;
mod world;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use archive::{Entry, NAME_LIMIT, file_name_part, misnamed_part};
pub use bulk::{BulkKind, BulkLog, REPEATED_TEXT};
pub use config::{
    App, Config, DEFAULT_DISTINCT, OTHER_PRIVATE_KEY, Owner, OwnerKind, TEST_APP_ID,
    TEST_APP_PRIVATE_KEY, TEST_APP_PRIVATE_KEY_PKCS8, TEST_APP_PUBLIC_KEY,
};
pub use fault::{Fault, FaultKind, Host};
pub use generate::{FAILURE_MODES, FailureMode, failure_mode};
pub use logs::{JobLog, LineOrigin, LogLine, StepLog};
pub use model::{
    Actions, ArchiveBreak, Attempt, Conclusion, Ecosystem, Job, JobSpec, Layout, Planted, Repo,
    Run, Script, Status, Step, StepKind, StepSpec, Workflow,
};
pub use stats::Stats;
pub use world::{Completion, CorpusSummary, Tick, World};

use server::Shared;

/// A running fakehub. Dropping it stops the listeners; [`FakeHub::shutdown`] also waits.
pub struct FakeHub {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl FakeHub {
    /// Generates the data and starts both listeners.
    pub async fn start(config: Config) -> std::io::Result<FakeHub> {
        let world = World::generate(config)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        FakeHub::serve(world).await
    }

    /// Starts both listeners over data generated beforehand.
    pub async fn serve(world: World) -> std::io::Result<FakeHub> {
        let ports = (world.config().api_port, world.config().blob_port);
        FakeHub::serve_on(world, ports).await
    }

    /// Stops both listeners, as [`FakeHub::shutdown`], and keeps the world as it is then and
    /// the ports, for [`Stopped::serve_again`]: GitHub gone from the network for a while.
    pub async fn stop(self) -> Stopped {
        let world = self.with_world(World::clone);
        let port = |url: &str| {
            url.rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0)
        };
        let ports = (port(self.api_url()), port(self.blob_url()));
        self.shutdown().await;
        Stopped { world, ports }
    }

    /// Starts both listeners over `world` on these (API, blob) ports.
    async fn serve_on(world: World, (api_port, blob_port): (u16, u16)) -> std::io::Result<FakeHub> {
        let config = world.config().clone();
        let api = TcpListener::bind(SocketAddr::new(config.host, api_port)).await?;
        let blob = TcpListener::bind(SocketAddr::new(config.host, blob_port)).await?;
        let api_url = format!("http://{}", api.local_addr()?);
        let blob_url = format!("http://{}", blob.local_addr()?);
        let shared = Arc::new(Shared::new(world, api_url, blob_url));
        let (stop, stopped) = watch::channel(false);
        let api_app = axum::Router::new()
            .fallback(server::api)
            .with_state(Arc::clone(&shared));
        let blob_app = axum::Router::new()
            .fallback(server::blob)
            .with_state(Arc::clone(&shared));
        let mut tasks = vec![
            serve(api, api_app, stopped.clone()),
            serve(blob, blob_app, stopped.clone()),
        ];
        if let Some(every) = config.live {
            tasks.push(live(Arc::clone(&shared), every, stopped));
        }
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

    /// Removes every fault rule: the service recovers.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().expect("fault list lock").clear();
    }

    /// Makes every installation token handed out so far expire now, as their hour passing
    /// would: requests with them get 401 "Bad credentials".
    pub fn expire_installation_tokens(&self) {
        self.shared.app_tokens.expire_all();
    }

    /// Runs `f` on the generated data: repositories, logs, archives and their ground truth.
    pub fn with_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.shared.world.read().expect("world lock"))
    }

    /// Changes the generated data while serving (a run completes, a re-run starts), as
    /// GitHub's data changes between two syncs.
    pub fn with_world_mut<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world.write().expect("world lock"))
    }

    /// A copy of one repository's generated data (`owner/name`).
    pub fn repo(&self, full_name: &str) -> Option<Repo> {
        self.with_world(|w| w.repo(full_name).cloned())
    }

    /// The log of one job, with the ground truth of every line's step.
    pub fn job_log(&self, full_name: &str, job_id: u64) -> Option<JobLog> {
        self.with_world(|w| w.job_log(full_name, job_id))
    }

    /// Generates every archived job log once and measures it.
    pub fn corpus_summary(&self) -> CorpusSummary {
        self.with_world(World::corpus_summary)
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

/// A fakehub stopped by [`FakeHub::stop`]: its world and its ports, closed.
pub struct Stopped {
    world: World,
    ports: (u16, u16),
}

impl Stopped {
    /// The world, to move on while nothing serves it (runs completing meanwhile).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// Serves the world again on the same ports (faults, stats and App tokens start afresh).
    pub async fn serve_again(self) -> std::io::Result<FakeHub> {
        FakeHub::serve_on(self.world, self.ports).await
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Live mode: a [`World::tick`] every `every` until stopped.
fn live(
    shared: Arc<Shared>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is now: the world starts as generated
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    shared.world.write().expect("world lock").tick();
                }
                _ = stopped.wait_for(|&s| s) => return,
            }
        }
    })
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
