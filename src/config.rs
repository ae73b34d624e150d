//! The configuration file: what a box should keep fresh, read from
//! `$XDG_CONFIG_HOME/logidx/config.toml` (else `~/.config/logidx/config.toml`) or the file
//! given.
//!
//! The file holds the values of command-line flags, by section: top-level keys are the global
//! options, `[sync]` and `[app]` those of `logidx sync`. It never holds a secret: the App's key
//! is the path of its PEM file, and a token is refused with where to put it instead. Each
//! value keeps where it was written, so that errors and `logidx config show` can name the
//! line. Relative paths are relative to the file's directory.
//!
//! ```
//! let config = logidx::config::Config::parse(
//!     "/etc/logidx/config.toml".into(),
//!     "index = \"/var/lib/logidx\"\n[sync]\nrepos = [\"acme\", \"acme/widgets\"]\n",
//! )?;
//! let repos = config.entries().into_iter().find(|e| e.key == "sync.repos").unwrap();
//! assert_eq!((repos.values.as_slice(), repos.line), (&["acme".to_owned(), "acme/widgets".to_owned()][..], 3));
//! # Ok::<(), logidx::config::ConfigError>(())
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

/// The file's location when none is given: `$XDG_CONFIG_HOME/logidx/config.toml`, else
/// `~/.config/logidx/config.toml`; `None` when neither variable is set.
pub fn default_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(dir.join("logidx").join("config.toml"))
}

/// A configuration file that was read and is valid.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    text: String,
    file: ConfigFile,
}

/// One value of the file: its key as written in the file (`sync.jobs`), its value as the
/// command line would spell it (an array gives several), and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The section and key: `index`, `sync.repos`, `app.key`.
    pub key: &'static str,
    /// The value, or values of an array, as command-line arguments.
    pub values: Vec<String>,
    /// 1-based line of the value.
    pub line: usize,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file named by `--config` or `LOGIDX_CONFIG` is not there.
    #[error("config file `{}` not found", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file cannot be read.
    #[error("cannot read config file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has a key logidx does not know, or a value of the wrong type.
    #[error("config file `{}` line {line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The file holds a secret: tokens and keys belong in the environment or files of their own.
    #[error("config file `{}` line {line}: `{key}` is a secret, and secrets are never read from the config file", path.display())]
    Secret {
        /// The file.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// The key, with its section.
        key: String,
    },
}

impl ConfigError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::NotFound { .. } => Some(
                "create it, or point --config (LOGIDX_CONFIG) at an existing file".to_owned(),
            ),
            ConfigError::Secret { key, .. } if key.starts_with("app.") => Some(
                "write the App's private key to a PEM file and set `app.key` to its path (or pass --app-key FILE.pem)".to_owned(),
            ),
            ConfigError::Secret { .. } => Some(
                "remove it and set GH_TOKEN or GITHUB_TOKEN in the environment, or log in with `gh auth login`".to_owned(),
            ),
            _ => None,
        }
    }
}

/// The result of reading a configuration file.
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;

impl Config {
    /// Reads the file at `path`. When `required` (it was named by the user), a missing file
    /// is an error; else (the default location) it is `None`.
    pub fn load(path: &Path, required: bool) -> Result<Option<Config>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(path.to_owned(), &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::NotFound {
                path: path.to_owned(),
            }),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses `text`, read from `path`.
    pub fn parse(path: PathBuf, text: &str) -> Result<Config> {
        let line_of = |at: usize| line_of(text, at);
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            line: e.span().map_or(1, |span| line_of(span.start)),
            message: e.message().trim_end().to_owned(),
            path: path.clone(),
        })?;
        if let Some((key, span)) = file.secret() {
            return Err(ConfigError::Secret {
                line: line_of(span.start),
                key: key.to_owned(),
                path,
            });
        }
        if let Some(key) = &file.app.key
            && key.get_ref().to_string_lossy().contains("-----BEGIN")
        {
            return Err(ConfigError::Secret {
                line: line_of(key.span().start),
                key: "app.key".to_owned(),
                path,
            });
        }
        Ok(Config {
            path,
            text: text.to_owned(),
            file,
        })
    }

    /// Every value the file sets, in the file's schema order.
    pub fn entries(&self) -> Vec<Entry> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let path = |p: &PathBuf| vec![dir.join(p).to_string_lossy().into_owned()];
        let one = |s: &dyn ToString| vec![s.to_string()];
        let f = &self.file;
        let (sync, app) = (&f.sync, &f.app);
        let mut entries = Vec::new();
        let mut add = |key, value: Option<(Vec<String>, Range<usize>)>| {
            if let Some((values, span)) = value {
                let line = line_of(&self.text, span.start);
                entries.push(Entry { key, values, line });
            }
        };
        fn with<T>(
            value: &Option<Spanned<T>>,
            f: impl Fn(&T) -> Vec<String>,
        ) -> Option<(Vec<String>, Range<usize>)> {
            value.as_ref().map(|v| (f(v.get_ref()), v.span()))
        }
        add("index", with(&f.index, path));
        add("api_url", with(&f.api_url, |s| one(s)));
        add("tz", with(&f.tz, |s| one(s)));
        add("sync.repos", with(&sync.repos, Clone::clone));
        add("sync.exclude", with(&sync.exclude, Clone::clone));
        add(
            "sync.include_archived",
            with(&sync.include_archived, |b| one(b)),
        );
        add("sync.include_forks", with(&sync.include_forks, |b| one(b)));
        add("sync.since", with(&sync.since, |s| one(s)));
        add("sync.jobs", with(&sync.jobs, |n| one(n)));
        add("sync.interval", with(&sync.interval, |i| one(i)));
        add("sync.max_rate", with(&sync.max_rate, |n| one(n)));
        add("sync.reserve", with(&sync.reserve, |n| one(n)));
        add("sync.notify", with(&sync.notify, Clone::clone));
        add("app.id", with(&app.id, |s| one(s)));
        add("app.key", with(&app.key, path));
        add("app.installation", with(&app.installation, |s| one(s)));
        entries
    }
}

/// 1-based line of byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The file as written. Each key is a flag's value; see README.md, *Configuration*.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// `--index`.
    index: Option<Spanned<PathBuf>>,
    /// `--api-url`.
    api_url: Option<Spanned<String>>,
    /// `--tz`.
    tz: Option<Spanned<String>>,
    #[serde(default)]
    sync: SyncSection,
    #[serde(default)]
    app: AppSection,
    /// Refused: tokens are read from the environment.
    token: Option<Spanned<IgnoredAny>>,
    /// Refused, as `token`.
    gh_token: Option<Spanned<IgnoredAny>>,
    /// Refused, as `token`.
    github_token: Option<Spanned<IgnoredAny>>,
}

/// `[sync]`: the flags of `logidx sync`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncSection {
    /// What to sync: `OWNER` or `OWNER/REPO`, as its arguments.
    repos: Option<Spanned<Vec<String>>>,
    /// `--exclude`, each a glob on repository names.
    exclude: Option<Spanned<Vec<String>>>,
    /// `--include-archived`.
    include_archived: Option<Spanned<bool>>,
    /// `--include-forks`.
    include_forks: Option<Spanned<bool>>,
    /// `--since`.
    since: Option<Spanned<String>>,
    /// `--jobs`.
    jobs: Option<Spanned<u16>>,
    /// The interval of `--watch`, when watching (`60s`, `5min`, or seconds).
    interval: Option<Spanned<Scalar>>,
    /// `--max-rate`: requests per hour.
    max_rate: Option<Spanned<u64>>,
    /// `--reserve`: percent of the token's limit left to others.
    reserve: Option<Spanned<u8>>,
    /// `--notify`: webhook URLs.
    notify: Option<Spanned<Vec<String>>>,
    /// Refused, as the top level's `token`.
    token: Option<Spanned<IgnoredAny>>,
}

/// `[app]`: the GitHub App logidx authenticates as.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppSection {
    /// `--app-id`: the App's id or client id.
    id: Option<Spanned<Scalar>>,
    /// `--app-key`: the path of its private key (PEM), never the key.
    key: Option<Spanned<PathBuf>>,
    /// `--installation`.
    installation: Option<Spanned<u64>>,
    /// Refused: an installation token is made from the key.
    token: Option<Spanned<IgnoredAny>>,
    /// Refused: the key is a file of its own.
    private_key: Option<Spanned<IgnoredAny>>,
}

impl ConfigFile {
    /// The first secret the file holds: its key and where.
    fn secret(&self) -> Option<(&'static str, Range<usize>)> {
        [
            ("token", &self.token),
            ("gh_token", &self.gh_token),
            ("github_token", &self.github_token),
            ("sync.token", &self.sync.token),
            ("app.token", &self.app.token),
            ("app.private_key", &self.app.private_key),
        ]
        .into_iter()
        .find_map(|(key, value)| value.as_ref().map(|v| (key, v.span())))
    }
}

/// A value written as a string or a number (`interval = 60` or `"60s"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Integer(u64),
    String(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Integer(n) => write!(f, "{n}"),
            Scalar::String(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse("/etc/logidx/config.toml".into(), text)
    }

    #[test]
    fn every_key_is_an_entry_with_its_line() {
        let text = r#"
index = "data"
api_url = "https://ghe.example/api/v3"
tz = "Europe/Berlin"

[sync]
repos = ["acme", "acme/widgets"]
exclude = ["legacy-*"]
include_archived = true
include_forks = false
since = "7d"
jobs = 8
interval = "5min"
max_rate = 4000
reserve = 30
notify = ["https://hooks.example/a?k=1"]

[app]
id = 12345
key = "/etc/logidx/app.pem"
installation = 42
"#;
        let entries = parse(text).unwrap().entries();
        let got: Vec<(&str, String, usize)> = entries
            .iter()
            .map(|e| (e.key, e.values.join(","), e.line))
            .collect();
        let expected = [
            ("index", "/etc/logidx/data", 2),
            ("api_url", "https://ghe.example/api/v3", 3),
            ("tz", "Europe/Berlin", 4),
            ("sync.repos", "acme,acme/widgets", 7),
            ("sync.exclude", "legacy-*", 8),
            ("sync.include_archived", "true", 9),
            ("sync.include_forks", "false", 10),
            ("sync.since", "7d", 11),
            ("sync.jobs", "8", 12),
            ("sync.interval", "5min", 13),
            ("sync.max_rate", "4000", 14),
            ("sync.reserve", "30", 15),
            ("sync.notify", "https://hooks.example/a?k=1", 16),
            ("app.id", "12345", 19),
            ("app.key", "/etc/logidx/app.pem", 20),
            ("app.installation", "42", 21),
        ];
        let expected: Vec<(&str, String, usize)> = expected
            .iter()
            .map(|(k, v, l)| (*k, (*v).to_owned(), *l))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn bad_files_name_the_key_and_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "index = \"x\"\n\n[sync]\njobz = 3\n",
                4,
                "unknown field `jobz`",
            ),
            ("[sink]\njobs = 3\n", 1, "unknown field `sink`"),
            ("[sync]\njobs = \"many\"\n", 2, "invalid type"),
            ("[sync]\nrepos = [\"a\",\n", 2, ""),
        ];
        for (text, line, message) in cases {
            match parse(text) {
                Err(ConfigError::Invalid {
                    line: got,
                    message: got_message,
                    ..
                }) => {
                    assert_eq!(got, *line, "{text}");
                    assert!(got_message.contains(message), "{text}: {got_message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn secrets_are_refused_with_their_key() {
        let cases = [
            ("api_url = \"x\"\ntoken = \"ghp_x\"\n", "token", 2),
            ("github_token = \"ghp_x\"\n", "github_token", 1),
            ("[sync]\ntoken = \"ghp_x\"\n", "sync.token", 2),
            ("[app]\nid = 1\nprivate_key = \"x\"\n", "app.private_key", 3),
            (
                "[app]\nkey = \"-----BEGIN RSA PRIVATE KEY-----\\nMII\"\n",
                "app.key",
                2,
            ),
        ];
        for (text, key, line) in cases {
            match parse(text) {
                Err(e @ ConfigError::Secret { .. }) => {
                    let ConfigError::Secret {
                        key: k, line: l, ..
                    } = &e
                    else {
                        unreachable!()
                    };
                    assert_eq!((k.as_str(), *l), (key, line), "{text}");
                    assert!(!e.to_string().contains("ghp_x"), "{e}");
                    assert!(e.hint().is_some());
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_file_is_an_error_only_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(Config::load(&path, false).unwrap().is_none());
        assert!(matches!(
            Config::load(&path, true),
            Err(ConfigError::NotFound { .. })
        ));
    }
}
