//! End-to-end tests: the built `logidx` binary (and the library) against fakehub on loopback.

mod env;

mod errors;
mod failures;
mod library;
mod output;
mod query_syntax;
mod sync;
