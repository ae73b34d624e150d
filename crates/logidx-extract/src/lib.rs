//! logidx-extract: from a run attempt's log archive to lines in their jobs and steps.
//!
//! Give an [`Extractor`] the zip GitHub serves for an attempt and the attempt's jobs from the
//! jobs API ([`JobInfo`]); get an [`AttemptLog`]: per job, its [`Part`]s (preamble, each step,
//! `system.txt`) with clean [`LogLine`]s and [`Summary`] counts, the jobs the archive lacks,
//! and the files that match no job.
//!
//! - Entries map to jobs as GitHub names them (`N_<job>.txt`, legacy `-N_<job>.txt`,
//!   `<job>/<number>_<step>.txt`, `/` and `:` removed or replaced by `_`, 90 UTF-16 units).
//! - Per-step files are used where they exist; otherwise the whole-job file's lines are
//!   attributed to steps from step markers and the API's step times ([`Attribution`]).
//! - Each line: its [`jiff::Timestamp`] (impossible dates are no timestamp), BOM, CR and ANSI
//!   codes removed, invalid UTF-8 replaced, lines over [`MAX_LINE_BYTES`] cut, its [`Marker`].
//! - Zip bombs are refused by absolute caps on the bytes inflated, per entry and per archive
//!   ([`Limits`]); corrupt entries, entries inflating past what they declare and CRC
//!   mismatches are errors naming the run, attempt and entry ([`Error`]); nothing is ever
//!   written to disk.
//! - [`Extractor::extract_stream`] inflates entries in chunks and hands lines on in
//!   [`Batch`]es as they are parsed: memory stays bounded whatever the size of an entry or a
//!   line.
//!
//! No network or async dependency: parallelism is rayon's, over entries and over archives
//! ([`Extractor::extract_all`] keeps memory bounded).
//!
//! ```
//! use std::io::Write;
//! use logidx_extract::{ArchiveId, Extractor, JobInfo, Marker, StepInfo};
//!
//! // A job-only archive, as GitHub's newer service writes it.
//! let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
//! zip.start_file("0_test.txt", zip::write::SimpleFileOptions::default())?;
//! zip.write_all(
//!     b"2024-01-28T19:27:24.9408212Z Current runner version: '2.312.0'\n\
//!       2024-01-28T19:27:26.0547659Z ##[group]Run cargo test\n\
//!       2024-01-28T19:27:29.1000000Z \x1b[31merror\x1b[0m: test failed\n\
//!       2024-01-28T19:27:29.2000000Z ##[error]Process completed with exit code 101.\n",
//! )?;
//! let bytes = zip.finish()?.into_inner();
//!
//! let step = |number: u32, name: &str| StepInfo {
//!     number,
//!     name: name.into(),
//!     started_at: None,
//!     completed_at: None,
//!     conclusion: Some("success".into()),
//! };
//! let jobs = [JobInfo {
//!     id: 42,
//!     name: "test".into(),
//!     steps: vec![step(1, "Set up job"), step(2, "Run cargo test")],
//! }];
//! let id = ArchiveId { run_id: 7, attempt: 1 };
//! let log = Extractor::new().extract_bytes(id, &jobs, &bytes)?;
//!
//! let lines: Vec<_> = log.lines().collect();
//! assert_eq!(lines[2].text, "error: test failed");
//! assert_eq!((lines[2].step_number, lines[2].line_number), (Some(2), 2));
//! assert_eq!(lines[3].marker, Some(Marker::Error));
//! assert_eq!(log.jobs[0].summary.errors, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod attribute;
mod controls;
mod error;
mod extract;
mod inflate;
mod input;
mod job_log;
mod lines;
mod marker;
mod model;
mod names;
mod plan;
mod timestamp;

pub use error::{Corruption, Error, Result, Size};
pub use extract::{Batch, Extractor, Limits, PartInfo, Streamed};
pub use input::{Archive, ArchiveId, JobInfo, Source, StepInfo};
pub use job_log::JOB_LOG_ENTRY;
pub use lines::{CUT_MARKER, Lines, LogLine, MAX_LINE_BYTES};
pub use marker::Marker;
pub use model::{AttemptLog, Attribution, JobLog, LineRef, Part, Section, Summary, Warning};
pub use timestamp::parse_timestamp;
