//! The configuration file on the command line: each of its values becomes the default of the
//! option it names, so that clap's own order gives the precedence (flags, then environment,
//! then the file, then defaults); and `logidx config show|path`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory};
use logidx::config::{Config, Entry};
use serde::Serialize;

use super::args::Cli;
use super::color::inert;

/// A key of the file and the option it sets.
struct Setting {
    /// As in the file: `sync.jobs`.
    key: &'static str,
    /// The subcommand whose option it is (`""`: a global option).
    command: &'static str,
    /// The option's clap id.
    arg: &'static str,
    /// What of the option the file's value is.
    gives: Gives,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gives {
    /// The value when no flag or environment variable gives one.
    Default,
    /// The value of a flag given without one (`--watch` alone).
    MissingValue,
    /// As `Default`, but webhook URLs, which carry secrets: printed as `scheme://host/…`.
    Urls,
}

const fn set(key: &'static str, command: &'static str, arg: &'static str) -> Setting {
    Setting {
        key,
        command,
        arg,
        gives: Gives::Default,
    }
}

/// Every key of the file: adding an option to the file is a line here and a field in
/// `logidx::config`. A key whose option this build's command does not define is ignored.
const SETTINGS: &[Setting] = &[
    set("index", "", "index"),
    set("api_url", "", "api_url"),
    set("tz", "", "tz"),
    set("sync.repos", "sync", "repos"),
    set("sync.exclude", "sync", "exclude"),
    set("sync.include_archived", "sync", "include_archived"),
    set("sync.include_forks", "sync", "include_forks"),
    set("sync.since", "sync", "since"),
    set("sync.jobs", "sync", "jobs"),
    Setting {
        gives: Gives::MissingValue,
        ..set("sync.interval", "sync", "watch")
    },
    set("sync.max_rate", "sync", "max_rate"),
    set("sync.reserve", "sync", "reserve"),
    Setting {
        gives: Gives::Urls,
        ..set("sync.notify", "sync", "notify")
    },
    set("app.id", "sync", "app_id"),
    set("app.key", "sync", "app_key"),
    set("app.installation", "sync", "installation"),
];

/// The command line as the configuration file completes it.
pub(crate) struct Layered {
    /// The command, each value of the file a default of its option.
    pub(crate) command: clap::Command,
    /// The file in force, whether it exists or not, and how it was chosen.
    path: Option<(PathBuf, Source)>,
    /// The file's values that apply.
    from_file: Vec<Entry>,
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Flag(String),
    Env(String),
    File(PathBuf, usize),
    Default,
    Unset,
}

/// The command line of `args`, with the values of the configuration file it names (or of the
/// default one, when it exists).
pub(crate) fn layered(args: &[OsString]) -> anyhow::Result<Layered> {
    let (path, about_config) = config_path(args);
    // A file named but missing is an error, but to the commands that say where it is.
    let config = match &path {
        Some((path, source)) => Config::load(path, *source != Source::Default && !about_config)?,
        None => None,
    };
    let mut command = Cli::command();
    let mut from_file = Vec::new();
    for entry in config.iter().flat_map(Config::entries) {
        let (Some(setting), Some(config)) = (
            SETTINGS.iter().find(|s| s.key == entry.key),
            config.as_ref(),
        ) else {
            continue;
        };
        let Some(target) = target_of(&command, setting) else {
            continue;
        };
        let arg = argument(&command, target, setting.arg).expect("the target defines it");
        check(arg, &entry).with_context(|| {
            format!(
                "config file `{}` line {}: invalid `{}`",
                config.path.display(),
                entry.line,
                entry.key
            )
        })?;
        let values = entry.values.clone();
        let gives = setting.gives;
        let change = move |arg: Arg| match gives {
            Gives::MissingValue => arg.default_missing_values(values),
            Gives::Urls => arg
                .required(false)
                .default_values(values)
                .hide_default_value(true),
            Gives::Default => arg.required(false).default_values(values),
        };
        command = match target {
            "" => command.mut_arg(setting.arg, change),
            sub => command.mut_subcommand(sub, |s| s.mut_arg(setting.arg, change)),
        };
        from_file.push(entry);
    }
    Ok(Layered {
        command,
        path,
        from_file,
    })
}

/// The configuration file `args` or the environment names, else the default location; and
/// whether the command is `config`'s own.
fn config_path(args: &[OsString]) -> (Option<(PathBuf, Source)>, bool) {
    let matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok();
    let about_config = matches
        .as_ref()
        .is_some_and(|m| m.subcommand_name() == Some("config"));
    let given = matches.as_ref().and_then(|m| {
        let path = m.get_one::<PathBuf>("config")?.clone();
        Some(match m.value_source("config") {
            Some(ValueSource::EnvVariable) => (path, Source::Env("LOGIDX_CONFIG".to_owned())),
            _ => (path, Source::Flag("--config".to_owned())),
        })
    });
    // `--help` and the like end the parse early: the environment still counts.
    let from_env = || {
        std::env::var_os("LOGIDX_CONFIG")
            .filter(|v| !v.is_empty())
            .map(|p| (PathBuf::from(p), Source::Env("LOGIDX_CONFIG".to_owned())))
    };
    let path = given
        .or_else(from_env)
        .or_else(|| logidx::config::default_path().map(|p| (p, Source::Default)));
    (path, about_config)
}

/// The command that defines a setting's option: its own, else the global options (an option
/// may be made global later); `None` when this build has no such option.
fn target_of(command: &clap::Command, setting: &Setting) -> Option<&'static str> {
    [setting.command, ""]
        .into_iter()
        .find(|target| argument(command, target, setting.arg).is_some())
}

fn argument<'c>(command: &'c clap::Command, target: &str, id: &str) -> Option<&'c Arg> {
    let command = match target {
        "" => command,
        sub => command.find_subcommand(sub)?,
    };
    command.get_arguments().find(|a| a.get_id() == id)
}

/// Parses the file's values as the option would parse them on the command line.
fn check(arg: &Arg, entry: &Entry) -> anyhow::Result<()> {
    if !arg.get_action().takes_values() {
        return Ok(()); // a switch: the file's value is a TOML boolean
    }
    let value = Arg::new("value")
        .value_name(entry.key)
        .value_parser(arg.get_value_parser().clone())
        .num_args(1..)
        .allow_hyphen_values(true);
    let values = entry.values.iter().map(OsString::from);
    clap::Command::new("config")
        .arg(value)
        .no_binary_name(true)
        .try_get_matches_from(values)
        .map_err(|e| {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            anyhow::anyhow!(
                "{}",
                first.strip_prefix("error: ").unwrap_or(first).to_owned()
            )
        })?;
    Ok(())
}

/// `logidx config path`.
pub(crate) fn path(layered: &Layered) -> anyhow::Result<ExitCode> {
    let (path, _) = layered
        .path
        .as_ref()
        .context("no configuration file: neither XDG_CONFIG_HOME nor HOME is set\nhint: pass --config FILE or set LOGIDX_CONFIG")?;
    writeln!(std::io::stdout().lock(), "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}

/// One setting in force, as `config show --json` prints it.
#[derive(Serialize)]
struct Shown {
    key: String,
    /// Its values; empty when unset.
    values: Vec<String>,
    /// `flag`, `env`, `file`, `default` or `unset`.
    source: &'static str,
    /// The flag, the variable, or `PATH:LINE`.
    from: Option<String>,
}

/// `logidx config show`: the globals as `matches` has them (the flags of this command line
/// count), the options of `sync` as the environment and the file give them.
pub(crate) fn show(
    layered: &Layered,
    matches: &ArgMatches,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let sync = layered
        .command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(["logidx", "sync"])?;
    let sync = sync.subcommand_matches("sync");
    let mut shown = Vec::new();
    if let Some((path, source)) = &layered.path {
        let exists = path.exists();
        let note = if exists { "" } else { " (not there)" };
        shown.push(shown_of(
            "config",
            vec![format!("{}{note}", path.display())],
            source.clone(),
        ));
    }
    for setting in SETTINGS {
        let Some(target) = target_of(&layered.command, setting) else {
            continue;
        };
        let arg = argument(&layered.command, target, setting.arg).expect("the target defines it");
        let matches = match target {
            "" => Some(matches),
            _ => sync,
        };
        let values: Vec<String> = matches
            .and_then(|m| m.get_raw(setting.arg))
            .map(|raw| raw.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let in_file = layered.from_file.iter().find(|e| e.key == setting.key);
        let source = match matches.and_then(|m| m.value_source(setting.arg)) {
            Some(ValueSource::CommandLine) => {
                Source::Flag(format!("--{}", arg.get_long().unwrap_or(setting.arg)))
            }
            Some(ValueSource::EnvVariable) => Source::Env(
                arg.get_env()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            _ if setting.gives == Gives::MissingValue => match in_file {
                Some(entry) => Source::File(config_file(layered), entry.line),
                None => Source::Default,
            },
            Some(_) => match in_file {
                Some(entry) => Source::File(config_file(layered), entry.line),
                None => Source::Default,
            },
            None => Source::Unset,
        };
        let values = match (setting.gives, in_file) {
            (Gives::MissingValue, Some(entry)) => entry.values.clone(),
            (Gives::Urls, _) => values.iter().map(|u| logidx::notify::redact(u)).collect(),
            _ => values,
        };
        shown.push(shown_of(setting.key, values, source));
    }
    shown.push(token());

    let mut out = std::io::stdout().lock();
    if json {
        for setting in &shown {
            logidx::json::write_line(&mut out, setting)?;
        }
    } else {
        let width = shown.iter().map(|s| s.key.len()).max().unwrap_or(0);
        for setting in &shown {
            let value = match setting.values.as_slice() {
                [] => "-".to_owned(),
                values => values.join(", "),
            };
            let from = setting
                .from
                .as_ref()
                .map_or(setting.source.to_owned(), |f| {
                    format!("{} {f}", setting.source)
                });
            let line = format!("{:width$}  {value}  ({from})", setting.key);
            writeln!(out, "{}", inert(&line))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn config_file(layered: &Layered) -> PathBuf {
    layered
        .path
        .as_ref()
        .map(|(p, _)| p.clone())
        .unwrap_or_default()
}

fn shown_of(key: &str, values: Vec<String>, source: Source) -> Shown {
    let (source, from) = match source {
        Source::Flag(flag) => ("flag", Some(flag)),
        Source::Env(var) => ("env", Some(var)),
        Source::File(path, line) => ("file", Some(format!("{}:{line}", path.display()))),
        Source::Default => ("default", None),
        Source::Unset => ("unset", None),
    };
    Shown {
        key: key.to_owned(),
        values,
        source,
        from,
    }
}

/// The token, said to be set or not: never its value. Without one in the environment, sync
/// asks `gh auth token`.
fn token() -> Shown {
    let set = ["GH_TOKEN", "GITHUB_TOKEN"]
        .into_iter()
        .find(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    match set {
        Some(var) => shown_of("token", vec!["set".to_owned()], Source::Env(var.to_owned())),
        None => shown_of(
            "token",
            vec!["not set (sync asks `gh auth token`)".to_owned()],
            Source::Unset,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_file_is_a_setting() {
        let text = "index = \"i\"\napi_url = \"u\"\ntz = \"UTC\"\n[sync]\nrepos = [\"a/b\"]\nexclude = [\"x\"]\ninclude_archived = true\ninclude_forks = true\nsince = \"1d\"\njobs = 2\ninterval = 60\nmax_rate = 1\nreserve = 1\nnotify = [\"http://h/\"]\n[app]\nid = 1\nkey = \"k.pem\"\ninstallation = 2\n";
        let config = Config::parse("/c/config.toml".into(), text).unwrap();
        let keys: Vec<&str> = config.entries().iter().map(|e| e.key).collect();
        let settings: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        assert_eq!(keys, settings);
    }

    #[test]
    fn every_setting_names_a_command_of_the_cli() {
        let command = Cli::command();
        for setting in SETTINGS {
            assert!(
                setting.command.is_empty() || command.find_subcommand(setting.command).is_some(),
                "{}",
                setting.key
            );
        }
    }
}
