//! What the caller hands over: an attempt's archive, its key, and its jobs from the jobs API.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which run attempt an archive belongs to; every error names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArchiveId {
    /// The run's id.
    pub run_id: u64,
    /// The attempt's number, 1-based.
    pub attempt: u32,
}

/// An archive to extract: its bytes or file, and the jobs the API lists for its attempt.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The attempt.
    pub id: ArchiveId,
    /// The attempt's jobs from the API, including those carried over from earlier attempts.
    pub jobs: Vec<JobInfo>,
    /// Where the zip is.
    pub source: Source,
}

/// Where an archive's bytes are.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Source {
    /// In memory.
    Bytes(Arc<[u8]>),
    /// In a file, read whole.
    File(PathBuf),
}

/// One job of the attempt as the jobs API lists it (field names as in the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The job's id.
    pub id: u64,
    /// Its display name, as the API gives it (not sanitised).
    pub name: String,
    /// Its steps; order does not matter, numbers do.
    #[serde(default)]
    pub steps: Vec<StepInfo>,
}

/// One step of a job as the jobs API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInfo {
    /// The step's `number`; numbers can skip.
    pub number: u32,
    /// Its display name.
    pub name: String,
    /// When it started, in whole seconds (a hint: times can be inconsistent).
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    /// When it completed, in whole seconds.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    /// `success`, `failure`, `cancelled`, `skipped`…; skipped steps write no log.
    #[serde(default)]
    pub conclusion: Option<String>,
}

impl StepInfo {
    /// Whether the step can have written lines: it started and was not skipped.
    pub(crate) fn may_have_log(&self) -> bool {
        self.conclusion.as_deref() != Some("skipped")
    }
}
