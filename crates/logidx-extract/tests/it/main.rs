//! Integration tests: one binary, so that they link once.

mod fakehub_archives;
mod fixtures;
mod random_archives;
mod safety;
mod streaming;
