//! Failure intelligence over the index: what is new in a failed job.

use std::collections::HashSet;

use logidx_index::{
    Filter, Index, NamePattern, Query, RunAttempt, Selection, StepMeta, line_url, signature,
};

/// A failed job and the error lines its branch's last success of it did not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInFailure {
    /// The failed job's attempt.
    pub run: RunAttempt,
    /// The failed job's id.
    pub job_id: u64,
    /// Its name.
    pub job_name: String,
    /// The attempt and job id of the success it is compared with, if there is one.
    pub baseline: Option<(RunAttempt, u64)>,
    /// Error lines whose signature the baseline lacks (every error line without a baseline).
    pub lines: Vec<NewLine>,
}

/// An error line of a failed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// Its step.
    pub step: StepMeta,
    /// 1-based in the step.
    pub line_number: u32,
    /// When it was written.
    pub timestamp: jiff::Timestamp,
    /// The text.
    pub text: String,
    /// Its web page.
    pub url: String,
}

/// Branches a failed job is compared on when its own branch has no success of it: the usual
/// default branches (the index does not know a repository's).
pub(crate) const DEFAULT_BRANCHES: [&str; 2] = ["main", "master"];

/// For each failed job of an attempt (the latest indexed one unless `attempt` is given; only
/// the jobs `job` names, as [`NamePattern::job`] matches them, when given): its error lines whose signatures do
/// not appear in the last successful run of the same job and workflow on the same branch, or
/// else on `main` or `master`.
pub fn new_in_failures(
    index: &Index,
    repo: &str,
    run_id: u64,
    attempt: Option<u32>,
    job: Option<&str>,
    web_base: &str,
) -> logidx_index::Result<Vec<NewInFailure>> {
    let mut steps = index.show(&Selection {
        repo: repo.to_owned(),
        run_id,
        run_attempt: attempt,
        job_id: None,
        step_number: None,
    })?;
    let latest = steps.iter().map(|s| s.run.run_attempt).max();
    steps.retain(|s| Some(s.run.run_attempt) == latest);
    steps.retain(|s| {
        s.step.job_conclusion == "failure"
            && job.is_none_or(|j| NamePattern::job(j).matches(s.step.job_id, &s.step.job_name))
    });
    let mut failures: Vec<NewInFailure> = Vec::new();
    // The baseline's signatures, one set per failure.
    let mut seen: Vec<HashSet<u64>> = Vec::new();
    for step in steps {
        let known = failures.iter().position(|f| f.job_id == step.step.job_id);
        let at = match known {
            Some(at) => at,
            None => {
                let baseline = last_success(index, &step.run, &step.step.job_name)?;
                seen.push(match &baseline {
                    Some((run, job_id)) => signatures_of(index, run, *job_id)?,
                    None => HashSet::new(),
                });
                failures.push(NewInFailure {
                    run: step.run.clone(),
                    job_id: step.step.job_id,
                    job_name: step.step.job_name.clone(),
                    baseline,
                    lines: Vec::new(),
                });
                failures.len() - 1
            }
        };
        for (i, line) in step.lines.iter().enumerate() {
            let Some(sig) = signature(&line.text) else {
                continue;
            };
            if seen[at].contains(&sig) {
                continue;
            }
            let line_number = i as u32 + 1;
            failures[at].lines.push(NewLine {
                url: line_url(web_base, &step.run, &step.step, line_number),
                step: step.step.clone(),
                line_number,
                timestamp: line.timestamp,
                text: line.text.clone(),
            });
        }
    }
    Ok(failures)
}

/// The newest attempt, created before `run`, in which job `job_name` of the same workflow
/// succeeded: on `run`'s branch, else on a default branch.
fn last_success(
    index: &Index,
    run: &RunAttempt,
    job_name: &str,
) -> logidx_index::Result<Option<(RunAttempt, u64)>> {
    let branches = std::iter::once(run.head_branch.as_str()).chain(
        DEFAULT_BRANCHES
            .into_iter()
            .filter(|b| *b != run.head_branch),
    );
    for branch in branches {
        let query = Query::default()
            .filter(Filter::Repo(run.repo.clone()))
            .filter(Filter::Workflow(run.workflow_name.clone()))
            .filter(Filter::Job(job_name.to_owned()))
            .filter(Filter::Conclusion("success".to_owned()))
            .filter(Filter::Branch(branch.to_owned()))
            .until(run.run_created_at)
            .limit(1);
        if let Some(hit) = index.search(&query)?.pop() {
            return Ok(Some((hit.run, hit.step.job_id)));
        }
    }
    Ok(None)
}

/// The error signatures of one job of one attempt.
fn signatures_of(
    index: &Index,
    run: &RunAttempt,
    job_id: u64,
) -> logidx_index::Result<HashSet<u64>> {
    let steps = index.show(&Selection {
        repo: run.repo.clone(),
        run_id: run.run_id,
        run_attempt: Some(run.run_attempt),
        job_id: Some(job_id),
        step_number: None,
    })?;
    Ok(steps
        .iter()
        .flat_map(|s| &s.lines)
        .filter_map(|line| signature(&line.text))
        .collect())
}

/// A job that both failed and passed on the same commit: the signature of a flaky job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakyJob {
    /// `owner/name`.
    pub repo: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The job's name.
    pub job_name: String,
    /// Commits it ran on.
    pub commits: u64,
    /// Commits on which it both failed and passed.
    pub flaky_commits: u64,
    /// Runs in which a failed attempt of it was followed by a passing one.
    pub passed_on_rerun: u64,
    /// The latest failed attempt on a flaky commit.
    pub last_flake: RunAttempt,
    /// The failed job's id in that attempt.
    pub last_flake_job_id: u64,
    /// The error signatures of its failed attempts on flaky commits, the most frequent
    /// first, as (example line, occurrences).
    pub signatures: Vec<(String, u64)>,
}

impl FlakyJob {
    /// Flaky commits per commit run on.
    pub fn flake_rate(&self) -> f64 {
        self.flaky_commits as f64 / self.commits.max(1) as f64
    }
}

/// One job's outcomes on one commit.
#[derive(Default)]
struct OnCommit {
    passed: bool,
    failed: Vec<(RunAttempt, u64)>,
    /// Runs in which it passed, in some attempt.
    passed_in_runs: HashSet<u64>,
}

/// Which runs and jobs [`flaky_jobs`] looks at; `None` is no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlakyFilter {
    /// `owner/name`.
    pub repo: Option<String>,
    /// Runs created since.
    pub since: Option<jiff::Timestamp>,
    /// Runs of this branch.
    pub branch: Option<String>,
    /// Runs of this workflow: its name, or its file (`ci.yml` or the whole path), in any case.
    pub workflow: Option<String>,
    /// This job, by name in any case.
    pub job: Option<String>,
}

impl FlakyFilter {
    fn passes(&self, run: &RunAttempt) -> bool {
        let workflow = |w: &str| {
            let path = run.workflow_path.to_ascii_lowercase();
            let w = w.to_ascii_lowercase();
            run.workflow_name.eq_ignore_ascii_case(&w)
                || path == w
                || path.rsplit('/').next() == Some(w.as_str())
        };
        self.since.is_none_or(|since| run.run_created_at >= since)
            && self.branch.as_ref().is_none_or(|b| run.head_branch == *b)
            && self.workflow.as_deref().is_none_or(workflow)
    }
}

/// Jobs (of `filter`'s runs) with both a failure and a success on one commit, the most flaky
/// first.
pub fn flaky_jobs(index: &Index, filter: &FlakyFilter) -> logidx_index::Result<Vec<FlakyJob>> {
    use std::collections::BTreeMap;

    use logidx_index::AttemptState;

    type Key = (String, String, String);
    let mut jobs: BTreeMap<Key, BTreeMap<String, OnCommit>> = BTreeMap::new();
    for record in index.attempts(filter.repo.as_deref())? {
        let run = record.attempt;
        if !filter.passes(&run) {
            continue;
        }
        let AttemptState::Indexed { jobs: outcomes, .. } = record.state else {
            continue;
        };
        for outcome in outcomes {
            if filter
                .job
                .as_ref()
                .is_some_and(|job| !outcome.job_name.eq_ignore_ascii_case(job))
            {
                continue;
            }
            let key = (
                run.repo.to_lowercase(),
                run.workflow_name.clone(),
                outcome.job_name.clone(),
            );
            let on = jobs
                .entry(key)
                .or_default()
                .entry(run.head_sha.clone())
                .or_default();
            match outcome.conclusion.as_str() {
                "success" => {
                    on.passed = true;
                    on.passed_in_runs.insert(run.run_id);
                }
                "failure" | "timed_out" => on.failed.push((run.clone(), outcome.job_id)),
                _ => {}
            }
        }
    }
    let mut flaky = Vec::new();
    for ((_, workflow_name, job_name), commits) in jobs {
        let flaky_failures: Vec<&(RunAttempt, u64)> = commits
            .values()
            .filter(|on| on.passed && !on.failed.is_empty())
            .flat_map(|on| &on.failed)
            .collect();
        let Some((last, last_job_id)) = flaky_failures
            .iter()
            .max_by_key(|(run, _)| (run.run_created_at, run.run_attempt))
            .map(|(run, job)| (run.clone(), *job))
        else {
            continue;
        };
        let passed_on_rerun = commits
            .values()
            .flat_map(|on| {
                on.failed
                    .iter()
                    .filter(|(run, _)| on.passed_in_runs.contains(&run.run_id))
                    .map(|(run, _)| run.run_id)
            })
            .collect::<HashSet<u64>>()
            .len() as u64;
        let mut query = Query::default()
            .filter(Filter::Repo(last.repo.clone()))
            .filter(Filter::Workflow(workflow_name.clone()))
            .filter(Filter::Job(job_name.clone()))
            .filter(Filter::Conclusion("failure".to_owned()));
        let runs: HashSet<u64> = flaky_failures.iter().map(|(run, _)| run.run_id).collect();
        for run in runs {
            query = query.filter(Filter::Run(run));
        }
        let signatures = index
            .errors(&query)?
            .into_iter()
            .map(|group| (group.last_seen.text, group.occurrences))
            .collect();
        flaky.push(FlakyJob {
            repo: last.repo.clone(),
            workflow_name,
            job_name,
            commits: commits.len() as u64,
            flaky_commits: commits
                .values()
                .filter(|on| on.passed && !on.failed.is_empty())
                .count() as u64,
            passed_on_rerun,
            last_flake: last,
            last_flake_job_id: last_job_id,
            signatures,
        });
    }
    flaky.sort_by(|a, b| {
        (b.flaky_commits, b.last_flake.run_created_at)
            .cmp(&(a.flaky_commits, a.last_flake.run_created_at))
    });
    Ok(flaky)
}
