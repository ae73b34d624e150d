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

    /// An entry declares more than [`Limits::max_entry_bytes`](crate::Limits): refused before
    /// it is inflated. (One that inflates to more than it declares is corrupt.)
    #[error(
        "entry `{entry}` of the archive of run `{run_id}` attempt `{attempt}` declares `{declared}` bytes, over the entry cap of `{}`",
        Size(*cap)
    )]
    EntryTooLarge {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry's name in the zip.
        entry: String,
        /// Its declared size once inflated.
        declared: u64,
        /// [`Limits::max_entry_bytes`](crate::Limits).
        cap: u64,
    },

    /// The entries read would inflate, or inflated, to more than
    /// [`Limits::max_archive_bytes`](crate::Limits): refused at the entry that crosses it.
    #[error(
        "archive of run `{run_id}` attempt `{attempt}` inflates past the archive cap of `{}` at entry `{entry}`",
        Size(*cap)
    )]
    ArchiveTooLarge {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
        /// The entry that crosses the cap.
        entry: String,
        /// [`Limits::max_archive_bytes`](crate::Limits).
        cap: u64,
    },

    /// The caller's sink asked [`Extractor::extract_stream`](crate::Extractor::extract_stream)
    /// to stop.
    #[error("extracting the archive of run `{run_id}` attempt `{attempt}` was stopped")]
    Stopped {
        /// Run id.
        run_id: u64,
        /// Attempt number.
        attempt: u32,
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
            Error::EntryTooLarge { .. } => Some(
                "raise the cap with `sync --max-entry-size` (`Limits::max_entry_bytes`) if the log is really that large"
                    .into(),
            ),
            Error::ArchiveTooLarge { .. } => Some(
                "raise the cap with `sync --max-archive-size` (`Limits::max_archive_bytes`) if the logs are really that large"
                    .into(),
            ),
            Error::Read { .. } | Error::Stopped { .. } | Error::ThreadPool { .. } => None,
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
    /// It inflates to more than it declares (inflating stops within a chunk past it).
    #[error("more than the `{declared}` bytes declared")]
    MoreThanDeclared {
        /// Its declared size.
        declared: u64,
    },
    /// It inflates to fewer bytes than it declares.
    #[error("`{inflated}` bytes where `{declared}` are declared")]
    SizeMismatch {
        /// What it inflated to.
        inflated: u64,
        /// Its declared size.
        declared: u64,
    },
    /// Its CRC-32 is not the one it declares.
    #[error("CRC mismatch")]
    CrcMismatch,
}

/// A size in bytes as a cap is written: in the largest binary unit that divides it
/// (`8 GiB`, `1000 bytes`), as `sync --max-entry-size` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["TiB", "GiB", "MiB", "KiB"];
        for (shift, unit) in [40, 30, 20, 10].into_iter().zip(UNITS) {
            if self.0 >= 1 << shift && self.0.is_multiple_of(1 << shift) {
                return write!(f, "{} {unit}", self.0 >> shift);
            }
        }
        write!(f, "{} bytes", self.0)
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
            entry: "0_build.txt".into(),
            cap: 10,
        };
        assert!(!too_large.to_string().contains("hint"));
        assert!(!too_large.to_string().contains("--max"));
    }

    #[test]
    fn caps_are_written_in_their_largest_unit() {
        let cases = [
            (8 << 30, "8 GiB"),
            (1000, "1000 bytes"),
            (1024, "1 KiB"),
            (1536 << 20, "1536 MiB"),
            (0, "0 bytes"),
        ];
        for (bytes, written) in cases {
            assert_eq!(Size(bytes).to_string(), written);
        }
    }

    #[test]
    fn refusals_name_the_entry_the_cap_and_the_flag() {
        let entry = Error::EntryTooLarge {
            run_id: 7,
            attempt: 2,
            entry: "0_build.txt".into(),
            declared: 2000,
            cap: 1024,
        };
        assert_eq!(
            entry.to_string(),
            "entry `0_build.txt` of the archive of run `7` attempt `2` declares `2000` bytes, over the entry cap of `1 KiB`"
        );
        assert!(entry.hint().unwrap().contains("--max-entry-size"));
        let archive = Error::ArchiveTooLarge {
            run_id: 7,
            attempt: 2,
            entry: "1_test.txt".into(),
            cap: 32 << 30,
        };
        assert_eq!(
            archive.to_string(),
            "archive of run `7` attempt `2` inflates past the archive cap of `32 GiB` at entry `1_test.txt`"
        );
        assert!(archive.hint().unwrap().contains("--max-archive-size"));
    }
}
