//! The JSON a steps-index document keeps in `meta`, in serde types of the index's own: renaming
//! a field of the public model must not change the bytes on disk.
//!
//! A step's `meta` is a [`StepDocument`], an attempt record's a [`Record`]. Each stored type is
//! made from its public type by reference (borrowing its text) and turned back with
//! `into_public`, here and nowhere else.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::model::{AttemptRecord, AttemptState, JobOutcome, RunAttempt, StepMeta};
use crate::time;

/// A [`RunAttempt`] as stored.
#[derive(Serialize, Deserialize)]
pub(crate) struct Attempt<'a> {
    repo: Cow<'a, str>,
    run_id: u64,
    run_attempt: u32,
    run_number: u64,
    workflow_name: Cow<'a, str>,
    workflow_path: Cow<'a, str>,
    event: Cow<'a, str>,
    head_branch: Cow<'a, str>,
    head_sha: Cow<'a, str>,
    actor: Cow<'a, str>,
    /// Nanoseconds since the Unix epoch.
    run_created_at: i64,
}

impl<'a> From<&'a RunAttempt> for Attempt<'a> {
    fn from(attempt: &'a RunAttempt) -> Attempt<'a> {
        Attempt {
            repo: Cow::Borrowed(&attempt.repo),
            run_id: attempt.run_id,
            run_attempt: attempt.run_attempt,
            run_number: attempt.run_number,
            workflow_name: Cow::Borrowed(&attempt.workflow_name),
            workflow_path: Cow::Borrowed(&attempt.workflow_path),
            event: Cow::Borrowed(&attempt.event),
            head_branch: Cow::Borrowed(&attempt.head_branch),
            head_sha: Cow::Borrowed(&attempt.head_sha),
            actor: Cow::Borrowed(&attempt.actor),
            run_created_at: time::to_nanos(attempt.run_created_at),
        }
    }
}

impl Attempt<'_> {
    pub(crate) fn into_public(self) -> RunAttempt {
        RunAttempt {
            repo: self.repo.into_owned(),
            run_id: self.run_id,
            run_attempt: self.run_attempt,
            run_number: self.run_number,
            workflow_name: self.workflow_name.into_owned(),
            workflow_path: self.workflow_path.into_owned(),
            event: self.event.into_owned(),
            head_branch: self.head_branch.into_owned(),
            head_sha: self.head_sha.into_owned(),
            actor: self.actor.into_owned(),
            run_created_at: time::from_nanos(self.run_created_at),
        }
    }
}

/// A [`StepMeta`] as stored.
#[derive(Serialize, Deserialize)]
pub(crate) struct Step<'a> {
    job_id: u64,
    job_name: Cow<'a, str>,
    job_conclusion: Cow<'a, str>,
    step_number: u32,
    step_name: Cow<'a, str>,
    step_conclusion: Cow<'a, str>,
}

impl<'a> From<&'a StepMeta> for Step<'a> {
    fn from(step: &'a StepMeta) -> Step<'a> {
        Step {
            job_id: step.job_id,
            job_name: Cow::Borrowed(&step.job_name),
            job_conclusion: Cow::Borrowed(&step.job_conclusion),
            step_number: step.step_number,
            step_name: Cow::Borrowed(&step.step_name),
            step_conclusion: Cow::Borrowed(&step.step_conclusion),
        }
    }
}

impl Step<'_> {
    pub(crate) fn into_public(self) -> StepMeta {
        StepMeta {
            job_id: self.job_id,
            job_name: self.job_name.into_owned(),
            job_conclusion: self.job_conclusion.into_owned(),
            step_number: self.step_number,
            step_name: self.step_name.into_owned(),
            step_conclusion: self.step_conclusion.into_owned(),
        }
    }
}

/// A step document's `meta`: its attempt, then its job and step. The writer gives `attempt` as
/// the attempt's JSON, made once for all its steps ([`serde_json::value::RawValue`]); readers
/// decode it as an [`Attempt`].
#[derive(Serialize, Deserialize)]
pub(crate) struct StepDocument<'a, A> {
    pub(crate) attempt: A,
    pub(crate) step: Step<'a>,
}

/// A step document's `meta` read back, in the public types readers hand out.
#[derive(Deserialize)]
#[serde(from = "StepDocument<'static, Attempt<'static>>")]
pub(crate) struct StoredStep {
    pub(crate) attempt: RunAttempt,
    pub(crate) step: StepMeta,
}

impl From<StepDocument<'_, Attempt<'_>>> for StoredStep {
    fn from(stored: StepDocument<'_, Attempt<'_>>) -> StoredStep {
        StoredStep {
            attempt: stored.attempt.into_public(),
            step: stored.step.into_public(),
        }
    }
}

/// A [`JobOutcome`] as stored.
#[derive(Serialize, Deserialize)]
pub(crate) struct Job<'a> {
    job_id: u64,
    job_name: Cow<'a, str>,
    conclusion: Cow<'a, str>,
}

impl<'a> From<&'a JobOutcome> for Job<'a> {
    fn from(job: &'a JobOutcome) -> Job<'a> {
        Job {
            job_id: job.job_id,
            job_name: Cow::Borrowed(&job.job_name),
            conclusion: Cow::Borrowed(&job.conclusion),
        }
    }
}

impl Job<'_> {
    pub(crate) fn into_public(self) -> JobOutcome {
        JobOutcome {
            job_id: self.job_id,
            job_name: self.job_name.into_owned(),
            conclusion: self.conclusion.into_owned(),
        }
    }
}

/// An [`AttemptState`] as stored: tagged by `state`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum State<'a> {
    Indexed {
        steps: u64,
        lines: u64,
        jobs: Vec<Job<'a>>,
    },
    Gone {
        reason: Cow<'a, str>,
    },
    Failed {
        reason: Cow<'a, str>,
        syncs: u32,
    },
    NotFound {
        since: i64,
        syncs: u32,
    },
}

impl<'a> From<&'a AttemptState> for State<'a> {
    fn from(state: &'a AttemptState) -> State<'a> {
        match state {
            AttemptState::Indexed { steps, lines, jobs } => State::Indexed {
                steps: *steps,
                lines: *lines,
                jobs: jobs.iter().map(Job::from).collect(),
            },
            AttemptState::Gone { reason } => State::Gone {
                reason: Cow::Borrowed(reason),
            },
            AttemptState::Failed { reason, syncs } => State::Failed {
                reason: Cow::Borrowed(reason),
                syncs: *syncs,
            },
            AttemptState::NotFound { since, syncs } => State::NotFound {
                since: crate::time::to_nanos(*since),
                syncs: *syncs,
            },
        }
    }
}

impl State<'_> {
    pub(crate) fn into_public(self) -> AttemptState {
        match self {
            State::Indexed { steps, lines, jobs } => AttemptState::Indexed {
                steps,
                lines,
                jobs: jobs.into_iter().map(Job::into_public).collect(),
            },
            State::Gone { reason } => AttemptState::Gone {
                reason: reason.into_owned(),
            },
            State::Failed { reason, syncs } => AttemptState::Failed {
                reason: reason.into_owned(),
                syncs,
            },
            State::NotFound { since, syncs } => AttemptState::NotFound {
                since: crate::time::from_nanos(since),
                syncs,
            },
        }
    }
}

/// An [`AttemptRecord`] as stored: an attempt record's `meta`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Record<'a> {
    attempt: Attempt<'a>,
    state: State<'a>,
}

impl<'a> From<&'a AttemptRecord> for Record<'a> {
    fn from(record: &'a AttemptRecord) -> Record<'a> {
        Record {
            attempt: Attempt::from(&record.attempt),
            state: State::from(&record.state),
        }
    }
}

impl Record<'_> {
    pub(crate) fn into_public(self) -> AttemptRecord {
        AttemptRecord {
            attempt: self.attempt.into_public(),
            state: self.state.into_public(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::Value;
    use tantivy::{DocAddress, TantivyDocument};

    use super::*;
    use crate::index::Index;
    use crate::writer::tests::{attempt, step};

    #[test]
    fn a_step_written_with_its_attempt_s_json_reads_back() {
        let attempt = attempt(7);
        let step = step(&[]).meta;
        let json = serde_json::to_string(&StepDocument {
            attempt: &*serde_json::value::to_raw_value(&Attempt::from(&attempt)).unwrap(),
            step: Step::from(&step),
        })
        .unwrap();
        let read: StoredStep = serde_json::from_str(&json).unwrap();
        assert_eq!((read.attempt, read.step), (attempt, step));
    }

    #[test]
    fn a_record_of_each_state_reads_back() {
        let jobs = vec![JobOutcome {
            job_id: 1,
            job_name: "test".to_owned(),
            conclusion: "success".to_owned(),
        }];
        for state in [
            AttemptState::Indexed {
                steps: 2,
                lines: 3,
                jobs,
            },
            AttemptState::Gone {
                reason: "expired".to_owned(),
            },
            AttemptState::Failed {
                reason: "timed out".to_owned(),
                syncs: 2,
            },
            AttemptState::NotFound {
                since: crate::time::from_nanos(1_700_000_000_000_000_000),
                syncs: 2,
            },
        ] {
            let record = AttemptRecord {
                attempt: attempt(7),
                state,
            };
            let json = serde_json::to_string(&Record::from(&record)).unwrap();
            let read: Record = serde_json::from_str(&json).unwrap();
            assert_eq!(read.into_public(), record);
        }
    }

    /// The `meta` JSON of every live document, sorted.
    fn stored_metas(index: &Index) -> Vec<String> {
        let (_, steps) = index.searchers();
        let mut metas = Vec::new();
        for (ordinal, segment) in steps.segment_readers().iter().enumerate() {
            for doc in segment.doc_ids_alive() {
                let doc: TantivyDocument = steps.doc(DocAddress::new(ordinal as u32, doc)).unwrap();
                let meta = doc.get_first(index.step_fields.meta).unwrap();
                metas.push(meta.as_str().unwrap().to_owned());
            }
        }
        metas.sort();
        metas
    }

    /// The bytes on disk of an attempt's steps and records, whatever the public types become.
    #[test]
    fn the_stored_form_keeps_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        let mut first = attempt(42);
        first.run_created_at = time::from_nanos(1_700_000_000_123_456_700);
        let mut second = step(&["b"]);
        second.meta = StepMeta {
            job_id: 2,
            job_name: "lint".to_owned(),
            job_conclusion: "failure".to_owned(),
            step_number: 3,
            step_name: "Run clippy".to_owned(),
            step_conclusion: String::new(),
        };
        writer.add_attempt(&first, &[step(&["a"]), second]).unwrap();
        let mut gone = first.clone();
        gone.run_attempt = 2;
        let reason = "expired".to_owned();
        writer
            .mark_attempt(&gone, AttemptState::Gone { reason })
            .unwrap();
        let mut failed = first.clone();
        failed.run_attempt = 3;
        let reason = "not a zip".to_owned();
        writer
            .mark_attempt(&failed, AttemptState::Failed { reason, syncs: 2 })
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        let attempt = |n: u32| {
            format!(
                r#"{{"repo":"acme/widgets","run_id":42,"run_attempt":{n},"run_number":42,"workflow_name":"CI","workflow_path":".github/workflows/ci.yml","event":"push","head_branch":"main","head_sha":"0000000000000000000000000000000000000000","actor":"octocat","run_created_at":1700000000123456700}}"#
            )
        };
        let expected = [
            format!(
                r#"{{"attempt":{},"state":{{"state":"indexed","steps":2,"lines":2,"jobs":[{{"job_id":1,"job_name":"test","conclusion":"success"}},{{"job_id":2,"job_name":"lint","conclusion":"failure"}}]}}}}"#,
                attempt(1)
            ),
            format!(
                r#"{{"attempt":{},"step":{{"job_id":1,"job_name":"test","job_conclusion":"success","step_number":1,"step_name":"Run tests","step_conclusion":"success"}}}}"#,
                attempt(1)
            ),
            format!(
                r#"{{"attempt":{},"step":{{"job_id":2,"job_name":"lint","job_conclusion":"failure","step_number":3,"step_name":"Run clippy","step_conclusion":""}}}}"#,
                attempt(1)
            ),
            format!(
                r#"{{"attempt":{},"state":{{"state":"gone","reason":"expired"}}}}"#,
                attempt(2)
            ),
            format!(
                r#"{{"attempt":{},"state":{{"state":"failed","reason":"not a zip","syncs":2}}}}"#,
                attempt(3)
            ),
        ];
        assert_eq!(stored_metas(&index), expected);
    }
}
