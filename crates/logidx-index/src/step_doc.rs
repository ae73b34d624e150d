//! The steps index's documents as the writer sends them: one per step, and one for the
//! attempt's record, each with the attempt's filter terms.

use serde_json::value::RawValue;
use tantivy::{TantivyDocument, doc};

use crate::model::{AttemptRecord, RunAttempt, StepMeta};
use crate::schema::{KIND_ATTEMPT, KIND_STEP, StepFields, keyword};
use crate::sequence::Encoded;
use crate::stored;
use crate::text_postings;
use crate::time;

/// What every step document of an attempt shares, made once: lowercasing the attempt's terms
/// and writing its JSON for each step was a twentieth of the writer thread's time.
pub(crate) struct AttemptSteps {
    fields: StepFields,
    terms: TantivyDocument,
    json: Box<RawValue>,
}

impl AttemptSteps {
    pub(crate) fn new(fields: StepFields, key: &str, attempt: &RunAttempt) -> AttemptSteps {
        AttemptSteps {
            fields,
            terms: attempt_doc(&fields, KIND_STEP, key, attempt),
            json: serde_json::value::to_raw_value(&stored::Attempt::from(attempt))
                .expect("serializable"),
        }
    }

    /// The document of a step whose lines are `lines`, encoded.
    pub(crate) fn step(&self, meta: &StepMeta, lines: Encoded) -> TantivyDocument {
        let fields = &self.fields;
        let mut doc = self.terms.clone();
        add_step_terms(&mut doc, fields, meta);
        let (first, last) = lines.span.unwrap_or((i64::MAX, i64::MIN));
        doc.add_i64(fields.first_time, first);
        doc.add_i64(fields.last_time, last);
        doc.add_custom(fields.text_ids, &text_postings::pack(&lines.ids));
        drop(lines.ids);
        let meta = stored::StepDocument {
            attempt: &*self.json,
            step: stored::Step::from(meta),
        };
        doc.add_text(
            fields.meta,
            serde_json::to_string(&meta).expect("serializable"),
        );
        doc.add_custom(fields.lines, &lines.bytes);
        doc
    }
}

/// The document of an attempt's record.
pub(crate) fn record_doc(
    fields: &StepFields,
    key: &str,
    record: &AttemptRecord,
) -> TantivyDocument {
    let mut doc = attempt_doc(fields, KIND_ATTEMPT, key, &record.attempt);
    doc.add_text(
        fields.meta,
        serde_json::to_string(&stored::Record::from(record)).expect("serializable"),
    );
    doc
}

/// A document with the attempt's filter terms, for a step or the attempt's record.
fn attempt_doc(
    fields: &StepFields,
    kind: &str,
    key: &str,
    attempt: &RunAttempt,
) -> TantivyDocument {
    let file_name = attempt.workflow_path.rsplit('/').next().unwrap_or_default();
    let mut doc = doc!(
        fields.kind => kind,
        fields.attempt_key => key,
        fields.repo => keyword(&attempt.repo),
        fields.run => attempt.run_id.to_string(),
        fields.attempt => attempt.run_attempt.to_string(),
        fields.branch => keyword(&attempt.head_branch),
        fields.workflow => keyword(&attempt.workflow_name),
        fields.workflow => keyword(&attempt.workflow_path),
        fields.event => keyword(&attempt.event),
        fields.sha => keyword(&attempt.head_sha),
        fields.run_created_at => time::to_nanos(attempt.run_created_at),
    );
    if file_name != attempt.workflow_path {
        doc.add_text(fields.workflow, keyword(file_name));
    }
    doc
}

fn add_step_terms(doc: &mut TantivyDocument, fields: &StepFields, step: &StepMeta) {
    doc.add_text(fields.job, step.job_id.to_string());
    doc.add_text(fields.job, keyword(&step.job_name));
    doc.add_text(fields.step, step.step_number.to_string());
    doc.add_text(fields.step, keyword(&step.step_name));
    doc.add_text(fields.conclusion, keyword(&step.job_conclusion));
}
