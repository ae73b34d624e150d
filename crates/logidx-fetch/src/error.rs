//! What can go wrong talking to GitHub, with what the user can do about it.

use std::time::Duration;

/// Errors of the GitHub client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No token in the environment and none from `gh`.
    #[error(
        "no GitHub token found\nhint: set `GH_TOKEN` or `GITHUB_TOKEN`, or log in with `gh auth login`"
    )]
    NoToken,

    /// The token was refused.
    #[error(
        "GitHub refused the token (HTTP 401) for `{url}`\nhint: check `GH_TOKEN`/`GITHUB_TOKEN`, or run `gh auth login`"
    )]
    Unauthorized {
        /// The request.
        url: String,
    },

    /// The repository does not exist or the token cannot see it.
    #[error(
        "repository `{repo}` not found (HTTP 404)\nhint: check the name, and that the token can read it"
    )]
    RepoNotFound {
        /// `owner/name`.
        repo: String,
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
        last: String,
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

    /// A run attempt's archive could not be had.
    #[error("log archive of run `{run_id}` attempt `{attempt}`: {reason}")]
    Download {
        /// The run.
        run_id: u64,
        /// The attempt.
        attempt: u32,
        /// Why: the tries made and what the last one ran into.
        reason: String,
    },

    /// An archive over the configured size cap.
    #[error(
        "log archive of run `{run_id}` attempt `{attempt}` is over the cap of {cap} bytes\nhint: raise it with `ClientBuilder::max_archive_bytes`"
    )]
    TooLarge {
        /// The run.
        run_id: u64,
        /// The attempt.
        attempt: u32,
        /// The cap.
        cap: u64,
    },

    /// Writing the archive to its spool file failed.
    #[error("cannot spool the log archive of run `{run_id}` attempt `{attempt}`")]
    Spool {
        /// The run.
        run_id: u64,
        /// The attempt.
        attempt: u32,
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

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Describes a wait for messages.
pub(crate) fn describe(wait: Duration) -> String {
    format!("{:.1} s", wait.as_secs_f64())
}
