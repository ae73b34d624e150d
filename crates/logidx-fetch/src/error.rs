//! What can go wrong talking to GitHub, with what the user can do about it.

use std::time::Duration;

/// Errors of the GitHub client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No token in the environment and none from `gh`.
    #[error("no GitHub token found")]
    NoToken,

    /// The token was refused.
    #[error("GitHub refused the token (HTTP 401) for `{url}`")]
    Unauthorized {
        /// The request.
        url: String,
    },

    /// A GitHub App's private key that cannot be used. The reason never quotes the key.
    #[error("the GitHub App's private key cannot be used: {reason}")]
    BadAppKey {
        /// What is wrong with it.
        reason: String,
    },

    /// GitHub refused the App's JWT (HTTP 401): the App id is wrong, or the key is not its.
    #[error("GitHub refused the JWT of the App `{app}` (HTTP 401): {message}")]
    AppRefused {
        /// The App's id, as given.
        app: String,
        /// GitHub's `message`.
        message: String,
    },

    /// The App is not installed where it was asked to work.
    #[error("the GitHub App `{app}` is not installed on {on}")]
    NotInstalled {
        /// The App's id, as given.
        app: String,
        /// The owner, repository or installation id, quoted.
        on: String,
    },

    /// No organisation or user has this login, or the token cannot see it.
    #[error("no organisation or user `{owner}` (HTTP 404)")]
    OwnerNotFound {
        /// The login.
        owner: String,
    },

    /// The repository does not exist or the token cannot see it.
    #[error("repository `{repo}` not found (HTTP 404)")]
    RepoNotFound {
        /// `owner/name`.
        repo: String,
    },

    /// `--workflow` names no workflow of the repository, by id, file name or name.
    #[error("no workflow `{workflow}` in `{repo}`")]
    WorkflowNotFound {
        /// `owner/name`.
        repo: String,
        /// As given.
        workflow: String,
        /// The repository's workflows, as `` `CI` (ci.yml) ``.
        known: Vec<String>,
    },

    /// A repository name that is not `owner/name`.
    #[error("`{0}` is not a repository name of the form `owner/name`")]
    BadRepoName(String),

    /// An answer the client does not retry or cannot use.
    #[error("GitHub answered HTTP {status} for `{url}`: {message}")]
    Status {
        /// The request.
        url: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's `message`, or the start of the body.
        message: String,
    },

    /// Retries ran out on server errors, rate limits or broken connections.
    #[error("`{url}` failed after {tries} tries: {last}")]
    GaveUp {
        /// The request.
        url: String,
        /// How many were made.
        tries: u32,
        /// What the last one ran into.
        last: Failure,
        /// The connection's error, when the last try had one.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// The API host cannot be reached: the connection was refused, the name does not resolve,
    /// or TLS failed. Retried only briefly: waiting would not change it.
    #[error("cannot reach `{host}`: {cause}")]
    Unreachable {
        /// The host, with its port when the URL names one.
        host: String,
        /// Why, in a few words (`connection refused`, `dns error: …`, the TLS error).
        cause: String,
        /// The connection's error.
        #[source]
        source: reqwest::Error,
    },

    /// A body that is not the JSON GitHub documents.
    #[error("unexpected response body from `{url}`")]
    Decode {
        /// The request.
        url: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },

    /// A log (an attempt's archive or a job's log) could not be had.
    #[error("{log}: gave up after {tries} tries; last: {last}")]
    Download {
        /// Whose log.
        log: LogName,
        /// How many were made.
        tries: u32,
        /// What the last one ran into.
        last: Failure,
        /// The transfer's error, when the last try had one.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// Blob storage failed this many downloads in a row the same way: it is down, and further
    /// downloads would only fail slowly. Nothing was wrong with the attempt itself.
    #[error("blob storage failing: {failures} downloads in a row failed with {last}")]
    BlobOutage {
        /// Failed downloads in a row.
        failures: u32,
        /// What the last one ran into, with its cause.
        last: String,
    },

    /// A log redirect without a `Location`.
    #[error("{log}: the redirect has no `Location`")]
    NoLocation {
        /// Whose log.
        log: LogName,
    },

    /// A log over the configured size cap.
    #[error("{log} is over the cap of {cap} bytes")]
    TooLarge {
        /// Whose log.
        log: LogName,
        /// The cap.
        cap: u64,
    },

    /// Writing a log to its spool file failed.
    #[error("cannot spool the {log}")]
    Spool {
        /// Whose log.
        log: LogName,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),

    /// The API base URL is not a URL.
    #[error("API base URL `{0}` is not an http(s) URL")]
    BadBaseUrl(String),
}

impl Error {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Error::NoToken => "set `GH_TOKEN` or `GITHUB_TOKEN`, or log in with `gh auth login`",
            Error::Unauthorized { .. } => "check `GH_TOKEN`/`GITHUB_TOKEN`, or run `gh auth login`",
            Error::RepoNotFound { .. } => "check the name, and that the token can read it",
            Error::BadAppKey { .. } => {
                "give the App's private key as GitHub issued it (`--app-key FILE.pem`)"
            }
            Error::AppRefused { .. } => {
                "check the App id (`--app-id`) and that `--app-key` is that App's private key"
            }
            Error::NotInstalled { .. } => {
                "install the App there, or name its installation with `--installation`"
            }
            Error::OwnerNotFound { .. } => {
                "check the login, and that the token (or the App's installation) can see it"
            }
            Error::TooLarge { .. } => "raise it with `ClientBuilder::max_archive_bytes`",
            Error::WorkflowNotFound { known, .. } if known.is_empty() => {
                "the repository has no workflows"
            }
            Error::WorkflowNotFound { known, .. } => {
                return Some(format!(
                    "give a workflow's name, file name or id: {}",
                    known.join(", ")
                ));
            }
            Error::Unreachable { .. } => {
                "check the API URL (`--api-url`, `LOGIDX_API_URL`, `GH_HOST`) and the network"
            }
            _ => return None,
        };
        Some(hint.to_owned())
    }
}

/// Whose log a download was for, as its errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogName {
    /// The archive of a run's attempt.
    Archive {
        /// The run.
        run_id: u64,
        /// The attempt.
        attempt: u32,
    },
    /// One job's plain-text log.
    Job {
        /// The job.
        job_id: u64,
    },
}

impl std::fmt::Display for LogName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogName::Archive { run_id, attempt } => {
                write!(f, "log archive of run `{run_id}` attempt `{attempt}`")
            }
            LogName::Job { job_id } => write!(f, "log of job `{job_id}`"),
        }
    }
}

/// What one try ran into, when it is worth another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The connection failed (the error is the [`Error`]'s source).
    #[error("connection failed")]
    Connection,
    /// A server error.
    #[error("HTTP {0}")]
    Status(u16),
    /// GitHub's secondary rate limit.
    #[error("secondary rate limit")]
    SecondaryRateLimit,
    /// The primary rate limit, spent.
    #[error("rate limit exhausted")]
    RateLimitExhausted,
    /// A 429 naming neither limit: GitHub's docs call every 429 a rate limit.
    #[error("rate limited (HTTP {0})")]
    RateLimited(u16),
    /// Blob storage refused a signed URL: it expired.
    #[error("blob storage refused the URL (HTTP {0}): expired")]
    Expired(u16),
    /// Blob storage answered another error.
    #[error("blob storage answered HTTP {0}")]
    BlobStatus(u16),
    /// The body broke off (the error is the [`Error`]'s source).
    #[error("transfer broke after {0} bytes")]
    TransferBroke(u64),
    /// Fewer bytes than `Content-Length` said.
    #[error("body ended at {received} of {expected} bytes")]
    ShortBody {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The bytes do not end like a zip archive.
    #[error("the {0} bytes received are not a whole zip archive")]
    NotAZip(u64),
}

/// A failed try: what it ran into, and the transport's error if there was one.
#[derive(Debug)]
pub(crate) struct TryError {
    pub(crate) failure: Failure,
    pub(crate) source: Option<reqwest::Error>,
}

impl TryError {
    /// A try that failed without a transport error.
    pub(crate) fn of(failure: Failure) -> TryError {
        TryError {
            failure,
            source: None,
        }
    }

    /// What the reporter is told: the failure and its cause.
    pub(crate) fn reason(&self) -> String {
        match &self.source {
            Some(e) => format!("{}: {e}", self.failure),
            None => self.failure.to_string(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Describes a wait for messages.
pub(crate) fn describe(wait: Duration) -> String {
    format!("{:.1} s", wait.as_secs_f64())
}
