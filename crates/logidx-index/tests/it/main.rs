//! Integration tests of logidx-index: one binary, one module per concern.

mod crash;
mod equivalence;
mod lifecycle;
