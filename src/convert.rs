//! The one place where fetch's API objects become extract's inputs and extract's lines become
//! the index's steps.

use jiff::Timestamp;
use logidx_extract::{Batch, JobInfo, PartInfo, Section, StepInfo};
use logidx_fetch::{Job, RepoName, Run};
use logidx_index::{RunAttempt, StepMeta};

/// The step number of a job's lines outside its API steps (preamble, `system.txt`, a
/// whole-job log of a job the API lists no steps for, a file that matches no job). GitHub
/// numbers steps from 1, so it never collides with one; its URL is the job's page.
pub const OUTSIDE_STEPS: u32 = 0;

/// The index's metadata of attempt `attempt` of `run`.
pub(crate) fn run_attempt(repo: &RepoName, run: &Run, attempt: u32) -> RunAttempt {
    RunAttempt {
        repo: repo.to_string(),
        run_id: run.id,
        run_attempt: attempt,
        run_number: run.run_number,
        workflow_name: run.name.clone().unwrap_or_default(),
        workflow_path: run.path.clone().unwrap_or_default(),
        event: run.event.clone(),
        head_branch: run.head_branch.clone().unwrap_or_default(),
        head_sha: run.head_sha.clone(),
        actor: run
            .actor
            .as_ref()
            .map(|a| a.login.clone())
            .unwrap_or_default(),
        run_created_at: run.created_at,
    }
}

/// What extract needs of the jobs API's answer.
pub(crate) fn job_infos(jobs: &[Job]) -> Vec<JobInfo> {
    jobs.iter()
        .map(|job| JobInfo {
            id: job.id,
            name: job.name.clone(),
            steps: job
                .steps
                .iter()
                .map(|step| StepInfo {
                    number: step.number,
                    name: step.name.clone(),
                    started_at: step.started_at,
                    completed_at: step.completed_at,
                    conclusion: step.conclusion.clone(),
                })
                .collect(),
        })
        .collect()
}

/// The index's step of a part of an extracted attempt, named from the API's jobs.
pub(crate) fn step_meta_of(part: &PartInfo, jobs: &[Job]) -> StepMeta {
    let job = part.job_id.and_then(|id| jobs.iter().find(|j| j.id == id));
    step_meta(part.section, &part.entry, job)
}

/// A batch's lines as the index takes them, lent from extract's buffers, not copied.
///
/// Lines before the first timestamp of their part (rare: a file starting with continuation
/// lines) take `fallback`: the part's first timestamp if its first batch has one, else the
/// run's creation time, so that time filters and ordering keep working.
pub(crate) fn batch_lines(
    batch: &Batch,
    fallback: Timestamp,
) -> impl Iterator<Item = (Timestamp, &str)> {
    batch
        .lines()
        .map(move |line| (line.timestamp.unwrap_or(fallback), line.text))
}

/// The timestamp of a part's lines before its first: see [`batch_lines`].
pub(crate) fn fallback_time(first_batch: &Batch, run_created_at: Timestamp) -> Timestamp {
    first_batch
        .lines()
        .find_map(|line| line.timestamp)
        .unwrap_or(run_created_at)
}

fn step_meta(section: Section, entry: &str, job: Option<&Job>) -> StepMeta {
    let api_step = |number| job.and_then(|j| j.steps.iter().find(|s| s.number == number));
    let (step_number, step_name, step_conclusion) = match section {
        Section::Step(number) => {
            let step = api_step(number);
            (
                number,
                step.map_or_else(String::new, |s| s.name.clone()),
                step.and_then(|s| s.conclusion.clone()).unwrap_or_default(),
            )
        }
        Section::Preamble => (OUTSIDE_STEPS, "Job preamble".to_owned(), String::new()),
        Section::Unattributed => (OUTSIDE_STEPS, "Job log".to_owned(), String::new()),
        Section::System => (OUTSIDE_STEPS, "system.txt".to_owned(), String::new()),
        Section::File => (OUTSIDE_STEPS, entry.to_owned(), String::new()),
    };
    StepMeta {
        job_id: job.map_or(0, |j| j.id),
        job_name: job.map_or_else(|| entry.to_owned(), |j| j.name.clone()),
        job_conclusion: job.and_then(|j| j.conclusion.clone()).unwrap_or_default(),
        step_number,
        step_name,
        step_conclusion,
    }
}
