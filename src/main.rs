//! The `logidx` command line: parse arguments, call the library, print.

use clap::Parser;

/// Full-text search over GitHub Actions logs.
///
/// `sync` and `search` are being built; see README.md for the state of the project.
#[derive(Debug, Parser)]
#[command(name = "logidx", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    Cli::parse();
    anyhow::bail!("no command yet: `sync` and `search` are being built (see README.md)")
}
