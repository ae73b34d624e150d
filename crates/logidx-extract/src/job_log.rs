//! One job, one log: which jobs an archive holds no lines of for sure (before anything is
//! inflated), and a job's plain-text log from the per-job endpoint
//! (`GET …/actions/jobs/{id}/logs`) streamed as a whole-job file of a job-only archive.

use std::io::Read;
use std::ops::ControlFlow;

use crate::error::{Corruption, Error, Result};
use crate::extract::{Batch, Extractor, Router};
use crate::input::{ArchiveId, JobInfo};
use crate::lines::LineParser;
use crate::names::FileNames;
use crate::plan::Destination;

/// The entry name of the parts of a job's log fetched on its own: it is no archive entry.
pub const JOB_LOG_ENTRY: &str = "job log";

/// Bytes read from a job's log at a time.
const CHUNK_BYTES: usize = 256 << 10;

/// The jobs of `jobs` (the attempt's, as given to the extractor) whose lines an archive does
/// not hold for sure: those `present` says it has no file for, and those whose name, once
/// turned into a file name, is another listed job's too (duplicates), so that which file is
/// whose is a guess. Their own logs settle it.
pub(crate) fn without_files(jobs: &[JobInfo], present: &[bool]) -> Vec<u64> {
    let names: Vec<FileNames> = jobs.iter().map(|j| FileNames::of(&j.name)).collect();
    let collides =
        |i: usize| (names.iter().enumerate()).any(|(k, other)| k != i && other.collides(&names[i]));
    (jobs.iter().enumerate())
        .filter(|&(i, _)| !present[i] || collides(i))
        .map(|(_, job)| job.id)
        .collect()
}

impl Extractor {
    /// Reads a job's plain-text log as GitHub's per-job endpoint serves it (a BOM first,
    /// lines as in an archive) from `source` (a spooled download), its lines attributed to
    /// the API's steps from the step markers and times as for a whole-job file without step
    /// files (there is no endpoint for a step's log), and hands them to `sink` in [`Batch`]es
    /// as they are read: memory stays bounded whatever the log's size. The log is held to
    /// [`crate::Limits::max_entry_bytes`]. Returns the lines handed on.
    pub fn extract_job_log(
        &self,
        id: ArchiveId,
        job: &JobInfo,
        mut source: impl Read,
        mut sink: impl FnMut(Batch) -> ControlFlow<()>,
    ) -> Result<u64> {
        let entry = format!("{JOB_LOG_ENTRY} of job {}", job.id);
        let jobs = std::slice::from_ref(job);
        let mut router = Router::new(JOB_LOG_ENTRY, Destination::Attributed { job: 0 }, jobs);
        let mut lines = 0u64;
        let mut emit = |batch: Batch| {
            lines += batch.lines.len() as u64;
            crate::extract::pass_on(&mut sink, batch, id)
        };
        let mut parser = LineParser::default();
        let mut chunk = vec![0; CHUNK_BYTES];
        let mut read = 0u64;
        loop {
            let n = match source.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::CorruptEntry {
                        run_id: id.run_id,
                        attempt: id.attempt,
                        entry,
                        source: Corruption::Read(e),
                    });
                }
            };
            read += n as u64;
            if read > self.limits().max_entry_bytes {
                return Err(Error::EntryTooLarge {
                    run_id: id.run_id,
                    attempt: id.attempt,
                    entry,
                    declared: read,
                    cap: self.limits().max_entry_bytes,
                });
            }
            parser.push(&chunk[..n], &mut router.batch);
            router.route(&mut emit, false)?;
        }
        parser.finish(&mut router.batch);
        router.finish(&mut emit)?;
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::input::StepInfo;
    use crate::model::Warning;

    const ID: ArchiveId = ArchiveId {
        run_id: 7,
        attempt: 1,
    };

    fn job(id: u64, name: &str) -> JobInfo {
        let step = |number: u32, name: &str| StepInfo {
            number,
            name: name.into(),
            started_at: None,
            completed_at: None,
            conclusion: Some("success".into()),
        };
        JobInfo {
            id,
            name: name.into(),
            steps: vec![step(1, "Set up job"), step(2, "Run make")],
        }
    }

    fn text(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            writeln!(out, "2026-11-02T10:00:{i:02}.0000000Z {line}").unwrap();
        }
        out
    }

    fn zip(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// (job, step, line number, text) of every line streamed, and each batch's entry.
    type Streamed = Vec<(Option<u64>, Option<u32>, u32, String, String)>;

    fn collect(batches: &mut Streamed) -> impl FnMut(Batch) -> ControlFlow<()> + '_ {
        |batch: Batch| {
            for line in batch.lines() {
                batches.push((
                    line.job_id,
                    line.step_number,
                    line.line_number,
                    line.text.to_owned(),
                    batch.part.entry.clone(),
                ));
            }
            ControlFlow::Continue(())
        }
    }

    const LOG: [&str; 4] = [
        "Requested labels: ubuntu-latest",
        "Current runner version: '2.321.0'",
        "##[group]Run make",
        "##[error]Process completed with exit code 2.",
    ];

    #[test]
    fn a_jobs_log_loses_its_bom_and_gets_its_steps_in_small_reads() {
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend(text(&LOG));
        let mut got = Vec::new();
        // One byte a read: lines and the BOM cross every chunk boundary.
        let source = std::io::BufReader::with_capacity(1, body.as_slice());
        let lines = Extractor::new()
            .extract_job_log(ID, &job(5, "build"), source, collect(&mut got))
            .unwrap();
        assert_eq!(lines, 4);
        let line = |step, number, text: &str| {
            (
                Some(5),
                step,
                number,
                text.to_owned(),
                JOB_LOG_ENTRY.to_owned(),
            )
        };
        assert_eq!(
            got,
            [
                line(None, 1, LOG[0]),
                line(Some(1), 1, LOG[1]),
                line(Some(2), 1, LOG[2]),
                line(Some(2), 2, LOG[3]),
            ]
        );
    }

    #[test]
    fn a_job_log_past_the_entry_cap_is_refused() {
        let limits = crate::Limits {
            max_entry_bytes: 10,
            ..crate::Limits::default()
        };
        let error = Extractor::new()
            .with_limits(limits)
            .extract_job_log(ID, &job(5, "build"), text(&LOG).as_slice(), |_| {
                ControlFlow::Continue(())
            })
            .unwrap_err();
        assert!(matches!(error, Error::EntryTooLarge { .. }), "{error}");
    }

    #[test]
    fn jobs_left_out_misnamed_or_colliding_are_asked_for_on_their_own() {
        let jobs = [
            job(1, "build"),
            job(2, "lint: all"),
            job(3, "test"),
            job(4, "pack a/b"),
            job(5, "pack ab"),
        ];
        // `lint: all` under a name neither service writes; `test` left out; the two `pack`
        // jobs' names collide as file names.
        let bytes = zip(&[
            ("0_build.txt", text(&LOG)),
            ("1_lint-all.txt", text(&LOG[1..])),
            ("3_pack ab.txt", text(&LOG)),
        ]);
        let mut got = Vec::new();
        let streamed = Extractor::new()
            .extract_stream(ID, &jobs, std::io::Cursor::new(&bytes), collect(&mut got))
            .unwrap();
        assert_eq!(streamed.jobs_without_files, [2, 3, 4, 5]);
        let planned = Extractor::new()
            .jobs_without_files(ID, &jobs, std::io::Cursor::new(&bytes))
            .unwrap();
        assert_eq!(planned, [2, 3, 4, 5]);
    }

    #[test]
    fn a_job_under_both_services_names_is_read_once_from_the_newer() {
        let jobs = [job(1, "build")];
        let bytes = zip(&[
            ("0_build.txt", text(&LOG)),
            ("-2147483648_build.txt", text(&LOG[..2])),
        ]);
        let mut got = Vec::new();
        let streamed = Extractor::new()
            .extract_stream(ID, &jobs, std::io::Cursor::new(&bytes), collect(&mut got))
            .unwrap();
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|l| l.4 == "0_build.txt"));
        assert_eq!(
            streamed.warnings,
            [Warning::DuplicateLog {
                job_id: 1,
                kept: "0_build.txt".into(),
                dropped: "-2147483648_build.txt".into()
            }]
        );
        assert!(streamed.jobs_without_files.is_empty());
    }
}
