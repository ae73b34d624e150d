//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong reading an archive. Each variant names the run and attempt the
/// caller passed, so a failing archive among thousands can be found again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive file could not be read.
    #[error("cannot read the archive of run `{run_id}` attempt `{attempt}` at `{path}`")]
    Read {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// Where the caller said the archive is.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not a readable zip (truncated, corrupt, not a zip at all).
    #[error(
        "archive of run `{run_id}` attempt `{attempt}` is not a readable zip\nhint: download it again"
    )]
    NotZip {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// What the zip reader said.
        #[source]
        source: zip::result::ZipError,
    },

    /// One entry could not be inflated: corrupt data, a CRC mismatch, a truncated stream.
    #[error(
        "entry `{entry}` of the archive of run `{run_id}` attempt `{attempt}` is corrupt\nhint: download it again"
    )]
    CorruptEntry {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry's name in the zip.
        entry: String,
        /// What inflating it said.
        #[source]
        source: std::io::Error,
    },

    /// An entry declares more than [`Limits::max_entry_bytes`](crate::Limits) or more than
    /// [`Limits::max_ratio`](crate::Limits) times its compressed size: a zip bomb, refused
    /// before inflating it. (One that inflates to more than it declares is corrupt.)
    #[error(
        "entry `{entry}` of the archive of run `{run_id}` attempt `{attempt}` is over the size limit ({reason})"
    )]
    EntryTooLarge {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry's name in the zip.
        entry: String,
        /// Which limit, with the numbers.
        reason: String,
    },

    /// The entries together inflate to more than [`Limits::max_total_bytes`](crate::Limits).
    #[error(
        "archive of run `{run_id}` attempt `{attempt}` inflates to more than `{limit}` bytes\nhint: raise `Limits::max_total_bytes` if the logs are really that large"
    )]
    ArchiveTooLarge {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The limit in bytes.
        limit: u64,
    },

    /// The thread pool could not be built.
    #[error("cannot start `{threads}` extraction threads")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// What rayon said.
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
