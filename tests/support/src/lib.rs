//! What logidx's tests and benches share: the run attempts and steps tests write, fakehub's
//! generated logs as extract would hand them over ([`Corpus`]), and raw tantivy with one
//! document per line, the baseline the index is checked and measured against ([`PerLine`]).

#![warn(missing_docs)]

mod corpus;
mod per_line;

pub use corpus::Corpus;
pub use per_line::PerLine;

use logidx_index::{RunAttempt, StepMeta};

/// An attempt of workflow `CI` (`.github/workflows/ci.yml`) on `main`, pushed by `octocat` at
/// the Unix epoch, with run number `run_id` and a commit of zeros.
pub fn attempt(repo: &str, run_id: u64, run_attempt: u32) -> RunAttempt {
    RunAttempt {
        repo: repo.to_owned(),
        run_id,
        run_attempt,
        run_number: run_id,
        workflow_name: "CI".to_owned(),
        workflow_path: ".github/workflows/ci.yml".to_owned(),
        event: "push".to_owned(),
        head_branch: "main".to_owned(),
        head_sha: "0".repeat(40),
        actor: "octocat".to_owned(),
        run_created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// Step `step_number` (`Run tests`) of job `job_id` (`test`), both successful.
pub fn step_meta(job_id: u64, step_number: u32) -> StepMeta {
    StepMeta {
        job_id,
        job_name: "test".to_owned(),
        job_conclusion: "success".to_owned(),
        step_number,
        step_name: "Run tests".to_owned(),
        step_conclusion: "success".to_owned(),
    }
}
