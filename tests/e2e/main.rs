//! End-to-end tests: the built `logidx` binary (and the library) against fakehub on loopback.

mod env;

mod caps;
mod config;
mod errors;
mod failures;
mod hostile;
mod library;
mod machine_faults;
mod notify;
mod output;
mod output_cli;
mod owners;
mod process;
mod query_filters;
mod query_syntax;
mod resilience;
mod sync;
mod watch;
