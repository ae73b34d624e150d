//! Integration tests of logidx-index: one binary, one module per concern.

mod corpus;
mod crash;
mod equivalence;
mod lifecycle;
mod per_line;
