//! `sync`: list runs, download each new attempt's archive, extract it, index it, in three
//! stages joined by bounded queues so that memory stays flat whatever the repository's size.
//!
//! ```text
//! fetch (tokio: list runs, `downloads` attempts in flight, large archives spooled to disk)
//!   → queue of `downloads` archives → extract (rayon, one archive per core, streamed)
//!   → queue of 2 attempts, each with its queue of `BATCHES_PER_ATTEMPT` batches of lines
//!   → index (this thread, the one writer, one attempt at a time)
//! ```
//! An archive is never inflated whole: each worker inflates its entries in chunks and hands
//! its lines on in batches of about 1 MiB, and waits when its attempt's queue is full, so
//! memory per worker is bounded whatever the size of an entry, an archive or a repository.
//! The index's own attempt records say what is done: an attempt indexed or gone is never
//! fetched again, a failed one is retried by the next sync. The writer commits every
//! [`SyncOptions::commit_interval`] and at the end, so a killed sync loses at most that much
//! work and the next one resumes without duplicates (an attempt is replaced as a whole); then
//! it waits for the segment merges its commits started.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiff::Timestamp;
use logidx_extract::{Batch, Extractor, Limits, Streamed};
use logidx_fetch::{Client, ClientBuilder, Job, LogsOutcome, RepoName, Reporter, Run, RunFilter};
use logidx_index::{AttemptState, Index, RunAttempt, WriterOptions};
use rayon::iter::{ParallelBridge, ParallelIterator};
use serde::Serialize;
use tokio::sync::Notify;

use crate::convert;
use crate::owners::{self, OwnerFilter, SkipReason, SkippedRepo, Target};

/// What to sync and how.
#[derive(Clone)]
pub struct SyncOptions {
    /// The repositories, listed one after the other; their downloads overlap.
    pub repos: Vec<RepoName>,
    /// Organisations and users whose repositories are synced too, narrowed by
    /// [`SyncOptions::owner_filter`]: listed when the sync starts ([`crate::owners`]).
    pub owners: Vec<String>,
    /// Which of the owners' repositories are left out.
    pub owner_filter: OwnerFilter,
    /// Which runs (created window, branch, event, workflow, status, actor).
    pub filter: RunFilter,
    /// The GitHub client: API base, token, concurrency, retries. Its reporter is replaced by
    /// the sync's.
    pub client: ClientBuilder,
    /// Attempts fetched at once (each: one archive download and one jobs request).
    pub downloads: usize,
    /// How the index writer uses memory and cores.
    pub writer: WriterOptions,
    /// Commit at least this often, so that a killed sync loses at most this much work.
    pub commit_interval: Duration,
    /// Set it to stop early: in-flight downloads are dropped, what was indexed is committed.
    pub cancel: Cancel,
    /// Ask again for the attempts recorded as gone.
    pub retry_gone: bool,
    /// When logs that keep answering 404 are taken for gone.
    pub gone_after: GoneRule,
    /// Syncs in a row an attempt must fail the same way (the same recorded reason) to be given
    /// up on: not fetched again but with [`SyncOptions::retry_failed`] (default
    /// [`GIVE_UP_AFTER`]).
    pub give_up_after: u32,
    /// Fetch again the attempts given up on after failing in [`SyncOptions::give_up_after`]
    /// syncs in a row.
    pub retry_failed: bool,
    /// The caps on what an archive may inflate to, per entry and per archive.
    pub limits: Limits,
}

/// Batches of lines (about 1 MiB each) an extracting worker gets ahead of the writer by, per
/// attempt: what bounds a worker's memory.
pub(crate) const BATCHES_PER_ATTEMPT: usize = 4;

/// Syncs in a row that an attempt fails the same way before it is given up on, by default: a
/// permanently corrupt archive is then no longer downloaded by every sync. A failure with
/// another reason starts the count again, and `--retry-failed` fetches them anyway.
pub const GIVE_UP_AFTER: u32 = 3;

/// Whether an attempt recorded as failed in `syncs` syncs in a row is given up on.
pub fn given_up(state: &AttemptState, give_up_after: u32) -> bool {
    matches!(state, AttemptState::Failed { syncs, .. } if *syncs >= give_up_after)
}

/// When logs that answer 404 are gone. GitHub answers 404 for logs that expired or were
/// deleted and for a token that cannot read them, but also, now and then, for a while for
/// logs that are there: so a 404 is retried within the sync, recorded with its time and
/// count, and asked for again by later syncs until it has lasted `syncs` syncs over `over`.
/// A 410 is gone at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoneRule {
    /// Syncs that met the 404, the first included (default 3).
    pub syncs: u32,
    /// From the first 404 to the last, at least (default a day).
    pub over: Duration,
    /// Within a sync, the wait before asking again (doubled for the third and last try).
    pub retry_after: Duration,
}

impl Default for GoneRule {
    fn default() -> GoneRule {
        GoneRule {
            syncs: 3,
            over: Duration::from_secs(86_400),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Tries within a sync at logs answering 404, when no earlier sync met the 404.
const NOT_FOUND_TRIES: u32 = 3;

impl SyncOptions {
    /// Syncs `repos` with every run, the default client and 4 downloads at once.
    pub fn new(repos: Vec<RepoName>, client: ClientBuilder) -> SyncOptions {
        SyncOptions {
            repos,
            owners: Vec::new(),
            owner_filter: OwnerFilter::default(),
            filter: RunFilter::default(),
            client,
            downloads: 4,
            writer: WriterOptions::default().memory_budget(256 << 20),
            commit_interval: Duration::from_secs(30),
            cancel: Cancel::default(),
            retry_gone: false,
            gone_after: GoneRule::default(),
            give_up_after: GIVE_UP_AFTER,
            retry_failed: false,
            limits: Limits::default(),
        }
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("repos", &self.repos)
            .field("owners", &self.owners)
            .field("filter", &self.filter)
            .field("downloads", &self.downloads)
            .field("commit_interval", &self.commit_interval)
            .finish_non_exhaustive()
    }
}

/// A flag that stops a [`sync`] (from a Ctrl-C handler, say). Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancel {
    /// Asks the sync to stop: no new downloads, commit what is indexed, return.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sleeps for `wait`, or less when cancelled meanwhile (within 50 ms).
    pub(crate) fn sleep(&self, wait: std::time::Duration) {
        let end = Instant::now() + wait;
        while !self.is_cancelled() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
        }
    }

    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Hears what a sync is doing; the fetch client's events come through the [`Reporter`]
/// supertrait. Every method has a no-op default; calls come from several threads.
pub trait SyncReporter: Reporter {
    /// `attempts` attempts of `repo` were found that the index does not hold yet.
    fn on_attempts_queued(&self, _repo: &RepoName, _attempts: usize) {}
    /// An attempt is done with, one way or another.
    fn on_attempt_done(&self, _done: &AttemptDone) {}
    /// Listing a repository's runs failed; the other repositories go on.
    fn on_repo_failed(&self, _repo: &RepoName, _error: &str) {}
    /// An owner's repository is left out, and why (never a failure).
    fn on_repo_skipped(&self, _repo: &str, _reason: &SkipReason) {}
    /// Everything indexed so far is committed: `lines` lines in all this sync.
    fn on_committed(&self, _lines: u64) {}
    /// Blob storage is down (`reason`): this sync downloads nothing more and leaves the
    /// remaining attempts to the next. Said once.
    fn on_downloads_stopped(&self, _reason: &str) {}
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSyncReporter;
impl Reporter for NoSyncReporter {}
impl SyncReporter for NoSyncReporter {}

/// One attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AttemptDone {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// The attempt.
    pub attempt: u32,
    /// What happened.
    pub outcome: Outcome,
}

/// What became of an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Its lines are indexed.
    Indexed {
        /// Lines indexed.
        lines: u64,
        /// Archive bytes downloaded.
        bytes: u64,
        /// What was odd about the archive (files matching no job, …), for the log.
        warnings: Vec<String>,
    },
    /// GitHub no longer has its logs: recorded, never asked for again (but by
    /// [`SyncOptions::retry_gone`]).
    Gone {
        /// The HTTP status GitHub answered.
        status: u16,
    },
    /// Its logs answered 404, not yet for long enough to be gone ([`GoneRule`]): recorded,
    /// and the next sync asks again.
    NotFound {
        /// Syncs that met the 404, this one included.
        syncs: u32,
    },
    /// GitHub has not finalised its logs yet: the next sync asks again.
    NotReady,
    /// Fetching, extracting or indexing it failed: recorded, and the next sync tries again.
    Failed {
        /// The error, with its causes and its hint.
        error: String,
    },
    /// Not downloaded: blob storage is down ([`SyncSummary::downloads_stopped`]). Nothing is
    /// recorded; the next sync fetches it.
    Deferred,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SyncSummary {
    /// Runs listed.
    pub runs: u64,
    /// Attempts indexed by this sync.
    pub attempts_indexed: u64,
    /// Attempts already indexed (or known gone): not downloaded again.
    pub attempts_skipped: u64,
    /// Attempts still running: picked up by a later sync.
    pub attempts_in_progress: u64,
    /// Attempts whose logs GitHub no longer has.
    pub attempts_gone: u64,
    /// Attempts whose logs GitHub has not finalised yet.
    pub attempts_not_ready: u64,
    /// Attempts whose logs answered 404, not yet for long enough to be gone.
    pub attempts_not_found: u64,
    /// Attempts that failed.
    pub attempts_failed: u64,
    /// Attempts left for the next sync because blob storage is down.
    pub attempts_deferred: u64,
    /// Lines indexed.
    pub lines: u64,
    /// Archive bytes downloaded.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
    /// Every failure: of a repository's listing (no run id) or of an attempt.
    pub failures: Vec<SyncFailure>,
    /// Why downloads stopped before the end (blob storage failing), when they did.
    pub downloads_stopped: Option<String>,
    /// API requests GitHub counted against the token's rate limit (every answer but a `304`).
    pub requests: u64,
    /// API requests answered `304`, which GitHub does not count.
    pub requests_free: u64,
    /// What was left of this client's share of the rate-limit window at the end, once GitHub
    /// said it ([`logidx_fetch::BudgetPolicy`]).
    pub budget_left: Option<u64>,
    /// Repositories synced: those named and the owners' not left out.
    pub repos_synced: u64,
    /// The owners' repositories left out (excluded, archived, forks, without Actions or runs).
    pub repos_skipped: Vec<SkippedRepo>,
    /// The attempts indexed, for what looks at them next ([`crate::notify`]).
    #[serde(skip)]
    pub indexed: Vec<IndexedAttempt>,
    /// The default branch of each repository synced, where GitHub named it, by lowercased
    /// `owner/name` ([`owners::Resolved::default_branches`]), for [`crate::notify`].
    #[serde(skip)]
    pub default_branches: BTreeMap<String, String>,
}

/// An attempt a sync indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexedAttempt {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// The attempt.
    pub attempt: u32,
}

impl SyncSummary {
    /// Whether anything failed or was left undone.
    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty() || self.downloads_stopped.is_some()
    }
}

/// A failure a sync went on after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SyncFailure {
    /// `owner/name`.
    pub repo: String,
    /// The run, for an attempt's failure.
    pub run_id: Option<u64>,
    /// The attempt.
    pub attempt: Option<u32>,
    /// The error, with its causes and its hint.
    pub error: String,
}

/// What stops a sync as a whole (an attempt's failure never does).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// GitHub refused the token or none was found: no repository can be synced.
    #[error(transparent)]
    Fetch(#[from] logidx_fetch::Error),
    /// The index cannot be opened, written or committed.
    #[error(transparent)]
    Index(#[from] logidx_index::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl SyncError {
    /// What the user can do about it: the hint of the stage's error.
    pub fn hint(&self) -> Option<String> {
        match self {
            SyncError::Fetch(e) => e.hint(),
            SyncError::Index(e) => e.hint(),
            SyncError::Runtime(_) => None,
        }
    }
}

/// An attempt to fetch.
struct Work {
    repo: RepoName,
    run: Arc<Run>,
    attempt: u32,
    /// When earlier syncs met a 404 for its logs, and how many did.
    not_found: Option<(Timestamp, u32)>,
    /// For a run with several attempts to fetch, the one listing of every attempt's jobs
    /// they share (`filter=all`), made by the first that needs it.
    run_jobs: Option<Arc<RunJobs>>,
}

/// Every attempt's jobs of one run, or why they could not be listed.
type RunJobs = tokio::sync::OnceCell<Result<Vec<Job>, String>>;

impl Work {
    /// Whether its CI run failed: an earlier attempt of a re-run run, or a failed latest one.
    /// Their logs are what a search of failures needs, so they are fetched first.
    fn failed(&self) -> bool {
        self.attempt < self.run.run_attempt || self.run.conclusion.as_deref() == Some("failure")
    }

    /// Its jobs: from the run's shared listing of every attempt's when it has one, else its
    /// own listing.
    async fn jobs(&self, client: &Client) -> Result<Vec<Job>, String> {
        let failure = |e: logidx_fetch::Error| failure_of(&e, e.hint());
        if let Some(shared) = &self.run_jobs {
            let all = shared
                .get_or_init(|| async {
                    client
                        .all_jobs(&self.repo, self.run.id)
                        .await
                        .map_err(failure)
                })
                .await;
            match all {
                Ok(all) => {
                    if let Some(jobs) = logidx_fetch::jobs_of_attempt(all, self.attempt) {
                        return Ok(jobs);
                    }
                }
                Err(e) => return Err(e.clone()),
            }
        }
        client
            .jobs(&self.repo, self.run.id, self.attempt)
            .await
            .map_err(failure)
    }
}

/// An attempt on its way to the writer: `S` is [`Fetched`], then [`ToIndex`].
struct Item<S> {
    meta: RunAttempt,
    stage: S,
}

/// What the fetch stage got.
enum Fetched {
    Downloaded {
        jobs: Vec<Job>,
        archive: logidx_fetch::Archive,
    },
    Settled(ToIndex),
}

/// What the writer takes.
enum ToIndex {
    /// Its lines, as a worker extracts them.
    Streaming {
        jobs: Vec<Job>,
        bytes: u64,
        batches: mpsc::Receiver<Extracting>,
    },
    Gone {
        status: u16,
        reason: String,
    },
    NotFound {
        since: Timestamp,
        syncs: u32,
    },
    NotReady,
    Failed {
        error: String,
    },
    Deferred {
        reason: String,
    },
}

/// What an extracting worker sends the writer of an attempt: batches, then how it ended.
enum Extracting {
    Batch(Batch),
    Done(Result<Streamed, String>),
}

/// What the fetch stage counted.
#[derive(Default)]
struct Listed {
    runs: u64,
    skipped: u64,
    in_progress: u64,
    failures: Vec<SyncFailure>,
    /// Owners' repositories found to have no Actions or no runs.
    repos_skipped: Vec<SkippedRepo>,
    /// Whether the caller's [`Cancel`] cut the listing and downloads short (not merely came
    /// late).
    cancelled: bool,
}

/// Syncs `options.repos` into `index`: see the module's documentation. Blocks; from async
/// code, call it on a blocking thread.
///
/// Returns an error only when nothing more can be done (the token is refused, the index
/// cannot be written); a repository or an attempt that fails is reported in the summary and
/// the others go on.
pub fn sync(
    index: &Index,
    options: &SyncOptions,
    reporter: Arc<dyn SyncReporter>,
) -> Result<SyncSummary, SyncError> {
    let client = options.client.clone().reporter(reporter.clone()).build()?;
    sync_with(index, options, &client, reporter)
}

/// [`sync`] with a client built already (its reporter `reporter`): a watch keeps one across
/// cycles, with its budget and `etag`s. The summary's requests are those of this sync.
pub(crate) fn sync_with(
    index: &Index,
    options: &SyncOptions,
    client: &Client,
    reporter: Arc<dyn SyncReporter>,
) -> Result<SyncSummary, SyncError> {
    let started = Instant::now();
    let budget_before = client.budget();
    let mut writer = index.writer_with(options.writer.clone())?;

    let web_base = logidx_urls::web_base(client.api_url());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("logidx-fetch")
        .enable_all()
        .build()
        .map_err(SyncError::Runtime)?;
    let (with_owners, owned) = with_owners(&runtime, client, options, &*reporter)?;
    let options = with_owners.as_ref().unwrap_or(options);
    let mut known = settled_attempts(index, options)?;
    known.from_owners = owned.from_owners;
    let mut default_branches = owned.default_branches;
    runtime.block_on(owners::default_branches(
        client,
        &options.repos,
        &mut default_branches,
    ))?;
    let downloads = options.downloads.max(1);
    let (fetched_tx, fetched_rx) = tokio::sync::mpsc::channel::<Item<Fetched>>(downloads);
    let (extracted_tx, extracted_rx) = mpsc::sync_channel::<Item<ToIndex>>(2);
    let mut summary = SyncSummary::default();
    // Stops this sync when the index fails, without touching the caller's `Cancel`.
    let stop = Cancel::default();

    let (listed, outcome) = std::thread::scope(|scope| {
        let fetched = scope.spawn(|| {
            fetch(
                &runtime, client, options, &known, &*reporter, &stop, fetched_tx,
            )
        });
        let extractor = Extractor::new().with_limits(options.limits);
        scope.spawn(move || extract(&extractor, fetched_rx, extracted_tx));
        let indexed = index_all(
            &mut writer,
            extracted_rx,
            &known.failed,
            &web_base,
            options,
            &*reporter,
            &stop,
            &mut summary,
        );
        let (listed, fetched) = fetched.join().expect("the fetch stage does not panic");
        // A write that failed (a full disk) is named, not tantivy's account of it.
        let indexed = indexed.map_err(|e| SyncError::from(index.with_write_failure(e)));
        (listed, indexed.and(fetched))
    });
    // What was indexed before a fatal fetch error (a token revoked mid-sync) is kept too.
    if !matches!(outcome, Err(SyncError::Index(_))) {
        writer.commit()?;
        reporter.on_committed(summary.lines);
        // Else the process would exit with the merges its commits started, and segments would
        // add up sync after sync.
        writer
            .wait_for_merges()
            .map_err(|e| index.with_write_failure(e))?;
    }
    outcome?;
    summary.runs = listed.runs;
    summary.attempts_skipped = listed.skipped;
    summary.attempts_in_progress = listed.in_progress;
    summary.failures.splice(0..0, listed.failures);
    summary.failures.splice(0..0, owned.failures);
    summary.repos_synced = options.repos.len() as u64;
    summary.repos_skipped = owned.skipped;
    summary.repos_skipped.extend(listed.repos_skipped);
    summary.cancelled = listed.cancelled;
    summary.default_branches = default_branches;
    let budget = client.budget();
    summary.requests = budget.spent - budget_before.spent;
    summary.requests_free = budget.free - budget_before.free;
    summary.budget_left = budget.left;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// An attempt as the index's records name it: the repository lowercased.
type AttemptKey = (String, u64, u32);

/// What the index knows of the attempts before a sync.
#[derive(Default)]
struct Known {
    /// Indexed or gone (unless gone ones are retried): not fetched again.
    settled: HashSet<AttemptKey>,
    /// Their logs answered 404 in earlier syncs: since when, in how many.
    not_found: HashMap<AttemptKey, (Timestamp, u32)>,
    /// They failed in earlier syncs: why, and in how many in a row.
    failed: Failures,
    /// Repositories an owner's listing gave: a 404 on their runs means Actions is disabled,
    /// noted and skipped rather than failed.
    from_owners: HashSet<RepoName>,
}

/// Attempts that failed in earlier syncs: the reason, and in how many syncs in a row.
type Failures = HashMap<AttemptKey, (String, u32)>;

fn attempt_key(attempt: &RunAttempt) -> AttemptKey {
    (
        attempt.repo.to_lowercase(),
        attempt.run_id,
        attempt.run_attempt,
    )
}

/// What the index holds: indexed and gone attempts are not fetched again (gone ones are with
/// `retry_gone`), nor failed ones given up on (but with `retry_failed`); other failed and
/// not-found ones are.
fn settled_attempts(index: &Index, options: &SyncOptions) -> logidx_index::Result<Known> {
    let (retry_gone, retry_failed) = (options.retry_gone, options.retry_failed);
    let mut known = Known::default();
    for repo in &options.repos {
        for record in index.attempts(Some(&repo.to_string()))? {
            let key = attempt_key(&record.attempt);
            if given_up(&record.state, options.give_up_after) && !retry_failed {
                known.settled.insert(key.clone());
            }
            match record.state {
                AttemptState::Indexed { .. } => {
                    known.settled.insert(key);
                }
                AttemptState::Gone { .. } if !retry_gone => {
                    known.settled.insert(key);
                }
                AttemptState::NotFound { since, syncs } => {
                    known.not_found.insert(key, (since, syncs));
                }
                AttemptState::Failed { reason, syncs } => {
                    known.failed.insert(key, (reason, syncs));
                }
                _ => {}
            }
        }
    }
    Ok(known)
}

/// The fetch stage, on the async runtime: lists every repository's runs and downloads the
/// attempts the index lacks, until done, cancelled or `stop`ped.
fn fetch(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    options: &SyncOptions,
    known: &Known,
    reporter: &dyn SyncReporter,
    stop: &Cancel,
    fetched: tokio::sync::mpsc::Sender<Item<Fetched>>,
) -> (Listed, Result<(), SyncError>) {
    let listed = std::sync::Mutex::new(Listed::default());
    let result = runtime.block_on(async {
        let stage = list_and_download(client, options, known, reporter, &listed, fetched);
        tokio::select! {
            result = stage => result,
            () = options.cancel.cancelled() => {
                listed.lock().expect("the fetch stage does not panic").cancelled = true;
                Ok(())
            }
            () = stop.cancelled() => Ok(()),
        }
    });
    let listed = listed.into_inner().expect("the fetch stage does not panic");
    (listed, result)
}

/// The extract stage, on rayon: extracts each downloaded archive, one per core, streaming
/// its lines to the writer.
fn extract(
    extractor: &Extractor,
    mut fetched: tokio::sync::mpsc::Receiver<Item<Fetched>>,
    extracted: mpsc::SyncSender<Item<ToIndex>>,
) {
    let items = std::iter::from_fn(|| fetched.blocking_recv());
    items.par_bridge().for_each_with(extracted, |tx, item| {
        // The writer receives until every sender is gone (it drains after a failure).
        extract_item(extractor, item, tx);
    });
}

/// The index stage, on this thread (the one writer): writes each attempt and commits every
/// [`SyncOptions::commit_interval`]; records `web_base` for each repository it indexes an
/// attempt of, where their links point. On the index's failure it stops the other stages and
/// drains their queue so that they can end.
#[allow(clippy::too_many_arguments)]
fn index_all(
    writer: &mut logidx_index::Writer<'_>,
    extracted: mpsc::Receiver<Item<ToIndex>>,
    failed: &Failures,
    web_base: &str,
    options: &SyncOptions,
    reporter: &dyn SyncReporter,
    stop: &Cancel,
    summary: &mut SyncSummary,
) -> logidx_index::Result<()> {
    let mut last_commit = Instant::now(); // of the first work since the last commit
    let mut uncommitted = false;
    let mut failure = None;
    let mut linked = HashSet::new(); // repositories whose web base is recorded
    loop {
        // With work uncommitted, wait no longer than its commit is due, so it is committed
        // on time even while nothing arrives (a rate-limit wait, a slow download).
        let item = if uncommitted {
            let due = options
                .commit_interval
                .saturating_sub(last_commit.elapsed());
            match extracted.recv_timeout(due) {
                Ok(item) => Some(item),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match extracted.recv() {
                Ok(item) => Some(item),
                Err(mpsc::RecvError) => break,
            }
        };
        if failure.is_some() {
            continue; // drain, so the other stages can end
        }
        if let Some(item) = item {
            // The data's host, recorded before the data commits (not for a failed listing).
            if matches!(item.stage, ToIndex::Streaming { .. })
                && linked.insert(item.meta.repo.clone())
                && let Err(e) = writer.set_web_base(&item.meta.repo, web_base)
            {
                failure = Some(e);
                stop.cancel();
                continue;
            }
            let stopped = match &item.stage {
                ToIndex::Deferred { reason } => Some(reason.clone()),
                _ => None,
            };
            let done = AttemptDone {
                repo: item.meta.repo.clone(),
                run_id: item.meta.run_id,
                attempt: item.meta.run_attempt,
                outcome: match index_item(writer, item, failed) {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        failure = Some(e);
                        stop.cancel();
                        continue;
                    }
                },
            };
            if !uncommitted && !matches!(done.outcome, Outcome::NotReady | Outcome::Deferred) {
                // The interval counts from the first work after a commit.
                uncommitted = true;
                last_commit = Instant::now();
            }
            if let Some(reason) = stopped
                && summary.downloads_stopped.is_none()
            {
                reporter.on_downloads_stopped(&reason);
                summary.downloads_stopped = Some(reason);
            }
            summary.count(&done);
            reporter.on_attempt_done(&done);
        }
        if uncommitted && last_commit.elapsed() >= options.commit_interval {
            if let Err(e) = writer.commit() {
                failure = Some(e);
                stop.cancel();
                continue;
            }
            reporter.on_committed(summary.lines);
            uncommitted = false;
        }
    }
    failure.map_or(Ok(()), Err)
}

impl SyncSummary {
    fn count(&mut self, done: &AttemptDone) {
        match &done.outcome {
            Outcome::Indexed { lines, bytes, .. } => {
                self.attempts_indexed += 1;
                self.indexed.push(IndexedAttempt {
                    repo: done.repo.clone(),
                    run_id: done.run_id,
                    attempt: done.attempt,
                });
                self.lines += lines;
                self.bytes += bytes;
            }
            Outcome::Gone { .. } => self.attempts_gone += 1,
            Outcome::NotFound { .. } => self.attempts_not_found += 1,
            Outcome::NotReady => self.attempts_not_ready += 1,
            Outcome::Deferred => self.attempts_deferred += 1,
            Outcome::Failed { error } => {
                self.attempts_failed += 1;
                self.failures.push(SyncFailure {
                    repo: done.repo.clone(),
                    run_id: Some(done.run_id),
                    attempt: Some(done.attempt),
                    error: error.clone(),
                });
            }
        }
    }
}

/// Lists every repository's runs and fetches the attempts the index lacks, `downloads` at once.
async fn list_and_download(
    client: &Client,
    options: &SyncOptions,
    known: &Known,
    reporter: &dyn SyncReporter,
    listed: &std::sync::Mutex<Listed>,
    fetched: tokio::sync::mpsc::Sender<Item<Fetched>>,
) -> Result<(), SyncError> {
    let (work_tx, mut work_rx) = tokio::sync::mpsc::channel::<Work>(options.downloads.max(1));
    let lock = || listed.lock().expect("the fetch stage does not panic");
    let list = async move {
        for repo in &options.repos {
            let repo_key = repo.to_string().to_lowercase();
            let mut runs = std::pin::pin!(client.runs(repo, &options.filter));
            let mut works = Vec::new();
            let owned = known.from_owners.contains(repo);
            let (mut listed_runs, mut no_actions) = (0, false);
            while let Some(run) = runs.next().await {
                let run = match run {
                    Ok(run) => Arc::new(run),
                    // No repository can be synced: the token is refused, the API unreachable.
                    Err(e) if stops_everything(&e) => return Err(SyncError::Fetch(e)),
                    Err(logidx_fetch::Error::RepoNotFound { .. }) if owned => {
                        skip_repo(
                            reporter,
                            &mut lock().repos_skipped,
                            repo,
                            SkipReason::NoActions,
                        );
                        no_actions = true;
                        break;
                    }
                    Err(e) => {
                        let error = failure_of(&e, e.hint());
                        reporter.on_repo_failed(repo, &error);
                        lock().failures.push(SyncFailure {
                            repo: repo.to_string(),
                            run_id: None,
                            attempt: None,
                            error,
                        });
                        break;
                    }
                };
                lock().runs += 1;
                listed_runs += 1;
                // Earlier attempts are complete even while the latest one runs.
                let last_complete = if run.is_completed() {
                    run.run_attempt
                } else {
                    lock().in_progress += 1;
                    run.run_attempt.saturating_sub(1)
                };
                let todo: Vec<u32> = (1..=last_complete)
                    .filter(|&attempt| {
                        let settled = known.settled.contains(&(repo_key.clone(), run.id, attempt));
                        lock().skipped += u64::from(settled);
                        !settled
                    })
                    .collect();
                let run_jobs = (todo.len() > 1).then(|| Arc::new(RunJobs::new()));
                for attempt in todo {
                    works.push(Work {
                        repo: repo.clone(),
                        run: run.clone(),
                        attempt,
                        not_found: known
                            .not_found
                            .get(&(repo_key.clone(), run.id, attempt))
                            .copied(),
                        run_jobs: run_jobs.clone(),
                    });
                }
            }
            // When the budget cannot cover everything, what is worth most comes first: the
            // failed attempts, then the newest.
            works.sort_by_key(|w| {
                let newest = std::cmp::Reverse((w.run.created_at, w.attempt));
                (!w.failed(), newest)
            });
            reporter.on_attempts_queued(repo, works.len());
            for work in works {
                if work_tx.send(work).await.is_err() {
                    return Ok(());
                }
            }
            if owned && !no_actions && listed_runs == 0 {
                skip_repo(
                    reporter,
                    &mut lock().repos_skipped,
                    repo,
                    SkipReason::NoRuns,
                );
            }
        }
        Ok(())
    };
    let work = futures_util::stream::poll_fn(move |cx| work_rx.poll_recv(cx));
    let download = work
        .map(|work| fetch_attempt(client, work, options.gone_after))
        .buffer_unordered(options.downloads.max(1))
        .for_each(|item| {
            let fetched = fetched.clone();
            async move {
                // The extract stage receives until the sync ends.
                let _ = fetched.send(item).await;
            }
        });
    let (listed, ()) = tokio::join!(list, download);
    listed
}

/// Whether a fetch error stops every request, not one repository's: no token, a refused one
/// or a refused App, an API that cannot be reached.
pub(crate) fn stops_everything(error: &logidx_fetch::Error) -> bool {
    use logidx_fetch::Error;
    matches!(
        error,
        Error::Unauthorized { .. }
            | Error::NoToken
            | Error::Unreachable { .. }
            | Error::BadAppKey { .. }
            | Error::AppRefused { .. }
            | Error::NotInstalled { .. }
    )
}

/// The owners' repositories when the sync has owners: the options with them among
/// [`SyncOptions::repos`], and what the listings left out or failed on, each left out told.
fn with_owners(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    options: &SyncOptions,
    reporter: &dyn SyncReporter,
) -> Result<(Option<SyncOptions>, Owned), SyncError> {
    if options.owners.is_empty() {
        return Ok((None, Owned::default()));
    }
    let mut targets: Vec<Target> = options.repos.iter().cloned().map(Target::Repo).collect();
    targets.extend(options.owners.iter().cloned().map(Target::Owner));
    let resolved = runtime.block_on(owners::resolve(client, &targets, &options.owner_filter))?;
    for skipped in &resolved.skipped {
        reporter.on_repo_skipped(&skipped.repo, &skipped.reason);
    }
    let failures = resolved
        .failed
        .into_iter()
        .map(|(owner, e)| {
            let error = failure_of(&e, e.hint());
            SyncFailure {
                repo: owner,
                run_id: None,
                attempt: None,
                error,
            }
        })
        .collect();
    let owned = Owned {
        from_owners: resolved.from_owners,
        default_branches: resolved.default_branches,
        skipped: resolved.skipped,
        failures,
    };
    let options = SyncOptions {
        repos: resolved.repos,
        ..options.clone()
    };
    Ok((Some(options), owned))
}

/// What resolving the owners gave besides the repositories.
#[derive(Default)]
struct Owned {
    from_owners: HashSet<RepoName>,
    default_branches: BTreeMap<String, String>,
    skipped: Vec<SkippedRepo>,
    failures: Vec<SyncFailure>,
}

fn skip_repo(
    reporter: &dyn SyncReporter,
    skipped: &mut Vec<SkippedRepo>,
    repo: &RepoName,
    reason: SkipReason,
) {
    reporter.on_repo_skipped(&repo.to_string(), &reason);
    skipped.push(SkippedRepo {
        repo: repo.to_string(),
        reason,
    });
}

/// Downloads one attempt's archive, then its jobs (not needed when the logs are gone).
async fn fetch_attempt(client: &Client, work: Work, rule: GoneRule) -> Item<Fetched> {
    let meta = convert::run_attempt(&work.repo, &work.run, work.attempt);
    let mut tries = 1;
    let logs = loop {
        let logs = client
            .download_logs(&work.repo, &work.run, work.attempt)
            .await;
        // A first 404 is asked again within the sync; one an earlier sync met, once a sync.
        if !matches!(logs, Ok(LogsOutcome::NotFound))
            || work.not_found.is_some()
            || tries >= NOT_FOUND_TRIES
        {
            break logs;
        }
        tokio::time::sleep(rule.retry_after * tries).await;
        tries += 1;
    };
    let stage = match logs {
        Ok(LogsOutcome::Logs(archive)) => match work.jobs(client).await {
            Ok(jobs) => Fetched::Downloaded { jobs, archive },
            Err(error) => Fetched::Settled(ToIndex::Failed { error }),
        },
        Ok(LogsOutcome::Gone { status }) => Fetched::Settled(ToIndex::Gone {
            status,
            reason: format!("GitHub answered HTTP {status}: the logs expired or were deleted"),
        }),
        Ok(LogsOutcome::NotFound) => Fetched::Settled(not_found(work.not_found, rule)),
        Ok(LogsOutcome::NotReady) => Fetched::Settled(ToIndex::NotReady),
        Err(e @ logidx_fetch::Error::BlobOutage { .. }) => Fetched::Settled(ToIndex::Deferred {
            reason: e.to_string(),
        }),
        Err(e) => Fetched::Settled(ToIndex::Failed {
            error: failure_of(&e, e.hint()),
        }),
    };
    Item { meta, stage }
}

/// A 404 for logs that `earlier` syncs met too (since when, how many): gone once it has
/// lasted as long as `rule` says, else recorded for the next sync to ask again.
fn not_found(earlier: Option<(Timestamp, u32)>, rule: GoneRule) -> ToIndex {
    let now = Timestamp::now();
    let (since, syncs) = earlier.map_or((now, 1), |(since, syncs)| (since, syncs + 1));
    let lasted = now.duration_since(since).unsigned_abs();
    if syncs >= rule.syncs && lasted >= rule.over {
        let since = since.strftime("%Y-%m-%d %H:%M UTC");
        ToIndex::Gone {
            status: 404,
            reason: format!(
                "GitHub answered HTTP 404 in {syncs} syncs since {since}: the logs expired or were deleted, or the token cannot read them"
            ),
        }
    } else {
        ToIndex::NotFound { since, syncs }
    }
}

/// Extracts a downloaded archive, its lines streamed to the writer through a queue of its
/// own; passes everything else through.
fn extract_item(
    extractor: &Extractor,
    item: Item<Fetched>,
    writer: &mpsc::SyncSender<Item<ToIndex>>,
) {
    let (jobs, archive) = match item.stage {
        Fetched::Downloaded { jobs, archive } => (jobs, archive),
        Fetched::Settled(stage) => {
            let _ = writer.send(Item {
                meta: item.meta,
                stage,
            });
            return;
        }
    };
    let id = logidx_extract::ArchiveId {
        run_id: item.meta.run_id,
        attempt: item.meta.run_attempt,
    };
    let jobs_info = convert::job_infos(&jobs);
    let (batches_tx, batches) = mpsc::sync_channel(BATCHES_PER_ATTEMPT);
    let stage = ToIndex::Streaming {
        jobs,
        bytes: archive.len(),
        batches,
    };
    if writer
        .send(Item {
            meta: item.meta,
            stage,
        })
        .is_err()
    {
        return;
    }
    let extracted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extractor.extract_stream(id, &jobs_info, archive, |batch| {
            // The writer drops the queue when it stops: stop too.
            match batches_tx.send(Extracting::Batch(batch)) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        })
    }));
    let done = match extracted {
        // A bug, not the archive's fault; the other attempts go on.
        Err(panic) => Err(format!(
            "extracting the archive panicked (a bug in logidx: please report it): {}",
            panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("no message")
        )),
        Ok(Ok(streamed)) => Ok(streamed),
        Ok(Err(e)) => Err(failure_of(&e, e.hint())),
    };
    let _ = batches_tx.send(Extracting::Done(done));
}

/// Writes an attempt's lines or its state (a failure counted on from the `failed` of earlier
/// syncs); only the index's own errors are returned.
fn index_item(
    writer: &mut logidx_index::Writer<'_>,
    item: Item<ToIndex>,
    failed: &Failures,
) -> logidx_index::Result<Outcome> {
    let meta = &item.meta;
    Ok(match item.stage {
        ToIndex::Streaming {
            jobs,
            bytes,
            batches,
        } => match index_stream(writer, meta, &jobs, &batches)? {
            Ok(streamed) => Outcome::Indexed {
                lines: streamed.lines,
                bytes,
                warnings: streamed.warnings.iter().map(ToString::to_string).collect(),
            },
            Err(error) => record_failure(writer, meta, failed, error)?,
        },
        ToIndex::Gone { status, reason } => {
            writer.mark_attempt(meta, AttemptState::Gone { reason })?;
            Outcome::Gone { status }
        }
        ToIndex::NotFound { since, syncs } => {
            writer.mark_attempt(meta, AttemptState::NotFound { since, syncs })?;
            Outcome::NotFound { syncs }
        }
        ToIndex::NotReady => Outcome::NotReady,
        ToIndex::Deferred { .. } => Outcome::Deferred,
        ToIndex::Failed { error } => record_failure(writer, meta, failed, error)?,
    })
}

/// Indexes an attempt's lines as its worker sends them: `Ok(Err)` when extracting it failed
/// (nothing of it is left indexed), `Err` when the index did.
fn index_stream(
    writer: &mut logidx_index::Writer<'_>,
    meta: &RunAttempt,
    jobs: &[Job],
    batches: &mpsc::Receiver<Extracting>,
) -> logidx_index::Result<Result<Streamed, String>> {
    let mut adding = writer.begin_attempt(meta);
    let mut part = None;
    let mut fallback = meta.run_created_at;
    loop {
        match batches.recv() {
            Ok(Extracting::Batch(batch)) => {
                if part.as_ref().is_none_or(|p| !Arc::ptr_eq(p, &batch.part)) {
                    adding.begin_step(convert::step_meta_of(&batch.part, jobs))?;
                    fallback = convert::fallback_time(&batch, meta.run_created_at);
                    part = Some(batch.part.clone());
                }
                adding.add_lines(convert::batch_lines(&batch, fallback))?;
            }
            Ok(Extracting::Done(Ok(streamed))) => {
                adding.finish()?;
                return Ok(Ok(streamed));
            }
            // Dropping `adding` leaves the attempt with nothing indexed.
            Ok(Extracting::Done(Err(error))) => return Ok(Err(error)),
            Err(mpsc::RecvError) => {
                return Ok(Err("the extracting worker ended early".to_owned()));
            }
        }
    }
}

/// Records an attempt's failure, counted on from the `failed` of earlier syncs when it failed
/// the same way.
fn record_failure(
    writer: &mut logidx_index::Writer<'_>,
    meta: &RunAttempt,
    failed: &Failures,
    error: String,
) -> logidx_index::Result<Outcome> {
    let syncs = match failed.get(&attempt_key(meta)) {
        Some((reason, syncs)) if *reason == error => syncs + 1,
        _ => 1,
    };
    writer.mark_attempt(
        meta,
        AttemptState::Failed {
            reason: error.clone(),
            syncs,
        },
    )?;
    Ok(Outcome::Failed { error })
}

/// An error, its causes and its hint on one line, as a failure is recorded and summarised:
/// `a: b: c; hint: h`. The hint is what the user can do, so it must not be lost on the way.
pub(crate) fn failure_of(error: &dyn std::error::Error, hint: Option<String>) -> String {
    let mut text = error_chain(error);
    if let Some(hint) = hint {
        text.push_str("; hint: ");
        text.push_str(&hint);
    }
    text
}

/// An error and its causes on one line: `a: b: c`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_is_gone_only_after_the_rules_syncs_and_time() {
        let rule = GoneRule::default();
        let ago = |hours: i64| Timestamp::now() - jiff::SignedDuration::from_hours(hours);
        let cases = [
            // Earlier syncs that met the 404 (since how long, how many) → syncs now, or gone.
            (None, Some(1)),
            (Some((ago(1), 1)), Some(2)),
            (Some((ago(1), 5)), Some(6)),
            (Some((ago(48), 1)), Some(2)),
            (Some((ago(25), 2)), None),
            (Some((ago(48), 9)), None),
        ];
        for (earlier, expected) in cases {
            let got = match not_found(earlier, rule) {
                ToIndex::NotFound { syncs, .. } => Some(syncs),
                ToIndex::Gone { status: 404, .. } => None,
                _ => panic!("neither not found nor gone"),
            };
            assert_eq!(got, expected, "{earlier:?}");
        }
    }

    #[test]
    fn a_recorded_failure_ends_with_its_hint() {
        let error = logidx_fetch::Error::RepoNotFound {
            repo: "acme/nope".to_owned(),
        };
        assert_eq!(
            failure_of(&error, error.hint()),
            "repository `acme/nope` not found (HTTP 404); hint: check the name, and that the token can read it"
        );
        let io = std::io::Error::other("disk full");
        assert_eq!(failure_of(&io, None), "disk full");
    }
}
