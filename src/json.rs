//! The JSON line `logidx search --json`, `show --json` and `new --json` print: a contract
//! (README.md documents it). Exactly these fields, in this order; adding one is a change users
//! will see. And [`write_line`], how every `--json` output is written: inert on a terminal.

use std::io;

use logidx_index::{ContextLine, Hit, Level, RunAttempt, StepMeta};
use serde::Serialize;

/// Writes `value` as one line of JSON, with DEL and the C1 controls (U+0080 to U+009F) as
/// `\u0080`-style escapes: the same JSON value, but log text (attacker-controlled) cannot
/// reach a terminal as a control sequence when the output is read there.
pub fn write_line(out: &mut impl io::Write, value: &impl Serialize) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, Inert);
    value.serialize(&mut serializer)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// serde_json's compact output, with DEL and C1 controls escaped (serde_json escapes only
/// those below U+0020).
struct Inert;

impl serde_json::ser::Formatter for Inert {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut copied = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            // DEL, or a C1 control: U+0080 to U+009F are `C2 80` to `C2 9F` in UTF-8.
            let control = match byte {
                0x7f => Some(0x7f),
                0xc2 => bytes
                    .get(at + 1)
                    .copied()
                    .filter(|b| (0x80..=0x9f).contains(b)),
                _ => None,
            };
            if let Some(code) = control {
                writer.write_all(&bytes[copied..at])?;
                write!(writer, "\\u{code:04x}")?;
                copied = at + if code == 0x7f { 1 } else { 2 };
            }
        }
        writer.write_all(&bytes[copied..])
    }
}

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
    fn del_and_c1_controls_are_escaped_and_decode_to_the_same_text() {
        let mut text: String = ('\u{7e}'..='\u{a1}').collect();
        text.push_str("é\u{9f}ü\n\u{1b}[31m");
        let mut out = Vec::new();
        write_line(&mut out, &serde_json::json!({ "text": text })).unwrap();
        let written = String::from_utf8(out).unwrap();
        assert!(written.ends_with('\n'));
        assert!(
            !written.chars().any(|c| c == '\u{7f}'
                || ('\u{80}'..='\u{9f}').contains(&c)
                || c < ' ' && c != '\n'),
            "{written:?}"
        );
        assert!(written.contains(r"\u007f\u0080") && written.contains("\\u009f\u{a0}"));
        let decoded: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(decoded["text"], text.as_str());
    }

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
