//! logidx-index: a tantivy index of CI log lines in which each distinct line text is indexed
//! once and every occurrence is kept per step.
//!
//! CI logs repeat themselves (about 8% of lines are distinct): indexing each distinct text
//! once, and storing per step only the sequence of (text id, timestamp), makes indexing several
//! times faster and the index a fraction of the text, while queries keep the semantics of one
//! document per line: a hit is one line, with its own timestamp, step and line number.
//!
//! ```
//! use logidx_index::{Index, Line, Query, RunAttempt, Step, StepMeta};
//!
//! # fn main() -> logidx_index::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let index = Index::open(dir.path())?;
//! let attempt = RunAttempt {
//!     repo: "acme/widgets".into(), run_id: 42, run_attempt: 1, run_number: 7,
//!     workflow_name: "CI".into(), workflow_path: ".github/workflows/ci.yml".into(),
//!     event: "push".into(), head_branch: "main".into(), head_sha: "0123abc".into(),
//!     actor: "octocat".into(), run_created_at: "2023-11-14T22:13:20Z".parse().unwrap(),
//! };
//! let step = Step {
//!     meta: StepMeta {
//!         job_id: 9, job_name: "test".into(), job_conclusion: "failure".into(),
//!         step_number: 4, step_name: "Run cargo test".into(), step_conclusion: "failure".into(),
//!     },
//!     lines: ["running 2 tests", "thread 'main' panicked at src/lib.rs:3:5", "##[error]Process completed with exit code 101."]
//!         .iter()
//!         .enumerate()
//!         .map(|(i, text)| Line {
//!             timestamp: jiff::Timestamp::new(1_700_000_001, i as i32).unwrap(),
//!             text: text.to_string(),
//!         })
//!         .collect(),
//! };
//! let mut writer = index.writer()?;
//! writer.add_attempt(&attempt, &[step])?;
//! writer.commit()?;
//!
//! let hits = index.search(&Query::parse("\"panicked at\" repo:acme/widgets")?.context(1, 0))?;
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].url, "https://github.com/acme/widgets/actions/runs/42/job/9#step:4:2");
//! assert_eq!(hits[0].before[0].text, "running 2 tests");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod check;
mod dictionary;
mod error;
mod id_table;
mod index;
mod level;
mod lock;
mod model;
mod query;
mod read_only;
mod schema;
mod search;
mod segment_file;
mod sequence;
mod sequence_store;
mod signature;
mod step_doc;
mod store;
mod stored;
mod text_doc;
mod text_postings;
mod text_query;
mod time;
mod tokenizer;
mod varint;
mod web_bases;
mod write_directory;
mod writer;

pub use check::{CheckReport, DamagedFile, IncompleteRun};
pub use error::{Error, Result};
pub use index::{Index, SCHEMA_VERSION};
pub use level::Level;
pub use model::{
    AttemptRecord, AttemptState, JobOutcome, Line, RunAttempt, Step, StepMeta, StepSource,
};
pub use query::{
    CONCLUSIONS, EVENTS, FILTER_NAMES, Filter, MAX_NESTING, NamePattern, Order, Problem, Query,
    SyntaxError, one_of,
};
pub use search::{
    ContextLine, Counts, ErrorGroup, GroupBy, GroupPlace, Hit, Selection, ShownStep, Sighting,
    line_url,
};
pub use signature::{is_error_line, mask, signature};
pub use text_query::Note;
pub use time::{
    DurationError, End, TimeBoundError, TimeContext, is_age, parse_duration, parse_time_bound,
};
pub use tokenizer::{LOG_TOKENIZER, LogTokenStream, LogTokenizer, token_spans, tokenize};
pub use writer::{AttemptWriter, DeleteStats, Deletion, READY_STEP_BYTES, Writer, WriterOptions};
