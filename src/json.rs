//! The JSON line `logidx search --json`, `show --json` and `new --json` print: a contract
//! (README.md documents it). Exactly these fields, in this order; adding one is a change users
//! will see.

use logidx_index::{ContextLine, Hit, Level, RunAttempt, StepMeta};
use serde::Serialize;

/// One line of a log, with everything needed to find it again. Fields as README.md describes.
#[derive(Debug, Serialize)]
#[allow(
    missing_docs,
    reason = "README.md documents each field of the contract"
)]
pub struct JsonLine<'a> {
    pub repo: &'a str,
    pub run_id: u64,
    pub run_attempt: u32,
    pub run_number: u64,
    pub workflow_name: &'a str,
    pub head_branch: &'a str,
    pub head_sha: &'a str,
    pub event: &'a str,
    pub job_id: u64,
    pub job_name: &'a str,
    pub job_conclusion: &'a str,
    pub step_number: u32,
    pub step_name: &'a str,
    pub line_number: u32,
    /// RFC 3339 in UTC with nine fractional digits.
    pub timestamp: String,
    pub level: Level,
    pub text: &'a str,
    pub url: String,
    pub before: Vec<&'a str>,
    pub after: Vec<&'a str>,
}

impl<'a> JsonLine<'a> {
    /// The line of a search hit, with its context.
    pub fn of_hit(hit: &'a Hit) -> JsonLine<'a> {
        let texts = |lines: &'a [ContextLine]| lines.iter().map(|l| l.text.as_str()).collect();
        JsonLine {
            before: texts(&hit.before),
            after: texts(&hit.after),
            ..JsonLine::of_line(
                &hit.run,
                &hit.step,
                hit.line_number,
                hit.timestamp,
                &hit.text,
                hit.url.clone(),
            )
        }
    }

    /// A line without context.
    pub fn of_line(
        run: &'a RunAttempt,
        step: &'a StepMeta,
        line_number: u32,
        timestamp: jiff::Timestamp,
        text: &'a str,
        url: String,
    ) -> JsonLine<'a> {
        JsonLine {
            repo: &run.repo,
            run_id: run.run_id,
            run_attempt: run.run_attempt,
            run_number: run.run_number,
            workflow_name: &run.workflow_name,
            head_branch: &run.head_branch,
            head_sha: &run.head_sha,
            event: &run.event,
            job_id: step.job_id,
            job_name: &step.job_name,
            job_conclusion: &step.job_conclusion,
            step_number: step.step_number,
            step_name: &step.step_name,
            line_number,
            timestamp: rfc3339(timestamp),
            level: Level::of(text),
            text,
            url,
            before: Vec::new(),
            after: Vec::new(),
        }
    }
}

/// `2024-01-28T19:27:26.054762800Z`.
pub fn rfc3339(at: jiff::Timestamp) -> String {
    format!("{at:.9}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_nine_digits_and_are_rfc3339() {
        let at = |nanos| jiff::Timestamp::from_nanosecond(nanos).unwrap();
        let text = rfc3339(at(1_706_470_046_054_762_800));
        assert_eq!(text, "2024-01-28T19:27:26.054762800Z");
        let parsed: jiff::Timestamp = text.parse().unwrap();
        assert_eq!(parsed.as_nanosecond(), 1_706_470_046_054_762_800);
        assert_eq!(rfc3339(at(-1)), "1969-12-31T23:59:59.999999999Z");
    }
}
