//! The commands, and what they share: where the index is, colors, errors, exit codes.

pub(crate) mod args;
mod color;
pub(crate) mod errors;
pub(crate) mod flaky;
pub(crate) mod new;
mod progress;
pub(crate) mod prune;
pub(crate) mod search;
pub(crate) mod show;
pub(crate) mod stats;
pub(crate) mod sync;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;
use logidx::Index;

use args::{ColorChoice, Global};
pub(crate) use color::Colors;

/// `--since` of `sync`, `errors` and `flaky` when none is given: a month, not the whole history
/// of a busy repository.
pub(crate) const DEFAULT_SINCE: &str = "30d";

/// Exit code of `search` when nothing matched, as grep's.
pub(crate) const NO_MATCH: u8 = 1;
/// Exit code when something failed (after doing all the rest).
pub(crate) const FAILED: u8 = 2;
/// Exit code after Ctrl-C, as shells report SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;

/// What every command needs from the global options.
pub(crate) struct Context {
    index_dir: Option<PathBuf>,
    api_url: String,
    stdout_colors: Colors,
    stderr_colors: Colors,
    pub(crate) verbose: bool,
    pub(crate) quiet: bool,
}

impl Context {
    pub(crate) fn new(global: &Global) -> Context {
        let gh_host = std::env::var("GH_HOST").ok().filter(|h| !h.is_empty());
        let api_url = global.api_url.clone().unwrap_or_else(|| match &gh_host {
            Some(host) => logidx::urls::ApiBase::for_host(host).to_string(),
            None => logidx::GITHUB_API.to_owned(),
        });
        let colors = |is_terminal: bool| {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            Colors::new(match global.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => is_terminal && !no_color,
            })
        };
        Context {
            index_dir: global.index.clone().or_else(default_index_dir),
            api_url,
            stdout_colors: colors(std::io::stdout().is_terminal()),
            stderr_colors: colors(std::io::stderr().is_terminal()),
            verbose: global.verbose,
            quiet: global.quiet,
        }
    }

    pub(crate) fn index_dir(&self) -> anyhow::Result<&PathBuf> {
        self.index_dir.as_ref().context(
            "no index directory: neither XDG_DATA_HOME nor HOME is set\nhint: pass --index DIR or set LOGIDX_INDEX",
        )
    }

    /// Opens the index for writing (sync, prune), creating it if needed.
    pub(crate) fn open_or_create_index(&self) -> anyhow::Result<Index> {
        Ok(Index::open(self.index_dir()?)?)
    }

    /// Opens an existing index, or says how to make one.
    pub(crate) fn open_index(&self) -> anyhow::Result<Index> {
        let dir = self.index_dir()?;
        if !dir.exists() {
            anyhow::bail!(
                "no index at `{}` yet\nhint: run `logidx sync OWNER/REPO` first (or pass the index with --index DIR)",
                dir.display()
            );
        }
        Ok(Index::open(dir)?)
    }

    pub(crate) fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The host whose token to use: the API URL's own (`github.com` for `api.github.com`), never
    /// `GH_HOST` when the API URL names another host, so a token only goes where it belongs.
    /// A URL that is not one is named by the client, when it is built.
    pub(crate) fn token_host(&self) -> String {
        self.api_url
            .parse::<logidx::urls::ApiBase>()
            .map_or_else(|_| self.api_url.clone(), |api| api.token_host())
    }

    /// The web host the API's links point at.
    pub(crate) fn web_base(&self) -> String {
        logidx::web_base(&self.api_url)
    }

    pub(crate) fn stdout_colors(&self) -> Colors {
        self.stdout_colors
    }

    pub(crate) fn stderr_colors(&self) -> Colors {
        self.stderr_colors
    }

    /// `note: …` on stderr, unless `--quiet`: what a command read in a way its user may not
    /// have meant.
    pub(crate) fn note(&self, note: &dyn std::fmt::Display) {
        if !self.quiet {
            eprintln!("{} {note}", self.stderr_colors.warning("note:"));
        }
    }

    /// `error: …` on stderr, then each cause on its own line, then the first hint that any of
    /// them gives.
    pub(crate) fn print_error(&self, error: &anyhow::Error) {
        let colors = self.stderr_colors;
        eprintln!("{} {error}", colors.error("error:"));
        for cause in error.chain().skip(1) {
            eprintln!("  {} {cause}", colors.dim("caused by:"));
        }
        if let Some(hint) = error.chain().find_map(hint_of) {
            eprintln!("hint: {hint}");
        }
    }
}

/// What the user can do about `error`, asked of the library errors that know. Libraries keep
/// advice out of `Display` (a library user's message is theirs to word); each crate's error
/// says it through a `hint()` of its own.
fn hint_of(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(e) = error.downcast_ref::<logidx::extract::Error>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<logidx::index::Error>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<logidx::fetch::Error>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<logidx::SyncError>() {
        return e.hint();
    }
    if let Some(e) = error.downcast_ref::<logidx::TimeBoundError>() {
        return e.hint();
    }
    None
}

/// ` (failure)` after a job or step name; nothing when the conclusion is unknown.
pub(crate) fn conclusion_suffix(conclusion: &str) -> String {
    match conclusion {
        "" => String::new(),
        c => format!(" ({c})"),
    }
}

/// The repository an indexed run belongs to (`repo` narrows it when two have the id).
pub(crate) fn repo_of_run(index: &Index, run: u64, repo: Option<&str>) -> anyhow::Result<String> {
    let mut repos: Vec<String> = index
        .attempts(repo)?
        .into_iter()
        .filter(|r| r.attempt.run_id == run)
        .map(|r| r.attempt.repo)
        .collect();
    repos.dedup();
    match repos.as_slice() {
        [repo] => Ok(repo.clone()),
        [] => anyhow::bail!(
            "run `{run}` is not in the index{}\nhint: `logidx sync OWNER/REPO` with a --since that covers it",
            repo.map(|r| format!(" for `{r}`")).unwrap_or_default()
        ),
        _ => anyhow::bail!(
            "run `{run}` is in several repositories: {}\nhint: pass --repo OWNER/REPO",
            repos.join(", ")
        ),
    }
}

/// `$XDG_DATA_HOME/logidx`, else `~/.local/share/logidx`.
fn default_index_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("logidx"))
}

/// Whether the error is a write to a closed pipe (`logidx search … | head`).
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|e| e.kind()) == broken
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == broken
    })
}

/// Parses `--since`/`--until` as of now.
pub(crate) fn time_bound(flag: &str, value: &str) -> anyhow::Result<jiff::Timestamp> {
    logidx::parse_time_bound(value, jiff::Timestamp::now())
        .with_context(|| format!("invalid value for `{flag}`"))
}

pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = args::Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "logidx", &mut stdout);
    Ok(ExitCode::SUCCESS)
}
