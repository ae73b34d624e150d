//! Showing whole steps: every line of a run, attempt, job or step.

use std::collections::HashMap;

use tantivy::query::{BooleanQuery, Occur};

use super::collect::{StepCollector, search};
use crate::error::Result;
use crate::index::Index;
use crate::model::{Line, RunAttempt, StepMeta};
use crate::schema::{KIND_STEP, keyword_query as term};
use crate::time::from_nanos;

/// What [`Index::show`] shows: a run, or one of its attempts, jobs or steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// One attempt, or all.
    pub run_attempt: Option<u32>,
    /// One job, or all.
    pub job_id: Option<u64>,
    /// One step (of the selected jobs), or all.
    pub step_number: Option<u32>,
}

/// A step with all its lines, from [`Index::show`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShownStep {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
    /// Every line, in order.
    pub lines: Vec<Line>,
}

impl Index {
    /// Every line of a run, attempt, job or step: steps ordered by attempt, job id and number.
    pub fn show(&self, selection: &Selection) -> Result<Vec<ShownStep>> {
        let (texts, steps) = self.searchers();
        let fields = &self.step_fields;
        let mut clauses = vec![
            term(fields.kind, KIND_STEP),
            term(fields.repo, &selection.repo),
            term(fields.run, &selection.run_id.to_string()),
        ];
        if let Some(attempt) = selection.run_attempt {
            clauses.push(term(fields.attempt, &attempt.to_string()));
        }
        if let Some(job) = selection.job_id {
            clauses.push(term(fields.job, &job.to_string()));
        }
        if let Some(step) = selection.step_number {
            clauses.push(term(fields.step, &step.to_string()));
        }
        let query = BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Must, q)).collect());
        let store = self.step_store(&steps)?;
        let mut shown = Vec::new();
        for found in search(&steps, &query, &StepCollector)? {
            let step = self.load_step(&store, found.address)?;
            // A step name equal to the number of another step also matched the term.
            if selection
                .step_number
                .is_some_and(|n| n != step.stored.step.step_number)
            {
                continue;
            }
            shown.push(step);
        }
        shown.sort_by_key(|s| {
            let (run, step) = (&s.stored.attempt, &s.stored.step);
            (run.run_attempt, step.job_id, step.step_number)
        });
        let texts_by_id: HashMap<u32, String> = self
            .read_texts(
                &texts,
                shown.iter().flat_map(|s| s.lines.iter().map(|l| l.text_id)),
            )?
            .into_iter()
            .collect();
        shown
            .into_iter()
            .map(|step| {
                let lines = step
                    .lines
                    .iter()
                    .map(|line| {
                        Ok(Line {
                            timestamp: from_nanos(line.timestamp),
                            text: self.text_of(&texts_by_id, line.text_id)?.to_owned(),
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(ShownStep {
                    run: step.stored.attempt,
                    step: step.stored.step,
                    lines,
                })
            })
            .collect()
    }
}
