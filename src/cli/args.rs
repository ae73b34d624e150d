//! The command line, as clap parses it.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::{Arg, Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Full-text search over GitHub Actions logs, across every run, attempt, job and step.
///
/// `logidx sync OWNER/REPO --since 7d` downloads and indexes the logs; `logidx search
/// '"panicked at"'` finds lines in them.
#[derive(Debug, Parser)]
#[command(name = "logidx", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes, before or after its name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    /// The configuration file [default: $XDG_CONFIG_HOME/logidx/config.toml, else
    /// ~/.config/logidx/config.toml]: values for the options that no flag or environment
    /// variable sets (README.md, *Configuration*; `logidx config show`).
    #[arg(long, env = "LOGIDX_CONFIG", global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The index directory [default: $XDG_DATA_HOME/logidx, else ~/.local/share/logidx]. Only
    /// sync and prune write to it; the other commands need only read access.
    #[arg(long, env = "LOGIDX_INDEX", global = true, value_name = "DIR")]
    pub(crate) index: Option<PathBuf>,
    /// GitHub's API [default: https://HOST/api/v3 when GH_HOST is set, else
    /// https://api.github.com]. Links point at the host each repository was synced from.
    #[arg(long, env = "LOGIDX_API_URL", global = true, value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// When to color output (NO_COLOR turns `auto` off).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub(crate) color: ColorChoice,
    /// Say more (per-attempt lines during sync).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Say nothing but errors and results.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// When to make each hit's line number a link to its line on GitHub (OSC 8): `auto` on a
    /// terminal that shows links, with colors on; never into a pipe unless `always`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub(crate) hyperlinks: ColorChoice,
    /// The time zone of printed times, and of days and date-times written without an offset
    /// (`--since 2026-11-20`, `date:2026-11-20`): `UTC`, `local`, or a name such as
    /// `Europe/Berlin`. `--json` stays UTC.
    #[arg(long, env = "LOGIDX_TZ", global = true, value_name = "ZONE",
          default_value = "UTC", value_parser = time_zone)]
    pub(crate) tz: jiff::tz::TimeZone,
}

/// `--tz`: `UTC`, `local` (the system's zone) or an IANA name from the system's tzdb.
fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, String> {
    let unknown = |_| {
        format!(
            "`{name}` is not a time zone this system knows; use `UTC`, `local`, or a name such as `Europe/Berlin`"
        )
    };
    match name {
        _ if name.eq_ignore_ascii_case("utc") => Ok(jiff::tz::TimeZone::UTC),
        _ if name.eq_ignore_ascii_case("local") => {
            jiff::tz::TimeZone::try_system().map_err(unknown)
        }
        _ => jiff::tz::TimeZone::get(name).map_err(unknown),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download and index the logs of repositories' workflow runs.
    ///
    /// Attempts indexed or gone are not downloaded again. Logs that answer 410 are gone; a 404
    /// is asked again within the sync and by later syncs, and gone once it lasted 3 syncs over
    /// a day. After 5 downloads in a row fail the same way, blob storage is taken to be down:
    /// the rest is left for the next sync. Rate limits (every 429) are waited out, announced
    /// when the wait is 3 s or more; an API that cannot be reached ends the sync at once.
    ///
    /// Ctrl-C, SIGTERM or SIGHUP stops a sync: what was indexed is committed (the next sync
    /// resumes) and it exits with 128 + the signal's number (130, 143, 129); a second signal
    /// quits at once. A closed or full stderr stops it the same way, saying nothing more.
    ///
    /// Exit status: 0 when all went well, 2 when an attempt or repository failed or downloads
    /// stopped (the rest was done and committed).
    Sync(SyncArgs),
    /// Find lines in the indexed logs.
    Search(SearchArgs),
    /// Print the indexed log of a run, grouped by attempt, job and step.
    Show(ShowArgs),
    /// What the index holds, per repository.
    Stats(StatsArgs),
    /// Error lines grouped by signature: how many runs each hit, since when, in which jobs.
    Errors(ErrorsArgs),
    /// Jobs that both failed and passed on one commit.
    Flaky(FlakyArgs),
    /// The indexed runs of a repository, newest first, with their attempts and jobs.
    Runs(RunsArgs),
    /// What is new in a failed run: error lines its last success on the branch did not have.
    New(NewArgs),
    /// Delete runs from the index.
    Prune(PruneArgs),
    /// Check the index: every file whole, every attempt's steps there. Exit 0 when healthy,
    /// 1 when it found a problem (it says what to do), 2 on an error.
    Doctor(DoctorArgs),
    /// The configuration in force: `config show` (each setting and where it came from),
    /// `config path` (the file read).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script (bash, elvish, fish, powershell, zsh).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Repositories, as OWNER/REPO, and owners, as OWNER: every repository of an organisation
    /// or a user, but archived ones and forks; one without Actions or runs is noted (-v) and
    /// skipped.
    #[arg(required = true, value_name = "OWNER[/REPO]")]
    pub(crate) repos: Vec<String>,
    /// Leave out an OWNER's repositories whose name matches this glob (`*`, `?`; any case):
    /// `legacy-*`, or with a `/` matched against OWNER/REPO. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) exclude: Vec<String>,
    /// Sync an OWNER's archived repositories too.
    #[arg(long)]
    pub(crate) include_archived: bool,
    /// Sync an OWNER's forks too.
    #[arg(long)]
    pub(crate) include_forks: bool,
    /// Authenticate as this GitHub App (its App id or client id) instead of with a token,
    /// with --app-key.
    #[arg(
        long,
        env = "LOGIDX_APP_ID",
        value_name = "ID",
        requires = "app_key",
        help_heading = "GitHub App"
    )]
    pub(crate) app_id: Option<String>,
    /// The App's private key: the PEM file GitHub issued (PKCS#1 or PKCS#8).
    #[arg(
        long,
        env = "LOGIDX_APP_KEY",
        value_name = "FILE.pem",
        requires = "app_id",
        help_heading = "GitHub App"
    )]
    pub(crate) app_key: Option<PathBuf>,
    /// The App's installation [default: the one on the first OWNER or OWNER/REPO].
    #[arg(
        long,
        env = "LOGIDX_APP_INSTALLATION",
        value_name = "ID",
        requires = "app_id",
        help_heading = "GitHub App"
    )]
    pub(crate) installation: Option<u64>,
    /// Runs created since: an age (`30min`, `12h`, `7d`, `2w`, `3mo`), a day (from its start,
    /// in --tz) or a date-time [default: 30d].
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Runs created until (same forms as --since; a day is included, to its end).
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,
    /// Only runs of this branch.
    #[arg(long)]
    pub(crate) branch: Option<String>,
    /// Only runs triggered by this event (`push`, `pull_request`, `schedule`, …; another
    /// value is an error listing them).
    #[arg(long)]
    pub(crate) event: Option<String>,
    /// Only runs of this workflow: its name (`CI`), file name (`ci.yml`) or id.
    #[arg(long, value_name = "NAME_FILE_OR_ID")]
    pub(crate) workflow: Option<String>,
    /// Only runs with this status or conclusion (`completed`, `in_progress`, `failure`,
    /// `success`, …; another value is an error listing them).
    #[arg(long)]
    pub(crate) status: Option<String>,
    /// Only runs triggered by this user.
    #[arg(long)]
    pub(crate) actor: Option<String>,
    /// Archives downloaded at once.
    #[arg(short, long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub(crate) jobs: u16,
    /// Commit at least this often (seconds): a killed sync loses at most this much work.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub(crate) commit_every: u64,
    /// Ask again for the logs of attempts recorded as gone (a 410, or a 404 that lasted 3
    /// syncs over a day).
    #[arg(long)]
    pub(crate) retry_gone: bool,
    /// Fetch again the attempts given up on after failing the same way in 3 syncs in a row
    /// (a corrupt archive; `logidx stats` counts them).
    #[arg(long)]
    pub(crate) retry_failed: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Refuse an archive entry that inflates to more than this (a zip bomb, or a log too
    /// large to want): bytes, or with a unit (`512MiB`, `8GiB`, `1TiB`).
    #[arg(long, default_value = "8GiB", value_name = "SIZE", value_parser = byte_size)]
    pub(crate) max_entry_size: u64,
    /// Refuse an archive whose entries inflate to more than this together (same forms).
    #[arg(long, default_value = "32GiB", value_name = "SIZE", value_parser = byte_size)]
    pub(crate) max_archive_size: u64,
    /// Keep the index fresh until stopped (Ctrl-C, SIGTERM): sync again every INTERVAL
    /// (`30s`, `5min`, `1h`; default 60s). Unchanged listings cost no counted request; with
    /// -v, a line per cycle. A failing GitHub is retried less and less often.
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, default_missing_value = "60s",
          value_parser = interval)]
    pub(crate) watch: Option<std::time::Duration>,
    /// At most N API requests an hour, paced evenly.
    #[arg(long, value_name = "N", env = "LOGIDX_MAX_RATE",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_rate: Option<u32>,
    /// Leave PERCENT of the token's rate limit to its other users: once only that much of the
    /// hour's limit is left, wait for it to reset.
    #[arg(long, value_name = "PERCENT", default_value_t = 20, env = "LOGIDX_RESERVE",
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub(crate) reserve: u8,
    /// POST a message to this webhook (Slack-compatible JSON) for each new error signature,
    /// or job that starts failing, on a repository's default branch; repeatable. Sent in the
    /// background, retried, at most once per signature.
    #[arg(
        long,
        env = "LOGIDX_NOTIFY",
        value_name = "URL",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub(crate) notify: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Every setting in force and where it came from: a flag, the environment, the
    /// configuration file (with its line) or the default. Secrets are only said to be set.
    Show {
        /// One JSON object per setting per line.
        #[arg(long)]
        json: bool,
    },
    /// The configuration file's path (whether it exists or not).
    Path,
}

/// A size as `--max-entry-size` takes it: bytes, or a number and a binary unit (`KiB`, `MiB`,
/// `GiB`, `TiB`, or `K`, `M`, `G`, `T`; any case, an optional `B`).
fn byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let unit = unit.trim();
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "unknown unit `{unit}`: use bytes, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write `8GiB`, `512MiB` or bytes"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A watch's interval, in the one grammar of lengths of time (`logidx::parse_duration`:
/// `30s`, `5min`, `1h`, or seconds), at least a second.
fn interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = logidx::parse_duration(text).map_err(|e| {
        let hint = e.hint().unwrap_or_default();
        format!("{e}: {hint}")
    })?;
    if interval < std::time::Duration::from_secs(1) {
        return Err(format!(
            "`{}` is too short: a watch waits at least `1s`",
            text.trim()
        ));
    }
    Ok(interval)
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The query: words (all must match), "phrases", OR (||), AND (&&), NOT (!, -word),
    /// (groups), and field:value filters (repo:, run:, job:, step:, branch:, level:, …).
    ///
    /// NOT binds tightest, then AND (also implicit between words), then OR: `a b OR c` is
    /// `(a b) OR c`, and `NOT a` alone is every line without `a`. Several arguments are one
    /// query, joined with spaces (`search panicked at` is `search 'panicked at'`); a query
    /// may start with `-` (`search -flaky timeout`). Lowercase and/or/not are words;
    /// `net::x`, URLs and `C:\path` are text. A bare word of 7 to 40 hex digits with a
    /// letter a-f (`search 44875c6`, a pasted commit) also matches every line of the runs
    /// whose head sha starts with it; quote it ("44875c6") for the word alone. A note on
    /// stderr (not with --quiet) says so when a query is read in a way its writer may not
    /// have meant.
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub(crate) query: Vec<String>,
    /// Only this repository (OWNER/REPO).
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// Only this run.
    #[arg(long, value_name = "ID")]
    pub(crate) run: Option<u64>,
    /// Only this attempt.
    #[arg(long, value_name = "N")]
    pub(crate) attempt: Option<u32>,
    /// Only this job: its id, or its name in any case (`test` is every `test (…)` of a
    /// matrix; `integ*` a prefix). Narrows the query's `job:`.
    #[arg(long, value_name = "NAME")]
    pub(crate) job: Option<String>,
    /// Only this step: its number, or its name in any case (`"Run cargo*"` a prefix).
    #[arg(long, value_name = "NAME_OR_NUMBER")]
    pub(crate) step: Option<String>,
    /// Only runs of this branch.
    #[arg(long)]
    pub(crate) branch: Option<String>,
    /// Only lines of this level (error, warning, notice, debug, info).
    #[arg(long)]
    pub(crate) level: Option<String>,
    /// Only lines written since: an age (`30min`, `12h`, `7d`, `2w`, `3mo`), a day (from its
    /// start, in --tz) or a date-time. Narrows the query's `after:` and `date:`.
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Only lines written until (same forms; a day is included, to its end).
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,
    /// Lines of context before and after each hit.
    #[arg(short = 'C', long, value_name = "N")]
    pub(crate) context: Option<usize>,
    /// Lines of context after each hit.
    #[arg(short = 'A', long, value_name = "N")]
    pub(crate) after_context: Option<usize>,
    /// Lines of context before each hit.
    #[arg(short = 'B', long, value_name = "N")]
    pub(crate) before_context: Option<usize>,
    /// At most this many hits (with --count-by, groups).
    #[arg(short = 'n', long, default_value_t = 50, value_name = "LIMIT")]
    pub(crate) limit: usize,
    /// Skip this many hits (with --count-by, groups) first: `-n 50 --offset 50` is the second
    /// page.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) offset: usize,
    /// Order of hits: newest, oldest or relevance [default: newest]; of --count-by groups:
    /// count (most lines first) or key (run, job, step by id; branch, day by name) [default:
    /// count; key for day].
    #[arg(long, value_enum)]
    pub(crate) sort: Option<Sort>,
    /// Print the number of matching lines only.
    #[arg(long, conflicts_with = "count_by")]
    pub(crate) count: bool,
    /// Print the number of matching lines per run, job, step, branch or day: a name (`CI #12`,
    /// the job's, `job › N step`) and a count per line.
    #[arg(long, value_enum, value_name = "GROUP")]
    pub(crate) count_by: Option<CountBy>,
    /// One JSON object per hit per line (see README.md for the fields); with --count or
    /// --count-by, one object.
    #[arg(long)]
    pub(crate) json: bool,
}

impl SearchArgs {
    /// The query's arguments as one query string.
    pub(crate) fn query_text(&self) -> String {
        self.query.join(" ")
    }
}

/// The command line with `search`'s query words, those that are none of its options even if
/// they start with a single `-` (`-flaky`), moved in their order behind a `--`: clap then reads every
/// option wherever it is (`search timeout -n 5`), and `-word` as a word of the query.
pub(crate) fn query_last(args: Vec<OsString>) -> Vec<OsString> {
    // Building clap's command costs every process something: only a search needs it.
    if !args.iter().skip(1).any(|arg| arg == "search") {
        return args;
    }
    let mut cli = Cli::command();
    cli.build();
    let mut at = 1;
    // The subcommand is the first argument that is no global option or its value.
    while let Some(arg) = args.get(at) {
        match option(&cli, arg) {
            Some(takes_next) => at += 1 + usize::from(takes_next),
            None => break,
        }
    }
    let (Some(search), Some(name)) = (cli.find_subcommand("search"), args.get(at)) else {
        return args;
    };
    if name != search.get_name() {
        return args;
    }
    let mut options = args[..=at].to_vec();
    let mut words = Vec::new();
    let mut rest = args[at + 1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            words.extend(rest.by_ref().cloned());
            break;
        }
        // An unknown `--long` is a mistyped option, for clap to name.
        let long = arg.to_str().is_some_and(|a| a.starts_with("--"));
        match option(search, arg).or(long.then_some(false)) {
            Some(takes_next) => {
                options.push(arg.clone());
                if takes_next {
                    options.extend(rest.next().cloned());
                }
            }
            None => words.push(arg.clone()),
        }
    }
    if !words.is_empty() {
        options.push("--".into());
        options.extend(words);
    }
    options
}

/// Whether `arg` is an option of `command` (`--name`, `--name=value`, `-n`, `-n5`, `-qv`):
/// `Some(true)` when its value is the next argument.
fn option(command: &clap::Command, arg: &OsStr) -> Option<bool> {
    let arg = arg.to_str()?;
    let takes = |a: &Arg| a.get_action().takes_values();
    if let Some(long) = arg.strip_prefix("--") {
        let (name, attached) = long
            .split_once('=')
            .map_or((long, false), |(n, _)| (n, true));
        let found = command
            .get_arguments()
            .find(|a| a.get_long() == Some(name))?;
        return Some(takes(found) && !attached);
    }
    let shorts = arg.strip_prefix('-').filter(|s| !s.is_empty())?;
    for (i, c) in shorts.char_indices() {
        let found = command.get_arguments().find(|a| a.get_short() == Some(c))?;
        if takes(found) {
            return Some(i + c.len_utf8() == shorts.len());
        }
    }
    Some(false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Sort {
    Newest,
    Oldest,
    Relevance,
    Count,
    Key,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CountBy {
    Run,
    Job,
    Step,
    Branch,
    Day,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The run's id.
    pub(crate) run: u64,
    /// The repository, when two indexed repositories have the run id.
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// Only this attempt [default: every attempt].
    #[arg(long, value_name = "N")]
    pub(crate) attempt: Option<u32>,
    /// Only this job: its id, or its name in any case (`test` is every `test (…)` of a
    /// matrix; `integ*` a prefix).
    #[arg(long, value_name = "NAME_OR_ID")]
    pub(crate) job: Option<String>,
    /// Only this step: its number, or its name in any case (`"Run cargo*"` a prefix).
    #[arg(long, value_name = "NAME_OR_NUMBER")]
    pub(crate) step: Option<String>,
    /// Print each line's timestamp (RFC 3339, in --tz) before its text.
    #[arg(long)]
    pub(crate) timestamps: bool,
    /// One JSON object per line (the fields of `search --json`).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ErrorsArgs {
    /// Only this repository (OWNER/REPO).
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// Only lines written since: an age (`30min`, `12h`, `7d`, `2w`, `3mo`), a day (from its
    /// start, in --tz) or a date-time [default: 30d].
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Only lines written until (same forms; a day is included, to its end).
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,
    /// Only runs of this branch.
    #[arg(long)]
    pub(crate) branch: Option<String>,
    /// Only runs of this workflow (name or file).
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// Only this job: its id, or its name in any case (`test` is every `test (…)` of a
    /// matrix; `integ*` a prefix).
    #[arg(long, value_name = "NAME")]
    pub(crate) job: Option<String>,
    /// Order: by runs affected, or what started most recently first.
    #[arg(long, value_enum, default_value_t = ErrorSort::Runs)]
    pub(crate) sort: ErrorSort,
    /// At most this many signatures.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "LIMIT")]
    pub(crate) limit: usize,
    /// One JSON object per signature per line (see README.md for the fields).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FlakyArgs {
    /// Only this repository (OWNER/REPO).
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// Only runs created since: an age (`30min`, `12h`, `7d`, `2w`, `3mo`), a day (in --tz) or
    /// a date-time [default: 30d].
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Only runs of this branch.
    #[arg(long)]
    pub(crate) branch: Option<String>,
    /// Only runs of this workflow (name or file, case-insensitive).
    #[arg(long)]
    pub(crate) workflow: Option<String>,
    /// Only this job (name, case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub(crate) job: Option<String>,
    /// At most this many jobs, the most flaky first.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "LIMIT")]
    pub(crate) limit: usize,
    /// One JSON object per job per line (see README.md for the fields).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    /// Only this repository (OWNER/REPO).
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// At most this many runs, the newest first.
    #[arg(short = 'n', long, default_value_t = 20, value_name = "LIMIT")]
    pub(crate) limit: usize,
    /// One JSON object per run per line (see README.md for the fields).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The failed run's id.
    pub(crate) run: u64,
    /// The repository, when two indexed repositories have the run id.
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// The attempt [default: the latest indexed].
    #[arg(long, value_name = "N")]
    pub(crate) attempt: Option<u32>,
    /// Only this failed job: its id, or its name in any case (`test` is every `test (…)` of a
    /// matrix; `integ*` a prefix).
    #[arg(long, value_name = "NAME_OR_ID")]
    pub(crate) job: Option<String>,
    /// One JSON object per line (the fields of `search --json`).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ErrorSort {
    Runs,
    Newest,
}

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// As JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Delete the runs of the attempts found incomplete, so that the next sync fetches them
    /// again (damaged files need the index rebuilt: delete it and sync again).
    #[arg(long)]
    pub(crate) repair: bool,
    /// As JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// Delete runs created longer ago than this (`90d`, `12w`, `3mo`, or before a day or
    /// date-time). No default: nothing is deleted unless asked.
    #[arg(long, value_name = "AGE")]
    pub(crate) older_than: Option<String>,
    /// Only runs of this repository (all of them, without --older-than).
    #[arg(long, value_name = "OWNER/REPO")]
    pub(crate) repo: Option<String>,
    /// Say what would be deleted, and delete nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// As JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(test)]
mod tests {

    #[test]
    fn sizes_are_read_with_binary_units() {
        let cases = [
            ("8GiB", Ok(8 << 30)),
            ("512 MiB", Ok(512 << 20)),
            ("1000", Ok(1000)),
            ("4k", Ok(4096)),
            ("2tb", Ok(2 << 40)),
        ];
        for (text, size) in cases {
            assert_eq!(byte_size(text), size, "{text}");
        }
        for bad in ["", "GiB", "8 parsecs", "-1", "99999999999TiB"] {
            assert!(byte_size(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn search_words_go_behind_the_options_in_their_order() {
        let cases: &[(&str, &str)] = &[
            (
                "logidx search -roundtrip panicked",
                "logidx search -- -roundtrip panicked",
            ),
            (
                "logidx search panicked at -n 5",
                "logidx search -n 5 -- panicked at",
            ),
            (
                "logidx search -n5 -C 2 a -b",
                "logidx search -n5 -C 2 -- a -b",
            ),
            (
                "logidx --index /x search --limit=3 a --json -q -qv",
                "logidx --index /x search --limit=3 --json -q -qv -- a",
            ),
            ("logidx search a -- -n 5", "logidx search -- a -n 5"),
            ("logidx search -quiet a", "logidx search -- -quiet a"),
            ("logidx search a --bogus", "logidx search --bogus -- a"),
            ("logidx search", "logidx search"),
            ("logidx show 1 -n", "logidx show 1 -n"),
        ];
        for (input, expected) in cases {
            let args = input.split(' ').map(OsString::from).collect();
            let out: Vec<String> = query_last(args)
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect();
            assert_eq!(out.join(" "), *expected, "{input}");
        }
    }

    #[test]
    fn intervals_read_as_users_write_them() {
        let secs = |text| interval(text).map(|d| d.as_secs());
        for (text, want) in [
            ("30s", 30),
            ("5min", 300),
            ("1h", 3_600),
            ("45", 45),
            ("1d", 86_400),
        ] {
            assert_eq!(secs(text), Ok(want), "{text}");
        }
        // The grammar of `--since`: a bare `m` is ambiguous there, so it is here.
        assert_eq!(
            interval("2m").unwrap_err(),
            "`2m` is ambiguous: write `2min` for minutes"
        );
        for text in ["soon", "5days", "250ms", "1mo"] {
            let error = interval(text).unwrap_err();
            assert!(
                error.starts_with(&format!("`{text}` is not a duration: use ")),
                "{error}"
            );
        }
        assert_eq!(
            interval("0s").unwrap_err(),
            "`0s` is too short: a watch waits at least `1s`"
        );
    }
}
