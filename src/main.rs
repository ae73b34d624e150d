//! The `logidx` command line: parse arguments, call the library, print.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

use cli::args::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let args = cli::args::query_last(std::env::args_os().collect());
    // The configuration file's values become the defaults of the options they name.
    let layered = match cli::config::layered(&args) {
        Ok(layered) => layered,
        Err(error) => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let colors = cli::Colors::new(std::io::stderr().is_terminal() && !no_color);
            cli::print_error(colors, &error);
            return ExitCode::from(2);
        }
    };
    let matches = layered.command.clone().get_matches_from(&args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
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
        Command::Config(ConfigCommand::Show { json }) => {
            cli::config::show(&layered, &matches, json)
        }
        Command::Config(ConfigCommand::Path) => cli::config::path(&layered),
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
