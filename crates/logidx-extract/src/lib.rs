//! logidx-extract: from a run attempt's log archive to lines in their jobs and steps.
//!
//! Its job: unzip archives in parallel, map files to the API's jobs and steps (per-step files
//! where they exist, step boundaries inferred from the whole-job log where they don't), and
//! normalise each line: timestamp parsed, BOM, CR and ANSI codes removed, level recognised.
//!
//! Public face (being built): an extractor that turns an archive plus the attempt's jobs into
//! an ordered stream of `LogLine`s with per-job and per-step summaries. It has no network or
//! async dependency.

#![warn(missing_docs)]
