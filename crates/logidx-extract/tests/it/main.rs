//! Integration tests: one binary (see STYLE.md).

mod fakehub_archives;
mod fixtures;
mod safety;
