//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong opening, writing or searching an index.
#[derive(Debug, thiserror::Error)]
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
        "index at `{}` is being written by another logidx ({})\nhint: wait for it to finish; readers keep working meanwhile",
        path.display(),
        holder.map_or_else(|| "pid unknown".to_owned(), |pid| format!("pid {pid}"))
    )]
    Locked {
        /// The index directory.
        path: PathBuf,
        /// The holder's process id, when it wrote one.
        holder: Option<u32>,
    },
    /// The index was written by another version of logidx.
    #[error(
        "index at `{}` has schema version `{found}`, this logidx reads version `{expected}`\nhint: delete the directory and sync again to rebuild it",
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
        /// What was wrong.
        what: String,
    },
    /// A query names a field that does not exist.
    #[error("unknown field `{field}` in query\nhint: valid fields are {}; put text with a colon in quotes: `\"{field}:…\"`", crate::query::FILTER_NAMES.join(", "))]
    UnknownField {
        /// The field as written.
        field: String,
    },
    /// A field filter's value has the wrong form.
    #[error("invalid value `{value}` for `{field}:`, expected {expected}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value as written.
        value: String,
        /// What the field takes.
        expected: &'static str,
    },
    /// The query's structure cannot be evaluated.
    #[error(
        "invalid query: {reason}\n{}\nhint: {}",
        pointer(query, *at),
        crate::query::SYNTAX_HINT
    )]
    Syntax {
        /// The query as written.
        query: String,
        /// What is wrong.
        reason: String,
        /// Where, in characters from the start, when one place is to blame.
        at: Option<usize>,
    },
    /// Tantivy rejected the text part of a query.
    #[error("invalid query `{query}`\nhint: {}", crate::query::SYNTAX_HINT)]
    TextQuery {
        /// The text part of the query.
        query: String,
        /// The cause.
        #[source]
        source: tantivy::query::QueryParserError,
    },
}

/// The query indented, and under it a caret at `at`.
fn pointer(query: &str, at: Option<usize>) -> String {
    match at {
        Some(at) => format!("    {query}\n    {}^", " ".repeat(at)),
        None => format!("    {query}"),
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
