//! The one error type of this crate, and the causes it carries.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong reading an archive. Each variant names the run and attempt the
/// caller passed, so a failing archive among thousands can be found again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    #[error("archive of run `{run_id}` attempt `{attempt}` is not a readable zip")]
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
    #[error("entry `{entry}` of the archive of run `{run_id}` attempt `{attempt}` is corrupt")]
    CorruptEntry {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry's name in the zip.
        entry: String,
        /// What is wrong with it.
        #[source]
        source: Corruption,
    },

    /// An entry declares more than [`Limits::max_entry_bytes`](crate::Limits) or more than
    /// [`Limits::max_ratio`](crate::Limits) times its compressed size: a zip bomb, refused
    /// before inflating it. (One that inflates to more than it declares is corrupt.)
    #[error(
        "entry `{entry}` of the archive of run `{run_id}` attempt `{attempt}` is over the size limit ({limit})"
    )]
    EntryTooLarge {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry's name in the zip.
        entry: String,
        /// Which limit, with the numbers.
        limit: SizeLimit,
    },

    /// The entries together inflate to more than [`Limits::max_total_bytes`](crate::Limits).
    #[error("archive of run `{run_id}` attempt `{attempt}` inflates to more than `{limit}` bytes")]
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

impl Error {
    /// What the user can do about it, where something helps: kept out of the message, which a
    /// library's caller may word their own way.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotZip { .. } | Error::CorruptEntry { .. } => Some("download it again".into()),
            Error::ArchiveTooLarge { .. } => {
                Some("raise `Limits::max_total_bytes` if the logs are really that large".into())
            }
            Error::Read { .. } | Error::EntryTooLarge { .. } | Error::ThreadPool { .. } => None,
        }
    }
}

/// Why an entry could not be inflated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// The zip reader could not open it.
    #[error(transparent)]
    Zip(zip::result::ZipError),
    /// Reading it through the zip reader failed (its checksum, its stream).
    #[error(transparent)]
    Read(std::io::Error),
    /// Its deflate stream is invalid.
    #[error(transparent)]
    Inflate(flate2::DecompressError),
    /// The deflate stream stops before its end.
    #[error("the deflate stream ends early")]
    EndsEarly,
    /// It is encrypted.
    #[error("the entry is encrypted")]
    Encrypted,
    /// Its compressed bytes would lie past the end of the archive.
    #[error("the entry's data lies outside the archive")]
    OutsideArchive,
    /// It is compressed some way other than stored or deflated.
    #[error("compression method `{0}` is not read")]
    Method(zip::CompressionMethod),
    /// It inflates to more than it declares (inflating stops one byte past).
    #[error("more than the `{declared}` bytes declared")]
    MoreThanDeclared {
        /// Its declared size.
        declared: usize,
    },
    /// It inflates to fewer bytes than it declares.
    #[error("`{inflated}` bytes where `{declared}` are declared")]
    SizeMismatch {
        /// What it inflated to.
        inflated: usize,
        /// Its declared size.
        declared: usize,
    },
    /// Its CRC-32 is not the one it declares.
    #[error("CRC mismatch")]
    CrcMismatch,
}

/// Which size limit an entry is over ([`Error::EntryTooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeLimit {
    /// It declares more than [`Limits::max_entry_bytes`](crate::Limits).
    Entry {
        /// Its declared size.
        declared: u64,
        /// The limit.
        max_entry_bytes: u64,
    },
    /// It declares more than [`Limits::max_ratio`](crate::Limits) times its compressed size.
    Ratio {
        /// Its declared size.
        declared: u64,
        /// Its compressed size.
        compressed: u64,
        /// The limit.
        max_ratio: u64,
    },
}

impl fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeLimit::Entry {
                declared,
                max_entry_bytes,
            } => write!(f, "`{declared}` bytes declared, limit `{max_entry_bytes}`"),
            SizeLimit::Ratio {
                declared,
                compressed,
                max_ratio,
            } => write!(
                f,
                "`{declared}` bytes declared from `{compressed}` compressed, ratio limit `{max_ratio}`"
            ),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_not_in_messages() {
        let not_zip = Error::NotZip {
            run_id: 7,
            attempt: 2,
            source: zip::result::ZipError::FileNotFound,
        };
        assert_eq!(
            not_zip.to_string(),
            "archive of run `7` attempt `2` is not a readable zip"
        );
        assert_eq!(not_zip.hint().as_deref(), Some("download it again"));
        let too_large = Error::ArchiveTooLarge {
            run_id: 7,
            attempt: 2,
            limit: 10,
        };
        assert!(!too_large.to_string().contains("hint"));
        assert_eq!(
            too_large.hint().as_deref(),
            Some("raise `Limits::max_total_bytes` if the logs are really that large")
        );
    }

    #[test]
    fn size_limits_read_as_before() {
        let entry = SizeLimit::Entry {
            declared: 2_000,
            max_entry_bytes: 1_000,
        };
        assert_eq!(entry.to_string(), "`2000` bytes declared, limit `1000`");
        let ratio = SizeLimit::Ratio {
            declared: 8,
            compressed: 1,
            max_ratio: 2,
        };
        assert_eq!(
            ratio.to_string(),
            "`8` bytes declared from `1` compressed, ratio limit `2`"
        );
    }
}
