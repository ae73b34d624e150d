//! logidx: full-text search over GitHub Actions logs, across every run, attempt, job and step.
//!
//! This crate wires the pipeline (fetch → extract → index → search) and re-exports the public
//! types of its parts, so that a library user needs only `logidx`:
//! - [`fetch`]: the GitHub REST client that downloads each attempt's log archive;
//! - [`extract`]: archive and log-line parsing;
//! - [`index`]: the deduplicating tantivy index and its search.

#![warn(missing_docs)]

mod time;

pub use time::{TimeBoundError, parse_time_bound};

pub use logidx_extract as extract;
pub use logidx_fetch as fetch;
pub use logidx_index as index;
