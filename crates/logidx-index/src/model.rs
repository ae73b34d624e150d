//! What the index takes in and gives back besides hits: run attempts, steps, lines, records.

use jiff::Timestamp;

/// One attempt of a workflow run: the metadata every line of it shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAttempt {
    /// `owner/name`.
    pub repo: String,
    /// The run's id.
    pub run_id: u64,
    /// 1-based attempt.
    pub run_attempt: u32,
    /// The per-workflow run counter.
    pub run_number: u64,
    /// The workflow's display name (`CI`).
    pub workflow_name: String,
    /// The workflow file (`.github/workflows/ci.yml`).
    pub workflow_path: String,
    /// The triggering event (`push`).
    pub event: String,
    /// The branch.
    pub head_branch: String,
    /// The commit.
    pub head_sha: String,
    /// Who triggered the run.
    pub actor: String,
    /// When the run was created.
    pub run_created_at: Timestamp,
}

/// The job and step a line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepMeta {
    /// The job's id.
    pub job_id: u64,
    /// The job's display name.
    pub job_name: String,
    /// The job's conclusion (`success`, `failure`, …; empty if unknown).
    pub job_conclusion: String,
    /// The step's `number`, as in the step's URL.
    pub step_number: u32,
    /// The step's name.
    pub step_name: String,
    /// The step's conclusion (empty if unknown).
    pub step_conclusion: String,
}

/// One line as extract produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When it was written.
    pub timestamp: Timestamp,
    /// Its text without timestamp, BOM, CR or ANSI codes; markers such as `##[error]` kept.
    pub text: String,
}

/// One step of an attempt with its lines in order; line `n` (1-based) is `lines[n - 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its job and step.
    pub meta: StepMeta,
    /// Its lines, in order.
    pub lines: Vec<Line>,
}

/// A step whose lines [`Writer::add_attempt`](crate::Writer::add_attempt) can read where they
/// are: a [`Step`], or a caller's own type over borrowed text.
pub trait StepSource {
    /// Its job and step.
    fn meta(&self) -> &StepMeta;
    /// Its lines in order, as (when written, text).
    fn lines(&self) -> impl Iterator<Item = (Timestamp, &str)>;
}

impl StepSource for Step {
    fn meta(&self) -> &StepMeta {
        &self.meta
    }

    fn lines(&self) -> impl Iterator<Item = (Timestamp, &str)> {
        self.lines.iter().map(|l| (l.timestamp, l.text.as_str()))
    }
}

/// What the index knows of an attempt: indexed, or why it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptState {
    /// Its steps are in the index.
    Indexed {
        /// Steps indexed.
        steps: u64,
        /// Lines indexed.
        lines: u64,
        /// The jobs with lines in it and how each ended (for flaky-job detection without
        /// reading steps).
        jobs: Vec<JobOutcome>,
    },
    /// Its logs are gone from GitHub (expired or deleted): nothing to fetch, ever.
    Gone {
        /// Why, as GitHub or the fetcher said.
        reason: String,
    },
    /// Its logs answered 404 (not 410) in `syncs` syncs, the first at `since`: expired or
    /// deleted, or missing only for a while. Asked for again until a sync takes it for gone.
    NotFound {
        /// When a sync first met the 404.
        since: Timestamp,
        /// Syncs that met it.
        syncs: u32,
    },
    /// Fetching or extracting it failed. A later sync tries again, until it has failed the
    /// same way in enough syncs in a row to be given up on (logidx's `GiveUpRule`), as a
    /// permanently corrupt archive does.
    Failed {
        /// The error.
        reason: String,
        /// Syncs in a row that failed with this `reason`, this one included.
        syncs: u32,
    },
}

/// How a job of an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    /// The job's id.
    pub job_id: u64,
    /// Its name.
    pub job_name: String,
    /// `success`, `failure`, … (empty if unknown).
    pub conclusion: String,
}

/// The record of an attempt, committed with its steps: the index's own account of what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The attempt.
    pub attempt: RunAttempt,
    /// Indexed, gone or failed.
    pub state: AttemptState,
}
