//! The `logidx` command line: parse arguments, call the library, print.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::args::query_last(std::env::args_os().collect()));
    let context = cli::Context::new(&cli.global);
    cli::doctor::note_panics();
    let command = std::panic::AssertUnwindSafe(|| match cli.command {
        Command::Sync(args) => cli::sync::run(&context, &args),
        Command::Search(args) => cli::search::run(&context, &args),
        Command::Show(args) => cli::show::run(&context, &args),
        Command::Stats(args) => cli::stats::run(&context, &args),
        Command::Errors(args) => cli::errors::run(&context, &args),
        Command::Flaky(args) => cli::flaky::run(&context, &args),
        Command::New(args) => cli::new::run(&context, &args),
        Command::Prune(args) => cli::prune::run(&context, &args),
        Command::Runs(args) => cli::runs::run(&context, &args),
        Command::Doctor(args) => cli::doctor::run(&context, &args),
        Command::Completions { shell } => cli::completions(shell),
    });
    // Tantivy panics on some damaged files: an error with what to do, not a crash.
    let result = std::panic::catch_unwind(command).unwrap_or_else(|_| Err(cli::doctor::panicked()));
    match result {
        Ok(code) => code,
        Err(error) if cli::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            context.print_error(&error);
            ExitCode::from(2)
        }
    }
}
