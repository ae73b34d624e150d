//! Listing runs without missing one, and the jobs of an attempt.

use std::collections::HashSet;

use futures_util::Stream;
use jiff::Timestamp;
use logidx_urls::Url;
use reqwest::StatusCode;
use tokio::sync::mpsc;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{Job, JobsPage, RepoName, Run, RunsPage, Workflow, WorkflowsPage};

/// GitHub answers at most this many runs for a filtered list.
const RESULT_CAP: u64 = 1_000;

/// Aim for windows this full when splitting, so that runs created while listing still fit.
const WINDOW_TARGET: u64 = 800;

/// Before the first GitHub Actions run: the lower bound when only an upper one is given.
const EPOCH: i64 = 1_546_300_800; // 2019-01-01

/// What the runs listing's `status` takes: a status or a conclusion (GitHub's REST description
/// of `GET /repos/{owner}/{repo}/actions/runs`). Another value lists nothing.
pub const RUN_STATUSES: &[&str] = &[
    "completed",
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "success",
    "timed_out",
    "in_progress",
    "queued",
    "requested",
    "waiting",
    "pending",
];

/// Which runs to list. Every field narrows the list; `Default` lists every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created at or before.
    pub until: Option<Timestamp>,
    /// Branch.
    pub branch: Option<String>,
    /// Event (`push`, `pull_request`, …).
    pub event: Option<String>,
    /// Workflow: its id, file name (`ci.yml`) or name (`CI`, looked up in the repository's
    /// workflows).
    pub workflow: Option<String>,
    /// Status or conclusion (`completed`, `failure`, …; [`RUN_STATUSES`]).
    pub status: Option<String>,
    /// Who triggered the run.
    pub actor: Option<String>,
}

impl RunFilter {
    /// Whether GitHub caps this list at 1,000 results: any search parameter does.
    fn capped(&self) -> bool {
        self.since.is_some()
            || self.until.is_some()
            || self.branch.is_some()
            || self.event.is_some()
            || self.status.is_some()
            || self.actor.is_some()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let fields = [
            ("branch", &self.branch),
            ("event", &self.event),
            ("status", &self.status),
            ("actor", &self.actor),
        ];
        fields
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect()
    }
}

/// The width of the parts a window of `span` seconds is split into, about `span / parts`: a
/// power of two of hours when that is at least an hour, so that the parts' bounds (and the
/// URLs and `etag`s of their pages) do not move with the clock from one sync to the next.
fn split_width(span: i64, parts: i64) -> i64 {
    let width = (span / parts).max(1);
    if width < 3_600 {
        return width;
    }
    let hours = (width / 3_600) as u64;
    // The power of two at or below, so that no part holds more than its share.
    let hours = 1_u64 << (63 - hours.leading_zeros());
    hours as i64 * 3_600
}

impl Client {
    /// Every run matching `filter`, newest first, each once. Follows `Link` pagination with
    /// `per_page=100`; when a `created` window holds more than GitHub's 1,000-result cap, it
    /// splits the window until each part fits, so no run is missed.
    pub fn runs(
        &self,
        repo: &RepoName,
        filter: &RunFilter,
    ) -> impl Stream<Item = Result<Run>> + Send + 'static {
        let (tx, rx) = mpsc::channel(256);
        let (client, repo, filter) = (self.clone(), repo.clone(), filter.clone());
        tokio::spawn(async move {
            if let Err(e) = client.list_runs(&repo, &filter, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    async fn list_runs(
        &self,
        repo: &RepoName,
        filter: &RunFilter,
        tx: &mpsc::Sender<Result<Run>>,
    ) -> Result<()> {
        let base = match &filter.workflow {
            Some(w) => {
                let id = self.workflow(repo, w).await?.id.to_string();
                self.api().workflow_runs(&repo.owner, &repo.name, &id)
            }
            None => self.api().runs(&repo.owner, &repo.name),
        };
        let mut seen = HashSet::new();
        if !filter.capped() {
            let url = with_query(&base, &[("per_page", "100".to_owned())]);
            return self.emit_pages(repo, url, tx, &mut seen).await.map(|_| ());
        }
        // Windows of inclusive seconds, open ends left open so that the URL of an unsplit
        // window stays the same between syncs (and its etag keeps matching). The newest window
        // is popped first, so runs come newest first.
        let mut windows: Vec<Window> = vec![(
            filter.since.map(|t| t.as_second()),
            filter.until.map(|t| t.as_second()),
        )];
        while let Some((lo, open_hi)) = windows.pop() {
            let mut params = filter.params();
            if let Some(created) = created_param(lo, open_hi) {
                params.push(("created", created));
            }
            params.push(("per_page", "100".to_owned()));
            let url = with_query(&base, &params);
            let first = self.runs_page(repo, &url).await?;
            let page: RunsPage = first.json()?;
            let (lo, hi) = (
                lo.unwrap_or(EPOCH),
                open_hi.unwrap_or_else(|| Timestamp::now().as_second()),
            );
            if page.total_count > RESULT_CAP && hi > lo {
                let parts = page.total_count.div_ceil(WINDOW_TARGET).max(2) as i64;
                let width = split_width(hi - lo + 1, parts);
                let mut start = lo;
                while start <= hi {
                    // The newest part of an open window stays open, like the window itself.
                    let end = if start + width > hi {
                        open_hi
                    } else {
                        Some(start + width - 1)
                    };
                    windows.push((Some(start), end));
                    start = end.map_or(hi + 1, |end| end + 1);
                }
                tracing::debug!(
                    total = page.total_count,
                    parts,
                    "split a created window over the 1,000 cap"
                );
                continue;
            }
            if page.total_count > RESULT_CAP {
                tracing::warn!(
                    second = lo,
                    "more than 1,000 runs created in one second: some are out of reach"
                );
            }
            self.send_runs(page.workflow_runs, tx, &mut seen).await?;
            if let Some(next) = first.next_link() {
                self.emit_pages(repo, next, tx, &mut seen).await?;
            }
        }
        Ok(())
    }

    /// The workflow `key` names: its id, its file name or path, or its name (exactly, else
    /// the one whose name matches ignoring case). GitHub's runs endpoint takes only the
    /// first two, and answers an unknown one with the 404 of an unknown repository.
    pub async fn workflow(&self, repo: &RepoName, key: &str) -> Result<Workflow> {
        let list = self.api().workflows(&repo.owner, &repo.name);
        let mut url = with_query(&list, &[("per_page", "100".to_owned())]);
        let mut workflows = Vec::new();
        loop {
            let answer = self.runs_page(repo, &url).await?;
            workflows.extend(answer.json::<WorkflowsPage>()?.workflows);
            match answer.next_link() {
                Some(next) => url = next,
                None => break,
            }
        }
        let by = |f: &dyn Fn(&Workflow) -> bool| workflows.iter().position(f);
        let found = by(&|w| w.id.to_string() == key || w.file_name() == key || w.path == key)
            .or_else(|| by(&|w| w.name == key))
            .or_else(|| {
                let same: Vec<_> = workflows
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.name.eq_ignore_ascii_case(key))
                    .collect();
                (same.len() == 1).then(|| same[0].0)
            });
        match found {
            Some(i) => Ok(workflows.swap_remove(i)),
            None => Err(Error::WorkflowNotFound {
                repo: repo.to_string(),
                workflow: key.to_owned(),
                // Names are the repository's to choose: inert on a terminal.
                known: workflows
                    .iter()
                    .map(|w| {
                        let inert = |s: &str| s.chars().filter(|c| !c.is_control()).collect();
                        let (name, file): (String, String) = (inert(&w.name), inert(w.file_name()));
                        format!("`{name}` ({file})")
                    })
                    .collect(),
            }),
        }
    }

    /// Emits runs from `url` and every page after it. False once the receiver is gone.
    async fn emit_pages(
        &self,
        repo: &RepoName,
        mut url: String,
        tx: &mpsc::Sender<Result<Run>>,
        seen: &mut HashSet<u64>,
    ) -> Result<bool> {
        loop {
            let answer = self.runs_page(repo, &url).await?;
            let page: RunsPage = answer.json()?;
            if !self.send_runs(page.workflow_runs, tx, seen).await? {
                return Ok(false);
            }
            match answer.next_link() {
                Some(next) => url = next,
                None => return Ok(true),
            }
        }
    }

    async fn runs_page(&self, repo: &RepoName, url: &str) -> Result<crate::client::Answer> {
        let answer = self.get(url, true).await?;
        match answer.status {
            StatusCode::OK => Ok(answer),
            StatusCode::NOT_FOUND if answer.message() == "Not Found" => Err(Error::RepoNotFound {
                repo: repo.to_string(),
            }),
            _ => Err(answer.into_error()),
        }
    }

    /// Sends runs not seen before (pages shift while runs are created). False once the
    /// receiver is gone.
    async fn send_runs(
        &self,
        runs: Vec<Run>,
        tx: &mpsc::Sender<Result<Run>>,
        seen: &mut HashSet<u64>,
    ) -> Result<bool> {
        self.reporter().on_runs_listed(runs.len());
        for run in runs {
            if seen.insert(run.id) && tx.send(Ok(run)).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One run (its latest attempt).
    pub async fn run(&self, repo: &RepoName, run_id: u64) -> Result<Run> {
        let url = self.api().run(&repo.owner, &repo.name, run_id);
        let answer = self.get(url.as_str(), false).await?;
        match answer.status {
            StatusCode::OK => answer.json(),
            _ => Err(answer.into_error()),
        }
    }

    /// One attempt of a run, with that attempt's status, conclusion and start.
    pub async fn attempt(&self, repo: &RepoName, run_id: u64, attempt: u32) -> Result<Run> {
        let url = self
            .api()
            .attempt(&repo.owner, &repo.name, run_id, attempt, &[]);
        let answer = self.get(url.as_str(), false).await?;
        match answer.status {
            StatusCode::OK => answer.json(),
            _ => Err(answer.into_error()),
        }
    }

    /// Every job of an attempt, with its steps. For a partial re-run this includes the jobs
    /// carried over from earlier attempts (their `run_attempt` says where they ran).
    pub async fn jobs(&self, repo: &RepoName, run_id: u64, attempt: u32) -> Result<Vec<Job>> {
        let jobs_url = self
            .api()
            .attempt(&repo.owner, &repo.name, run_id, attempt, &["jobs"]);
        self.job_pages(with_query(&jobs_url, &[("per_page", "100".to_owned())]))
            .await
    }

    /// Every job of every attempt of a run, each once with the attempt it ran in, in one
    /// listing (`…/runs/{id}/jobs?filter=all`): for a run with several attempts to fetch, one
    /// listing instead of one per attempt. [`jobs_of_attempt`] picks an attempt's.
    pub async fn all_jobs(&self, repo: &RepoName, run_id: u64) -> Result<Vec<Job>> {
        let jobs_url = self.api().run_jobs(&repo.owner, &repo.name, run_id);
        let params = [("filter", "all".to_owned()), ("per_page", "100".to_owned())];
        self.job_pages(with_query(&jobs_url, &params)).await
    }

    async fn job_pages(&self, mut url: String) -> Result<Vec<Job>> {
        let mut jobs = Vec::new();
        loop {
            let answer = self.get(&url, false).await?;
            if answer.status != StatusCode::OK {
                return Err(answer.into_error());
            }
            jobs.extend(answer.json::<JobsPage>()?.jobs);
            match answer.next_link() {
                Some(next) => url = next,
                None => return Ok(jobs),
            }
        }
    }
}

/// The jobs an attempt's own listing has, from every attempt's ([`Client::all_jobs`]): those
/// that ran in it, and for a partial re-run those it kept from earlier attempts (by name, the
/// latest earlier one). `None` when a job does not say which attempt it ran in.
pub fn jobs_of_attempt(all: &[Job], attempt: u32) -> Option<Vec<Job>> {
    if all.iter().any(|job| job.run_attempt.is_none()) {
        return None;
    }
    let ran_in = |job: &Job| job.run_attempt.unwrap_or(0);
    let mut jobs: Vec<Job> = all
        .iter()
        .filter(|job| ran_in(job) == attempt)
        .cloned()
        .collect();
    let mut kept: Vec<&Job> = Vec::new();
    for job in all.iter().filter(|job| ran_in(job) < attempt) {
        if jobs.iter().any(|own| own.name == job.name) {
            continue;
        }
        match kept.iter_mut().find(|k| k.name == job.name) {
            Some(k) if ran_in(k) < ran_in(job) => *k = job,
            Some(_) => {}
            None => kept.push(job),
        }
    }
    jobs.extend(kept.into_iter().cloned());
    jobs.sort_by_key(|job| job.id);
    Some(jobs)
}

/// A `created` window in inclusive Unix seconds; `None` is an open end.
type Window = (Option<i64>, Option<i64>);

/// The `created` search qualifier for a window, if it bounds anything.
fn created_param(lo: Option<i64>, hi: Option<i64>) -> Option<String> {
    match (lo, hi) {
        (Some(lo), Some(hi)) => Some(format!("{}..{}", second(lo), second(hi))),
        (Some(lo), None) => Some(format!(">={}", second(lo))),
        (None, Some(hi)) => Some(format!("<={}", second(hi))),
        (None, None) => None,
    }
}

fn second(s: i64) -> String {
    Timestamp::from_second(s).map_or_else(|_| s.to_string(), |t| t.to_string())
}

/// `base?k=v&…`, each value percent-encoded as GitHub's search syntax needs (`+` would be a
/// space to it, so no form encoding).
fn with_query(base: &Url, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let mut url = base.clone();
    url.set_query(Some(&query.join("&")));
    url.into()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_widths_do_not_move_with_the_clock() {
        // A 60-day window split in 3, re-listed every few minutes over a day: one width.
        let day = 86_400;
        let widths: HashSet<i64> = (0..288)
            .map(|five_minutes| split_width(60 * day + five_minutes * 300, 3))
            .collect();
        assert_eq!(widths.len(), 1, "{widths:?}");
        let width = *widths.iter().next().unwrap();
        assert_eq!(width % 3_600, 0);
        assert!(((width / 3_600) as u64).is_power_of_two());
        assert!(width <= 60 * day / 3);
        // Below an hour, the split is exact: both bounds of such a window are fixed already.
        assert_eq!(split_width(3_000, 3), 1_000);
        assert_eq!(split_width(2, 4), 1);
    }

    #[test]
    fn query_values_are_encoded() {
        let url = with_query(
            &Url::parse("http://h/x").unwrap(),
            &[
                (
                    "created",
                    "2026-11-01T00:00:00Z..2026-11-02T00:00:00+07:00".into(),
                ),
                ("branch", "feat/a b".into()),
            ],
        );
        assert_eq!(
            url,
            "http://h/x?created=2026-11-01T00%3A00%3A00Z..2026-11-02T00%3A00%3A00%2B07%3A00&branch=feat%2Fa%20b"
        );
    }

    #[test]
    fn open_window_ends_stay_open() {
        let (a, b) = (1_763_337_600, 1_763_424_000);
        assert_eq!(
            created_param(Some(a), None).unwrap(),
            ">=2025-11-17T00:00:00Z"
        );
        assert_eq!(
            created_param(None, Some(b)).unwrap(),
            "<=2025-11-18T00:00:00Z"
        );
        assert_eq!(
            created_param(Some(a), Some(b)).unwrap(),
            "2025-11-17T00:00:00Z..2025-11-18T00:00:00Z"
        );
        assert_eq!(created_param(None, None), None);
    }

    #[test]
    fn only_search_parameters_cap_the_list() {
        assert!(!RunFilter::default().capped());
        assert!(
            !RunFilter {
                workflow: Some("ci.yml".into()),
                ..RunFilter::default()
            }
            .capped()
        );
        assert!(
            RunFilter {
                branch: Some("main".into()),
                ..RunFilter::default()
            }
            .capped()
        );
    }
}
