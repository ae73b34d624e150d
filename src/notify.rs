//! Being told: a webhook message for each new failure on a repository's default branch.
//!
//! After a sync (or each cycle of a watch), [`Notifier::notify`] looks at the attempts it
//! indexed. A failed job of an attempt on the repository's default branch is worth a message
//! when one of its error lines has a signature (the index's [`signature`], as `logidx errors`
//! and `logidx new` group lines) never seen before on that branch, or when the job starts
//! failing there (it passed in the previous run of its workflow on the branch). Each message
//! is POSTed to every URL as Slack-compatible JSON (`{"text": …}`) with structured fields
//! ([`Message`]).
//!
//! Sending never blocks the sync: messages queue for a background thread that retries with
//! backoff (5xx, 429, a refused connection), and [`Notifier::finish`] waits a bounded time
//! for the rest. What was sent, and what is still to send, is remembered in
//! `notify.json` in the index directory, so that a signature is told once per repository even
//! across restarts, and what a receiver that was down missed is sent by the next sync. The
//! file never holds a URL: webhook URLs carry their secret in their path or query.
//!
//! [`signature`]: logidx_index::signature

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use logidx_index::{AttemptRecord, AttemptState, Filter, Index, Query, Selection, signature};
use serde::{Deserialize, Serialize};

use crate::sync::IndexedAttempt;

/// The file, in the index directory, of what was sent and what is left to send.
pub const STATE_FILE: &str = "notify.json";

/// Messages waiting to be sent at most; past it the oldest are dropped (and said so).
const MAX_PENDING: usize = 1_000;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An error signature never seen before on the default branch.
    NewSignature,
    /// A job that passed in its previous run on the default branch failed.
    StartedFailing,
}

/// One message, as POSTed: `text` for Slack and chat tools, the rest for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// A line for people (Slack's `text`, with `&`, `<` and `>` escaped as Slack asks).
    pub text: String,
    /// Why it is sent.
    pub kind: Kind,
    /// `owner/name`.
    pub repo: String,
    /// The default branch it failed on.
    pub branch: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The run.
    pub run_id: u64,
    /// The run's number in its workflow.
    pub run_number: u64,
    /// The attempt.
    pub run_attempt: u32,
    /// The failed job's id.
    pub job_id: u64,
    /// Its name.
    pub job_name: String,
    /// Whether the job passed in the previous run on the branch.
    pub started_failing: bool,
    /// The error line's signature (16 hex digits), as `logidx errors --json` prints it; none
    /// when the job failed without an error line.
    pub signature: Option<String>,
    /// The error line, as the log has it.
    pub example: Option<String>,
    /// The line's web page, else the job's.
    pub url: String,
}

impl Message {
    /// What makes it once per repository: its signature, or the job's start of failing.
    fn key(&self) -> String {
        match &self.signature {
            Some(signature) if self.kind == Kind::NewSignature => format!("sig:{signature}"),
            _ => format!(
                "job:{}/{}@{}",
                self.workflow_name, self.job_name, self.run_id
            ),
        }
    }
}

/// A webhook URL as it may be printed: `scheme://host/…`, since its path and query carry its
/// secret (`https://hooks.slack.com/services/T000/B000/XXXX`).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or_default();
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{host}{port}/…", parsed.scheme())
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Hears how sending goes; calls come from the sending thread. Every method has a no-op
/// default.
pub trait NotifyReporter: Send + Sync {
    /// `message` was delivered to `url` (redacted).
    fn on_sent(&self, _url: &str, _message: &Message) {}
    /// A try at `url` (redacted) failed; `retry` says whether it is tried again.
    fn on_failed(&self, _url: &str, _message: &Message, _error: &str, _retry: bool) {}
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifyReporter;
impl NotifyReporter for NoNotifyReporter {}

/// Why notifying cannot start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A `--notify` value is not an http or https URL.
    #[error("invalid webhook URL `{url}`: {reason}")]
    BadUrl {
        /// Redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The state file cannot be read or written.
    #[error("cannot {doing} `{}`", path.display())]
    State {
        /// What was being done.
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading the index failed.
    #[error(transparent)]
    Index(#[from] logidx_index::Error),
    /// The HTTP client or its runtime could not be made.
    #[error("cannot start sending notifications")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a [`Notifier`] did, when it finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NotifySummary {
    /// Messages delivered to every URL.
    pub sent: u64,
    /// Tries that failed (each retried or left for later).
    pub failed_tries: u64,
    /// Messages left for the next sync (the receiver was down, or time ran out).
    pub pending: u64,
    /// Messages dropped because too many were waiting.
    pub dropped: u64,
}

/// What `notify.json` holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Per repository (lowercased), the keys of the messages sent ([`Message::key`]).
    sent: BTreeMap<String, BTreeSet<String>>,
    /// Messages not yet delivered to every URL, oldest first.
    pending: Vec<Message>,
}

/// What the caller and the sending thread share.
struct Shared {
    state: Mutex<Queue>,
    wake: Condvar,
    path: PathBuf,
}

struct Queue {
    state: State,
    /// For each pending message (by key and repo), the URLs it reached, its tries and when
    /// it may be tried again.
    progress: HashMap<(String, String), Progress>,
    /// Set by [`Notifier::finish`]: send what is due until then, then stop.
    deadline: Option<Instant>,
    summary: NotifySummary,
}

#[derive(Default, Clone)]
struct Progress {
    reached: Vec<bool>,
    tries: u32,
    not_before: Option<Instant>,
}

/// Classifies what syncs index and sends messages in the background: see the module's
/// documentation.
pub struct Notifier {
    shared: Arc<Shared>,
    sender: Option<std::thread::JoinHandle<()>>,
    /// Default branches the caller knows (from a repository listing), by lowercased name.
    default_branches: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

impl Notifier {
    /// Starts sending to `urls` (each an http or https URL), remembering in `index_dir`; the
    /// messages an earlier sync left are queued first.
    pub fn start(
        urls: Vec<String>,
        index_dir: &Path,
        reporter: Arc<dyn NotifyReporter>,
    ) -> Result<Notifier, NotifyError> {
        for url in &urls {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
                Ok(_) => {
                    return Err(NotifyError::BadUrl {
                        url: redact(url),
                        reason: "not an http or https URL".to_owned(),
                    });
                }
                Err(e) => {
                    return Err(NotifyError::BadUrl {
                        url: "(not shown: it may hold a secret)".to_owned(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        let path = index_dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            // A damaged file is started afresh: at worst a message is sent twice.
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(source) => {
                return Err(NotifyError::State {
                    doing: "read",
                    path,
                    source,
                });
            }
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Queue {
                state,
                progress: HashMap::new(),
                deadline: None,
                summary: NotifySummary::default(),
            }),
            wake: Condvar::new(),
            path,
        });
        // rustls needs a process-wide crypto provider; the fetch client installs the same.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("logidx/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError::Start(Box::new(e)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NotifyError::Start(Box::new(e)))?;
        let sender = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("logidx-notify".to_owned())
                .spawn(move || send_all(&shared, &runtime, &http, &urls, &*reporter))
                .map_err(|e| NotifyError::Start(Box::new(e)))?
        };
        Ok(Notifier {
            shared,
            sender: Some(sender),
            default_branches: Mutex::new(HashMap::new()),
        })
    }

    /// Says `branch` is `repo`'s default branch (a sync's
    /// [`SyncSummary::default_branches`](crate::SyncSummary::default_branches)). Without it, a
    /// repository's default branch is taken to be `main` or `master` (the index does not know
    /// it).
    pub fn set_default_branch(&self, repo: &str, branch: &str) {
        self.default_branches
            .lock()
            .expect("default branches lock")
            .insert(repo.to_lowercase(), branch.to_owned());
    }

    /// Looks at what a sync indexed and queues a message for each new failure (see the
    /// module's documentation); returns how many it queued. Links point at `web_base` where
    /// the index has no host for the repository.
    pub fn notify(
        &self,
        index: &Index,
        indexed: &[IndexedAttempt],
        web_base: &str,
    ) -> Result<usize, NotifyError> {
        let messages = {
            // A copy, so that sending goes on while the index is read.
            let told: HashSet<(String, String)> = {
                let queue = self.lock();
                let sent = queue.state.sent.iter().flat_map(|(repo, keys)| {
                    keys.iter().map(move |key| (repo.clone(), key.clone()))
                });
                let pending = queue
                    .state
                    .pending
                    .iter()
                    .map(|m| (m.repo.to_lowercase(), m.key()));
                sent.chain(pending).collect()
            };
            let told =
                |repo: &str, key: &str| told.contains(&(repo.to_lowercase(), key.to_owned()));
            let known = self
                .default_branches
                .lock()
                .expect("default branches lock")
                .clone();
            let default_branch = |repo: &str, branch: &str| match known.get(&repo.to_lowercase()) {
                Some(default) => default == branch,
                None => crate::intel::DEFAULT_BRANCHES.contains(&branch),
            };
            messages(index, indexed, web_base, &default_branch, &told)?
        };
        let queued = messages.len();
        if queued > 0 {
            let mut queue = self.lock();
            queue.state.pending.extend(messages);
            let excess = queue.state.pending.len().saturating_sub(MAX_PENDING);
            queue.state.pending.drain(..excess);
            queue.summary.dropped += excess as u64;
            save(&self.shared.path, &queue.state)?;
            self.shared.wake.notify_all();
        }
        Ok(queued)
    }

    /// Sends what is due within `within` (retrying as usual, but not past it; a request in
    /// flight then may take its own timeout, 5 s, more), then stops; what is left is
    /// remembered for the next sync.
    pub fn finish(mut self, within: Duration) -> NotifySummary {
        {
            let mut queue = self.lock();
            queue.deadline = Some(Instant::now() + within);
            self.shared.wake.notify_all();
        }
        if let Some(sender) = self.sender.take() {
            let _ = sender.join();
        }
        let mut queue = self.lock();
        queue.summary.pending = queue.state.pending.len() as u64;
        let _ = save(&self.shared.path, &queue.state);
        queue.summary.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        // Not finished: stop at once, keeping what is pending.
        if self.sender.is_some() {
            let mut queue = self.lock();
            queue.deadline = Some(Instant::now());
            self.shared.wake.notify_all();
        }
    }
}

/// Writes the state beside the index, whole or not at all.
fn save(path: &Path, state: &State) -> Result<(), NotifyError> {
    let error = |doing, source| NotifyError::State {
        doing,
        path: path.to_owned(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(state).expect("the state serializes");
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, bytes).map_err(|e| error("write", e))?;
    std::fs::rename(&temporary, path).map_err(|e| error("write", e))
}

/// The sending thread: delivers the pending messages in order, each to every URL, retrying
/// with backoff; after the deadline, stops.
fn send_all(
    shared: &Shared,
    runtime: &tokio::runtime::Runtime,
    http: &reqwest::Client,
    urls: &[String],
    reporter: &dyn NotifyReporter,
) {
    let lock = || shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    let mut queue = lock();
    loop {
        let now = Instant::now();
        if queue.deadline.is_some_and(|d| now >= d)
            || (queue.deadline.is_some() && queue.state.pending.is_empty())
        {
            return;
        }
        // The first message due, else when the next one is.
        let mut due = None;
        let mut next: Option<Instant> = None;
        for message in &queue.state.pending {
            let id = (message.repo.to_lowercase(), message.key());
            match queue.progress.get(&id).and_then(|p| p.not_before) {
                Some(at) if at > now => next = Some(next.map_or(at, |n| n.min(at))),
                _ => {
                    due = Some((id, message.clone()));
                    break;
                }
            }
        }
        let Some((id, message)) = due else {
            let until = [next, queue.deadline].into_iter().flatten().min();
            queue = match until {
                Some(until) => {
                    let wait = until.saturating_duration_since(now);
                    shared
                        .wake
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => shared
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            continue;
        };
        let mut progress = queue.progress.get(&id).cloned().unwrap_or_default();
        progress.reached.resize(urls.len(), false);
        drop(queue);

        let body = serde_json::to_vec(&message).expect("a message serializes");
        let mut retry = false;
        let mut failures = 0;
        for (url, reached) in urls.iter().zip(progress.reached.iter_mut()) {
            if *reached {
                continue;
            }
            match runtime.block_on(post(http, url, &body)) {
                Ok(()) => {
                    *reached = true;
                    reporter.on_sent(&redact(url), &message);
                }
                Err((error, transient)) => {
                    failures += 1;
                    // A receiver that is down is waited for; one that refuses is not.
                    retry |= transient;
                    if !transient {
                        *reached = true;
                    }
                    reporter.on_failed(&redact(url), &message, &error, transient);
                }
            }
        }
        progress.tries += 1;

        queue = lock();
        queue.summary.failed_tries += failures;
        if retry {
            let backoff = Duration::from_millis(250) * 2u32.pow(progress.tries.min(8));
            progress.not_before = Some(Instant::now() + backoff.min(Duration::from_secs(60)));
            queue.progress.insert(id, progress);
            continue;
        }
        queue.progress.remove(&id);
        let repo = message.repo.to_lowercase();
        queue
            .state
            .pending
            .retain(|m| (m.repo.to_lowercase(), m.key()) != id);
        // Delivered, or refused for good (a 4xx): not tried again.
        queue
            .state
            .sent
            .entry(repo)
            .or_default()
            .insert(message.key());
        if failures == 0 {
            queue.summary.sent += 1;
        }
        let _ = save(&shared.path, &queue.state);
    }
}

/// POSTs `body`: an error says why, and whether trying again may help (5xx, 429, 408, no
/// connection).
async fn post(http: &reqwest::Client, url: &str, body: &[u8]) -> Result<(), (String, bool)> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match response {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            let status = response.status();
            let transient = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
            Err((format!("HTTP {}", status.as_u16()), transient))
        }
        // reqwest's message names the URL: say only what kind of failure it was.
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            Err((what.to_owned(), true))
        }
    }
}

/// The messages that `indexed` is worth, those `told(repo, key)` not excepted.
fn messages(
    index: &Index,
    indexed: &[IndexedAttempt],
    web_base: &str,
    default_branch: &dyn Fn(&str, &str) -> bool,
    told: &dyn Fn(&str, &str) -> bool,
) -> logidx_index::Result<Vec<Message>> {
    let mut by_repo: BTreeMap<String, Vec<&IndexedAttempt>> = BTreeMap::new();
    for attempt in indexed {
        by_repo
            .entry(attempt.repo.to_lowercase())
            .or_default()
            .push(attempt);
    }
    let mut messages: Vec<Message> = Vec::new();
    for (repo, attempts) in by_repo {
        let records = index.attempts(Some(&repo))?;
        let record_of = |a: &IndexedAttempt| {
            records
                .iter()
                .find(|r| r.attempt.run_id == a.run_id && r.attempt.run_attempt == a.attempt)
        };
        // Each default branch's signatures, with the attempt that first had each.
        let mut first_seen: HashMap<String, HashMap<u64, logidx_index::Sighting>> = HashMap::new();
        let mut new: Vec<&AttemptRecord> = attempts.iter().filter_map(|a| record_of(a)).collect();
        new.sort_by_key(|r| (r.attempt.run_created_at, r.attempt.run_attempt));
        for record in new {
            let run = &record.attempt;
            let AttemptState::Indexed { jobs, .. } = &record.state else {
                continue;
            };
            if !default_branch(&run.repo, &run.head_branch) {
                continue;
            }
            let failed: Vec<_> = jobs
                .iter()
                .filter(|j| matches!(j.conclusion.as_str(), "failure" | "timed_out"))
                .collect();
            if failed.is_empty() {
                continue;
            }
            if !first_seen.contains_key(&run.head_branch) {
                let query = Query::default()
                    .filter(Filter::Repo(run.repo.clone()))
                    .filter(Filter::Branch(run.head_branch.clone()))
                    .web_base(web_base);
                let groups = index.errors(&query)?;
                let seen = groups
                    .into_iter()
                    .map(|g| (g.signature, g.first_seen))
                    .collect();
                first_seen.insert(run.head_branch.clone(), seen);
            }
            let seen = &first_seen[&run.head_branch];
            for job in failed {
                let started = passed_before(&records, record, &job.job_name);
                let mut message = |signature: Option<u64>, example: Option<String>, url: String| {
                    let kind = if signature.is_some() {
                        Kind::NewSignature
                    } else {
                        Kind::StartedFailing
                    };
                    let mut message = Message {
                        text: String::new(),
                        kind,
                        repo: run.repo.clone(),
                        branch: run.head_branch.clone(),
                        workflow_name: run.workflow_name.clone(),
                        run_id: run.run_id,
                        run_number: run.run_number,
                        run_attempt: run.run_attempt,
                        job_id: job.job_id,
                        job_name: job.job_name.clone(),
                        started_failing: started,
                        signature: signature.map(|s| format!("{s:016x}")),
                        example,
                        url,
                    };
                    message.text = text_of(&message);
                    if !told(&message.repo, &message.key())
                        && !messages
                            .iter()
                            .any(|m| m.repo == message.repo && m.key() == message.key())
                    {
                        messages.push(message);
                    }
                };
                let mut any = false;
                let mut new_here: Vec<(&u64, &logidx_index::Sighting)> = seen
                    .iter()
                    .filter(|(_, s)| {
                        s.run.run_id == run.run_id
                            && s.run.run_attempt == run.run_attempt
                            && s.step.job_id == job.job_id
                    })
                    .collect();
                new_here.sort_by_key(|(_, s)| (s.step.step_number, s.line_number));
                for (signature, sighting) in new_here {
                    any = true;
                    message(
                        Some(*signature),
                        Some(sighting.text.clone()),
                        sighting.url.clone(),
                    );
                }
                if started && !any {
                    let base = index
                        .web_base(&run.repo)
                        .unwrap_or_else(|| web_base.to_owned());
                    let (example, url) = match first_error(index, run, job.job_id, &base)? {
                        Some((text, url)) => (Some(text), url),
                        None => (
                            None,
                            logidx_urls::job_url(&base, &run.repo, run.run_id, job.job_id),
                        ),
                    };
                    message(None, example, url);
                }
            }
        }
    }
    Ok(messages)
}

/// Whether job `job_name` passed in the run of the same workflow on the same branch before
/// `record`'s run (its latest indexed attempt).
fn passed_before(records: &[AttemptRecord], record: &AttemptRecord, job_name: &str) -> bool {
    let run = &record.attempt;
    let previous = records
        .iter()
        .filter(|r| {
            let other = &r.attempt;
            other.run_id != run.run_id
                && other.head_branch == run.head_branch
                && other.workflow_name == run.workflow_name
                && other.run_created_at < run.run_created_at
        })
        .filter_map(|r| match &r.state {
            AttemptState::Indexed { jobs, .. } => jobs
                .iter()
                .find(|j| j.job_name == job_name)
                .map(|j| ((r.attempt.run_created_at, r.attempt.run_attempt), j)),
            _ => None,
        })
        .max_by_key(|(at, _)| *at);
    previous.is_some_and(|(_, job)| job.conclusion == "success")
}

/// The first error line of a job (one with a signature), with its link.
fn first_error(
    index: &Index,
    run: &logidx_index::RunAttempt,
    job_id: u64,
    web_base: &str,
) -> logidx_index::Result<Option<(String, String)>> {
    let steps = index.show(&Selection {
        repo: run.repo.clone(),
        run_id: run.run_id,
        run_attempt: Some(run.run_attempt),
        job_id: Some(job_id),
        step_number: None,
    })?;
    for step in &steps {
        for (i, line) in step.lines.iter().enumerate() {
            if signature(&line.text).is_some() {
                let url = logidx_index::line_url(web_base, &step.run, &step.step, i as u32 + 1);
                return Ok(Some((line.text.clone(), url)));
            }
        }
    }
    Ok(None)
}

/// Slack's `text`: the repository, what happened, the line (cut, escaped) and the link.
fn text_of(message: &Message) -> String {
    let what = match (message.kind, message.started_failing) {
        (Kind::NewSignature, true) => "starts failing with a new error",
        (Kind::NewSignature, false) => "new error",
        (Kind::StartedFailing, _) => "starts failing",
    };
    let mut text = format!(
        "{}: {what} on {} in {} #{} (attempt {}), job {}",
        message.repo,
        message.branch,
        message.workflow_name,
        message.run_number,
        message.run_attempt,
        message.job_name
    );
    if let Some(example) = &message.example {
        let cut: String = example.chars().take(300).collect();
        text.push_str(&format!(": `{}`", cut.replace('`', "'")));
    }
    text.push_str(&format!(" {}", message.url));
    slack_escaped(&text)
}

/// `&`, `<` and `>` as Slack asks, so that a log line cannot mention `<!channel>` or make
/// links.
fn slack_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_printed_without_their_secret() {
        let cases = [
            (
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "https://hooks.slack.com/…",
            ),
            (
                "http://127.0.0.1:8080/hook?token=s3cret",
                "http://127.0.0.1:8080/…",
            ),
            ("https://user:pw@example.com/x", "https://example.com/…"),
            ("not a url s3cret", "(not a URL)"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown);
        }
    }

    #[test]
    fn log_lines_cannot_ping_a_channel() {
        assert_eq!(
            slack_escaped("<!channel> a&b <https://evil|click>"),
            "&lt;!channel&gt; a&amp;b &lt;https://evil|click&gt;"
        );
    }
}
