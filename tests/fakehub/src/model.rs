//! The simulated world: repositories, workflows, runs, attempts, jobs and steps.
//!
//! Everything here is metadata, built eagerly from the seed (cheap even for thousands of runs).
//! Log text is produced lazily by [`crate::logs`] from each job's own seed, so memory does not
//! grow with the size of the corpus.

/// The languages whose CI output the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    /// cargo build and test, panics, `error[E…]`.
    Rust,
    /// pip and pytest, tracebacks, `ModuleNotFoundError`.
    Python,
    /// npm and jest, `npm ERR!`.
    Node,
    /// go test, `--- FAIL:`, `panic:`.
    Go,
}

/// How an archive names and splits its files (`docs/github.md` section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Whole-job files, per-step files, and the legacy `-2147483648_` prepare file;
    /// `/` and `:` removed from names (the older log service).
    JobAndSteps,
    /// Whole-job files and `system.txt` only: steps must be inferred.
    JobOnly,
    /// The newer log service: `_` for disallowed characters, whole-job and per-step files.
    Underscored,
}

/// How the results service broke one attempt's archive for one job of it (`docs/github.md`
/// section 10). The per-job log endpoint still serves that job's whole log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveBreak {
    /// The job's files are left out: its whole-job file, its step files and `system.txt`.
    Missing(u64),
    /// The job's files are named so that they match no job under either service's rules
    /// ([`crate::misnamed_part`]), as when a service changes how it writes names.
    Misnamed(u64),
    /// The job's log is there under both services' names, with different contents (cli/cli#10768):
    /// whole as `N_<job>.txt` (the newer service) and cut short, its first half of lines, as
    /// `-2147483648_<job>.txt` (the older service, which stopped partway).
    BothServices(u64),
}

impl ArchiveBreak {
    /// The job it breaks.
    pub fn job(self) -> u64 {
        match self {
            ArchiveBreak::Missing(job)
            | ArchiveBreak::Misnamed(job)
            | ArchiveBreak::BothServices(job) => job,
        }
    }
}

/// A run's, attempt's, job's or step's status as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a runner.
    Queued,
    /// Running.
    InProgress,
    /// Done; see the conclusion.
    Completed,
}

impl Status {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
        }
    }
}

/// A completed item's conclusion as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Cancelled by a user or a concurrency group.
    Cancelled,
    /// Not run (`if:` was false, or an earlier step failed).
    Skipped,
}

impl Conclusion {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
        }
    }
}

/// One repository and everything that ran in it.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Numeric id.
    pub id: u64,
    /// `owner` of `owner/name`.
    pub owner: String,
    /// `name` of `owner/name`.
    pub name: String,
    /// The branch pushes go to.
    pub default_branch: String,
    /// The repository's main language.
    pub ecosystem: Ecosystem,
    /// Its workflows, by index.
    pub workflows: Vec<Workflow>,
    /// Its runs, oldest first (ids ascending).
    pub runs: Vec<Run>,
    /// Archived: read-only, its runs still listed.
    pub archived: bool,
    /// A fork of another repository.
    pub fork: bool,
    /// Whether it uses GitHub Actions.
    pub actions: Actions,
}

/// Whether a repository uses GitHub Actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actions {
    /// It has workflows and runs.
    Enabled,
    /// Actions is disabled: its `actions/…` endpoints answer 404.
    Disabled,
    /// Enabled but unused: no workflows, no runs.
    Unused,
}

impl Repo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The run with this id.
    pub fn run(&self, id: u64) -> Option<&Run> {
        self.runs
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &self.runs[i])
    }

    /// The run with this id, mutably.
    pub fn run_mut(&mut self, id: u64) -> Option<&mut Run> {
        let i = self.runs.binary_search_by_key(&id, |r| r.id).ok()?;
        Some(&mut self.runs[i])
    }

    /// The job with this id, with its run.
    pub fn job(&self, id: u64) -> Option<(&Run, &Job)> {
        self.runs.iter().find_map(|run| {
            run.attempts
                .iter()
                .flat_map(|a| a.jobs.iter())
                .find(|j| j.id == id)
                .map(|j| (run, j))
        })
    }
}

/// A workflow file.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Numeric id.
    pub id: u64,
    /// Display name (`CI`).
    pub name: String,
    /// `.github/workflows/ci.yml`.
    pub path: String,
    /// The events that trigger it.
    pub events: Vec<&'static str>,
    /// The jobs each run of it has.
    pub jobs: Vec<JobSpec>,
}

impl Workflow {
    /// The file name (`ci.yml`), which the API accepts in place of the id.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A job of a workflow, as its runs instantiate it.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The job's key in the workflow file (`test`), used by the legacy prepare file.
    pub key: String,
    /// The display name (`test (ubuntu-24.04, stable)`, `docs / build`).
    pub name: String,
    /// The steps, in order; post steps and "Complete job" included.
    pub steps: Vec<StepSpec>,
    /// Only runs on pushes (skipped on pull requests and schedules).
    pub push_only: bool,
}

/// What a step does, which decides the log it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// "Set up job": the runner preamble.
    SetUp,
    /// `actions/checkout`.
    Checkout,
    /// Another action (`Swatinem/rust-cache@v2`).
    Action(String),
    /// A `run:` script.
    Script(Script),
    /// A step whose `if:` is false: in the API as skipped, no log.
    Conditional,
    /// `Post <action>`.
    Post(String),
    /// "Complete job".
    Complete,
}

/// The role of a script step, which picks its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Dependency installation.
    Install,
    /// Compilation.
    Build,
    /// Tests: where most failures happen.
    Test,
    /// Linters.
    Lint,
}

/// A step of a job spec.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// Display name (`Run actions/checkout@v4`).
    pub name: String,
    /// What it does.
    pub kind: StepKind,
    /// For scripts: the command shown in `##[group]Run …`.
    pub command: String,
}

/// A workflow run with all its attempts.
#[derive(Debug, Clone)]
pub struct Run {
    /// Numeric id.
    pub id: u64,
    /// Index into [`Repo::workflows`].
    pub workflow: usize,
    /// Per-workflow counter.
    pub run_number: u64,
    /// `push`, `pull_request`, `schedule`.
    pub event: &'static str,
    /// Branch.
    pub head_branch: String,
    /// Commit.
    pub head_sha: String,
    /// Commit message, for `display_title` and `head_commit`.
    pub title: String,
    /// Who triggered it.
    pub actor: String,
    /// When it was created.
    pub created_at: i64,
    /// How its archives are laid out.
    pub layout: Layout,
    /// Attempts, `run_attempt` 1.. in order.
    pub attempts: Vec<Attempt>,
}

impl Run {
    /// The latest attempt, whose status and conclusion the run reports.
    pub fn latest(&self) -> &Attempt {
        self.attempts
            .last()
            .expect("a run has at least one attempt")
    }

    /// Whether attempt 2 re-ran only some jobs and carried the others over from attempt 1.
    pub fn is_partial_rerun(&self) -> bool {
        self.attempts
            .get(1)
            .is_some_and(|a| a.jobs.iter().any(|j| j.run_attempt == 1))
    }

    /// Attempt `n` (1-based).
    pub fn attempt(&self, n: u32) -> Option<&Attempt> {
        self.attempts.get(usize::try_from(n).ok()?.checked_sub(1)?)
    }
}

/// One attempt of a run.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    /// Status.
    pub status: Status,
    /// Set once completed.
    pub conclusion: Option<Conclusion>,
    /// When it started.
    pub started_at: i64,
    /// When it completed, in simulated time.
    pub completed_at: Option<i64>,
    /// The jobs the API lists for this attempt: those that ran in it, and, for a partial
    /// re-run, those carried over from earlier attempts (with their own `run_attempt`).
    pub jobs: Vec<Job>,
}

impl Attempt {
    /// Jobs that ran in this attempt and so are in its archive (skipped jobs have no log).
    pub fn archived_jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(move |j| {
            j.run_attempt == self.number && j.conclusion != Some(Conclusion::Skipped)
        })
    }
}

/// A failure the generator planted, so tests know what to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planted {
    /// Stable name of the failure mode (`rust-roundtrip-panic`).
    pub mode: &'static str,
    /// Fails on one attempt and passes when re-run.
    pub flaky: bool,
}

/// One job of one attempt.
#[derive(Debug, Clone)]
pub struct Job {
    /// Numeric id.
    pub id: u64,
    /// The attempt it ran in.
    pub run_attempt: u32,
    /// Index into the workflow's [`Workflow::jobs`].
    pub spec: usize,
    /// Display name.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Set once completed.
    pub conclusion: Option<Conclusion>,
    /// When it started.
    pub started_at: i64,
    /// When it completed.
    pub completed_at: Option<i64>,
    /// Runner name.
    pub runner_name: String,
    /// The steps with their times and outcomes.
    pub steps: Vec<Step>,
    /// The failure it hit, if any.
    pub planted: Option<Planted>,
    /// Seed of its log text.
    pub log_seed: u64,
    /// Its log files use CRLF line ends.
    pub crlf: bool,
    /// Its log files start with a UTF-8 BOM (and carry one at page rolls).
    pub bom: bool,
    /// Step times are written `2020-01-20T09:42:40.000-08:00` as in GitHub's docs example.
    pub offset_times: bool,
}

/// One step of one job, with its time window in log ticks.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its `number`; numbers skip.
    pub number: u32,
    /// Index into the job spec's steps.
    pub spec: usize,
    /// Display name.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Set once completed.
    pub conclusion: Option<Conclusion>,
    /// Whole second it started (`None` when it never ran).
    pub started_at: Option<i64>,
    /// Whole second it ended.
    pub completed_at: Option<i64>,
    /// Whether it wrote a log (skipped steps don't).
    pub has_log: bool,
}
