//! What extraction gives back: an attempt's jobs, each job's parts (preamble, steps,
//! `system.txt`), their lines and counts, and what was odd about the archive.

use std::fmt;

use crate::input::ArchiveId;
use crate::lines::{Lines, LogLine};
use crate::marker::Marker;

/// Which part of a job a [`Part`] holds. Exhaustive on purpose: a new kind of part is one
/// that every consumer must decide where to put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// The lines before "Set up job" that only the whole-job file has (`Requested labels: …`).
    Preamble,
    /// One step's lines, by its `number`.
    Step(u32),
    /// Lines of a whole-job file that cannot be put in steps: the API listed none.
    Unattributed,
    /// `<job>/system.txt`: the runner's own log.
    System,
    /// A file that matches no API job, kept under its entry name.
    File,
}

impl Section {
    /// The step's `number`, for a step.
    pub fn step_number(self) -> Option<u32> {
        match self {
            Section::Step(number) => Some(number),
            Section::Preamble | Section::Unattributed | Section::System | Section::File => None,
        }
    }
}

/// Where a line is: its step (`None` outside steps) and 1-based line number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef {
    /// The step's `number`.
    pub step_number: Option<u32>,
    /// 1-based within the step.
    pub line_number: u32,
}

/// Counts over some lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Lines.
    pub lines: u64,
    /// Lines marked `##[error]`.
    pub errors: u64,
    /// Lines marked `##[warning]`.
    pub warnings: u64,
    /// The first `##[error]` line.
    pub first_error: Option<LineRef>,
}

impl Summary {
    pub(crate) fn of(lines: &Lines, step_number: Option<u32>) -> Summary {
        let mut summary = Summary {
            lines: lines.len() as u64,
            ..Summary::default()
        };
        for (index, marker) in lines.markers().enumerate() {
            match marker {
                Some(Marker::Error) => {
                    summary.errors += 1;
                    summary.first_error.get_or_insert(LineRef {
                        step_number,
                        line_number: index as u32 + 1,
                    });
                }
                Some(Marker::Warning) => summary.warnings += 1,
                _ => {}
            }
        }
        summary
    }

    pub(crate) fn add(&mut self, other: &Summary) {
        self.lines += other.lines;
        self.errors += other.errors;
        self.warnings += other.warnings;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The lines of one step, of the preamble, of `system.txt`, or of an unmatched file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Part {
    /// The API job; `None` for an unmatched file.
    pub job_id: Option<u64>,
    /// Which part of the job.
    pub section: Section,
    /// The archive entry the lines were read from.
    pub entry: String,
    /// The lines.
    pub lines: Lines,
    /// Their counts.
    pub summary: Summary,
}

impl Part {
    pub(crate) fn new(job_id: Option<u64>, section: Section, entry: String, lines: Lines) -> Part {
        let summary = Summary::of(&lines, section.step_number());
        Part {
            job_id,
            section,
            entry,
            lines,
            summary,
        }
    }

    /// The lines in order, with their job and step.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = LogLine<'_>> + '_ {
        let step_number = self.section.step_number();
        self.lines.iter().map(move |line| LogLine {
            job_id: self.job_id,
            step_number,
            ..line
        })
    }
}

/// How a job's lines were assigned to steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribution {
    /// From per-step files: exact.
    StepFiles,
    /// Inferred from the whole-job file's step markers and the API's step times.
    Inferred,
}

/// One job's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobLog {
    /// The API job's id.
    pub job_id: u64,
    /// Its name.
    pub name: String,
    /// How its lines were assigned to steps.
    pub attribution: Attribution,
    /// Preamble, then steps by number, then `system.txt`.
    pub parts: Vec<Part>,
    /// Counts over every part.
    pub summary: Summary,
}

/// Something odd about an archive that did not stop it from being read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A file that matches no API job; its lines are kept in [`AttemptLog::unmatched`].
    UnmatchedFile {
        /// Entry name.
        entry: String,
    },
    /// An absolute name or one with `..`: never read.
    UnsafeName {
        /// Entry name.
        entry: String,
    },
    /// A job's log under two names (the newer and the older service's, cli/cli#10768): one is
    /// kept, the other is not read into the index, so that no line counts twice.
    DuplicateLog {
        /// The job.
        job_id: u64,
        /// The entry kept.
        kept: String,
        /// The entry left out.
        dropped: String,
    },
    /// A step file whose number the API does not list; its lines are kept.
    UnknownStep {
        /// The job.
        job_id: u64,
        /// The step number in the file name.
        number: u32,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnmatchedFile { entry } => write!(f, "file `{entry}` matches no job"),
            Warning::UnsafeName { entry } => write!(f, "entry `{entry}` has an unsafe name"),
            Warning::DuplicateLog {
                job_id,
                kept,
                dropped,
            } => write!(
                f,
                "job `{job_id}` has its log under two names: kept `{kept}`, left out `{dropped}`"
            ),
            Warning::UnknownStep { job_id, number } => {
                write!(f, "job `{job_id}` has a log for unknown step `{number}`")
            }
        }
    }
}

/// Everything one attempt's archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptLog {
    /// The attempt.
    pub id: ArchiveId,
    /// Jobs with lines in the archive, in the order the caller listed them.
    pub jobs: Vec<JobLog>,
    /// Jobs the caller listed that the archive lacks (skipped, or not re-run in a partial
    /// re-run).
    pub missing_jobs: Vec<u64>,
    /// Files that match no job, kept under their entry names.
    pub unmatched: Vec<Part>,
    /// What was odd.
    pub warnings: Vec<Warning>,
}

impl AttemptLog {
    /// Every line: jobs in order, each part in order, then unmatched files.
    pub fn lines(&self) -> impl Iterator<Item = LogLine<'_>> + '_ {
        self.parts().flat_map(Part::lines)
    }

    /// Every part: jobs in order, then unmatched files.
    pub fn parts(&self) -> impl Iterator<Item = &Part> + '_ {
        self.jobs
            .iter()
            .flat_map(|j| &j.parts)
            .chain(&self.unmatched)
    }
}
