//! The commands, and what they share: where the index is, colors, errors, exit codes.

pub(crate) mod args;
mod color;
pub(crate) mod config;
pub(crate) mod doctor;
pub(crate) mod errors;
pub(crate) mod flaky;
pub(crate) mod new;
mod progress;
pub(crate) mod prune;
pub(crate) mod runs;
pub(crate) mod search;
pub(crate) mod show;
pub(crate) mod stats;
pub(crate) mod sync;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;
use jiff::Timestamp;
use logidx::Index;
use logidx::index::{End, TimeContext};

use args::{ColorChoice, Global};
pub(crate) use color::Colors;

/// `--since` of `sync`, `errors` and `flaky` when none is given: a month, not the whole history
/// of a busy repository.
pub(crate) const DEFAULT_SINCE: &str = "30d";

/// Exit code of `search` when nothing matched, as grep's.
pub(crate) const NO_MATCH: u8 = 1;

/// Success when a read command found something, else [`NO_MATCH`], as grep.
pub(crate) fn found(anything: bool) -> ExitCode {
    if anything {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(NO_MATCH)
    }
}
/// Exit code when something failed (after doing all the rest).
pub(crate) const FAILED: u8 = 2;

/// What every command needs from the global options.
pub(crate) struct Context {
    index_dir: Option<PathBuf>,
    api_url: String,
    stdout_colors: Colors,
    stderr_colors: Colors,
    /// Whether hits on stdout link their lines (OSC 8).
    pub(crate) hyperlinks: bool,
    pub(crate) verbose: bool,
    pub(crate) quiet: bool,
    /// Now, for ages, and `--tz`, for days and what is printed.
    time: TimeContext,
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
        let stdout_colors = colors(std::io::stdout().is_terminal());
        let hyperlinks = match global.hyperlinks {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && stdout_colors.is_on() && terminal_shows_links()
            }
        };
        Context {
            index_dir: global.index.clone().or_else(default_index_dir),
            api_url,
            stdout_colors,
            stderr_colors: colors(std::io::stderr().is_terminal()),
            hyperlinks,
            verbose: global.verbose,
            quiet: global.quiet,
            time: TimeContext::new(Timestamp::now(), global.tz.clone()),
        }
    }

    /// What written times are relative to.
    pub(crate) fn time(&self) -> &TimeContext {
        &self.time
    }

    /// Parses a `--since`-like flag: a day at `end` includes that day, in `--tz`.
    pub(crate) fn time_bound(
        &self,
        flag: &str,
        value: &str,
        end: End,
    ) -> anyhow::Result<Timestamp> {
        logidx::parse_time_bound(value, end, &self.time)
            .with_context(|| format!("invalid value for `{flag}`"))
    }

    /// `--since` and `--until` (the day of `--until` included), refused when reversed.
    pub(crate) fn window(
        &self,
        since: Option<&str>,
        until: Option<&str>,
    ) -> anyhow::Result<(Option<Timestamp>, Option<Timestamp>)> {
        let start = since
            .map(|s| self.time_bound("--since", s, End::Start))
            .transpose()?;
        let end = until
            .map(|u| self.time_bound("--until", u, End::End))
            .transpose()?;
        if let (Some(start), Some(end)) = (start, end)
            && start >= end
        {
            anyhow::bail!(
                "`--since {}` is not before `--until {}`: the window is empty",
                since.unwrap_or_default(),
                until.unwrap_or_default()
            );
        }
        Ok((start, end))
    }

    /// An instant as people read it, in `--tz`: `2026-11-20 14:05 CET`.
    pub(crate) fn format_time(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.time.tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// An instant to the nanosecond, RFC 3339 with `--tz`'s offset (`Z` in UTC).
    pub(crate) fn format_instant(&self, at: Timestamp) -> String {
        if self.time.tz == jiff::tz::TimeZone::UTC {
            return logidx::json::rfc3339(at);
        }
        format!("{:.9}", at.display_with_offset(self.time.tz.to_offset(at)))
    }

    /// The day of an instant, in `--tz`.
    pub(crate) fn format_day(&self, at: Timestamp) -> String {
        self.time.tz.to_datetime(at).date().to_string()
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

    /// Opens an existing index for reading only (it needs no write access), or says how to
    /// make one.
    pub(crate) fn open_index(&self) -> anyhow::Result<Index> {
        Ok(Index::open_read_only(self.existing_index_dir()?)?)
    }

    /// Opens an existing index for writing (prune).
    pub(crate) fn open_index_to_write(&self) -> anyhow::Result<Index> {
        Ok(Index::open(self.existing_index_dir()?)?)
    }

    fn existing_index_dir(&self) -> anyhow::Result<&PathBuf> {
        let dir = self.index_dir()?;
        if !dir.exists() {
            anyhow::bail!(
                "no index at `{}` yet\nhint: run `logidx sync OWNER/REPO` first (or pass the index with --index DIR)",
                dir.display()
            );
        }
        Ok(dir)
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

    /// Where `repo`'s links point: the host its data was synced from, else (an index from
    /// before that was recorded) the API URL's.
    pub(crate) fn web_base_of(&self, index: &Index, repo: &str) -> String {
        index.web_base(repo).unwrap_or_else(|| self.web_base())
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
            let note = color::inert(&note.to_string()).into_owned();
            eprintln!("{} {note}", self.stderr_colors.warning("note:"));
        }
    }

    /// `warning: …` on stderr, unless `--quiet`: something went wrong that does not fail the
    /// command.
    pub(crate) fn warn(&self, warning: &str) {
        if !self.quiet {
            let warning = color::inert(warning).into_owned();
            let _ = say(&format!(
                "{} {warning}",
                self.stderr_colors.warning("warning:")
            ));
        }
    }

    /// `error: …` on stderr, then each cause on its own line, then the first hint that any of
    /// them gives.
    pub(crate) fn print_error(&self, error: &anyhow::Error) {
        print_error(self.stderr_colors, error);
    }
}

/// `error: …` on stderr, as [`Context::print_error`] prints it; before there is a context (the
/// configuration file is wrong), with colors as the environment asks.
pub(crate) fn print_error(colors: Colors, error: &anyhow::Error) {
    // Messages quote names and reasons that GitHub sent: each line is made inert.
    let inert = |text: String| -> String {
        let lines: Vec<_> = text.split('\n').map(color::inert).collect();
        lines.join("\n")
    };
    let mut text = format!("{} {}", colors.error("error:"), inert(error.to_string()));
    for cause in error.chain().skip(1) {
        let cause = inert(cause.to_string());
        text.push_str(&format!("\n  {} {cause}", colors.dim("caused by:")));
    }
    if let Some(hint) = error.chain().find_map(hint_of) {
        text.push_str(&format!("\nhint: {}", inert(hint)));
    }
    // Nowhere left to say it when stderr is gone: the exit code does.
    let _ = say(&text);
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
    if let Some(e) = error.downcast_ref::<logidx::config::ConfigError>() {
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

/// Whether the terminal is one known to show OSC 8 links (others may print them as garbage):
/// what the terminals set in the environment, as tools that emit links check it.
fn terminal_shows_links() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let term = var("TERM");
    if term == "dumb" {
        return false;
    }
    let programs = [
        "iTerm.app",
        "WezTerm",
        "vscode",
        "ghostty",
        "Hyper",
        "Tabby",
    ];
    programs.contains(&var("TERM_PROGRAM").as_str())
        || [
            "xterm-kitty",
            "foot",
            "alacritty",
            "wezterm",
            "xterm-ghostty",
        ]
        .contains(&term.as_str())
        || var("VTE_VERSION").parse::<u32>().is_ok_and(|v| v >= 5000)
        || [
            "KITTY_WINDOW_ID",
            "WT_SESSION",
            "KONSOLE_VERSION",
            "DOMTERM",
        ]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
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

/// Writes `line` to stderr. Unlike `eprintln!`, which panics when stderr is closed or full,
/// it returns the error for the caller to decide.
pub(crate) fn say(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr().lock(), "{line}")
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

/// A flag's value that is one of `valid`, as the API spells it; else an error listing them,
/// since any other value would silently select nothing.
pub(crate) fn one_of(
    flag: &str,
    value: &str,
    valid: &'static [&'static str],
) -> anyhow::Result<String> {
    match logidx::index::one_of(valid, value) {
        Some(value) => Ok(value.to_owned()),
        None => anyhow::bail!(
            "invalid value `{value}` for `{flag}`, expected one of {}",
            valid.join(", ")
        ),
    }
}

pub(crate) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = args::Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "logidx", &mut stdout);
    Ok(ExitCode::SUCCESS)
}
