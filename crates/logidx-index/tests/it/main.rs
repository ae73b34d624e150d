//! Integration tests of logidx-index: one binary, one module per concern.

mod crash;
mod equivalence;
mod lifecycle;
mod random_queries;

use jiff::Timestamp;

/// The instant `nanos` after the epoch: the tests' corpora are written in nanoseconds.
fn at(nanos: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap()
}

/// `at` in nanoseconds, as the per-line reference index keeps time.
fn nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap()
}
