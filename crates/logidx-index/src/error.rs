//! The crate's one error type.

use std::path::PathBuf;

use crate::query::SyntaxError;

/// What can go wrong opening, writing or searching an index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the index could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file of the index could not be written (a full disk): what the writer had not
    /// committed is lost, the index stays as of its last commit.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Tantivy failed.
    #[error("index operation failed while {action}")]
    Tantivy {
        /// What the index was doing (`committing`, `searching`, …).
        action: &'static str,
        /// The cause.
        #[source]
        source: tantivy::TantivyError,
    },
    /// Another process holds the writer lock.
    #[error(
        "index at `{}` is being written by another logidx ({})",
        path.display(),
        holder.map_or_else(|| "pid unknown".to_owned(), |pid| format!("pid {pid}"))
    )]
    Locked {
        /// The index directory.
        path: PathBuf,
        /// The holder's process id, when it wrote one.
        holder: Option<u32>,
    },
    /// A writer was asked of an index opened with [`crate::Index::open_read_only`].
    #[error("index at `{}` is open for reading only", path.display())]
    ReadOnly {
        /// The index directory.
        path: PathBuf,
    },
    /// The index was written by another version of logidx.
    #[error(
        "index at `{}` has schema version `{found}`, this logidx reads version `{expected}`",
        path.display()
    )]
    SchemaVersion {
        /// The index directory.
        path: PathBuf,
        /// The version on disk (or what was found instead of one).
        found: String,
        /// The version this build reads and writes.
        expected: u32,
    },
    /// The index holds data this build cannot decode.
    #[error("index at `{}` is corrupt: {what}", path.display())]
    Corrupt {
        /// The index directory.
        path: PathBuf,
        /// What was wrong, or which file.
        what: String,
        /// Why the file does not decode, when one does not.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A query cannot be evaluated.
    #[error(transparent)]
    Query(#[from] SyntaxError),
}

impl Error {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Locked { .. } => {
                Some("wait for it to finish; readers keep working meanwhile".to_owned())
            }
            Error::SchemaVersion { .. } => {
                Some("delete the directory and sync again to rebuild it".to_owned())
            }
            Error::Write { source, .. } => {
                Some(if source.kind() == std::io::ErrorKind::StorageFull {
                    "free some space on that disk, then sync again: the index is as of its last commit, and the next sync resumes from there".to_owned()
                } else {
                    "make sure the index directory can be written, then sync again: the index is as of its last commit, and the next sync resumes from there".to_owned()
                })
            }
            Error::Query(error) => error.hint(),
            Error::Corrupt { path, .. } => Some(format!(
                "`logidx doctor` checks the index and says what to do; deleting `{}` and syncing again rebuilds it",
                path.display()
            )),
            // Reading a damaged file fails in tantivy without naming it.
            Error::Tantivy { .. } => Some(
                "the index may be damaged: `logidx doctor` checks it and says what to do; deleting the index directory and syncing again rebuilds it".to_owned(),
            ),
            Error::Io { .. } | Error::ReadOnly { .. } => None,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches what the index was doing to a tantivy error.
pub(crate) trait TantivyContext<T> {
    fn doing(self, action: &'static str) -> Result<T>;
}

impl<T> TantivyContext<T> for tantivy::Result<T> {
    fn doing(self, action: &'static str) -> Result<T> {
        self.map_err(|source| Error::Tantivy { action, source })
    }
}
