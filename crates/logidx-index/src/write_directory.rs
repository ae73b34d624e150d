//! The tantivy directory of an index opened to write: [`MmapDirectory`], with every write error
//! naming its file and the first one kept, so that a disk that fills while committing is an
//! error naming the file and its cause ([`crate::Error::Write`]). Tantivy's indexing threads
//! turn an I/O error into a message without a path or kind, and its commit into a generic
//! failure.
//!
//! Tests can give it a budget of bytes, past which every write fails as a full disk does
//! ([`crate::Index::open_failing_writes_after`]): the same path through tantivy as a real one.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, FileSlice, Lock, MmapDirectory,
    TerminatingWrite, WatchCallback, WatchHandle, WritePtr,
};

/// What the write directories of one index share: the first write that failed, and the bytes
/// left to write when a test set a budget.
#[derive(Debug, Default)]
pub(crate) struct WriteFailures {
    first: Mutex<Option<(PathBuf, io::Error)>>,
    budget: Option<AtomicU64>,
}

impl WriteFailures {
    pub(crate) fn new(budget: Option<u64>) -> Arc<WriteFailures> {
        Arc::new(WriteFailures {
            first: Mutex::new(None),
            budget: budget.map(AtomicU64::new),
        })
    }

    /// The first write that failed since the last call (its file and cause), if one did.
    pub(crate) fn take(&self) -> Option<(PathBuf, io::Error)> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Spends `bytes` of the budget, failing as a full disk does once it is spent.
    fn spend(&self, bytes: usize) -> io::Result<()> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let bytes = bytes as u64;
        let spent = budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(bytes)
        });
        match spent {
            Ok(_) => Ok(()),
            Err(_) => {
                budget.store(0, Ordering::SeqCst);
                // ENOSPC, as the kernel says it.
                Err(io::Error::from_raw_os_error(28))
            }
        }
    }

    /// `error`, writing `path`, with the path in its message; kept if it is the first.
    fn failed(&self, path: &Path, error: io::Error) -> io::Error {
        let named = io::Error::new(
            error.kind(),
            format!("{error} writing `{}`", path.display()),
        );
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some((path.to_path_buf(), error));
        }
        named
    }
}

/// [`MmapDirectory`] whose write errors name their file and are kept in [`WriteFailures`].
#[derive(Debug, Clone)]
pub(crate) struct WriteDirectory {
    inner: MmapDirectory,
    root: PathBuf,
    failures: Arc<WriteFailures>,
}

impl WriteDirectory {
    pub(crate) fn open(
        root: &Path,
        failures: Arc<WriteFailures>,
    ) -> tantivy::Result<WriteDirectory> {
        Ok(WriteDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
            failures,
        })
    }
}

/// A file being written: its errors name it.
struct NamedWrite {
    inner: Box<dyn TerminatingWrite + Send + Sync>,
    path: PathBuf,
    failures: Arc<WriteFailures>,
}

impl NamedWrite {
    fn check<T>(&self, result: io::Result<T>) -> io::Result<T> {
        result.map_err(|error| self.failures.failed(&self.path, error))
    }
}

impl Write for NamedWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check(self.failures.spend(buf.len()))?;
        let written = self.inner.write(buf);
        self.check(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.inner.flush();
        self.check(flushed)
    }
}

impl TerminatingWrite for NamedWrite {
    fn terminate_ref(&mut self, token: AntiCallToken) -> io::Result<()> {
        let terminated = self.inner.terminate_ref(token);
        self.check(terminated)
    }
}

impl Directory for WriteDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn open_read(&self, path: &Path) -> Result<FileSlice, OpenReadError> {
        self.inner.open_read(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let full = self.root.join(path);
        let opened = self.inner.open_write(path).map_err(|error| match error {
            OpenWriteError::IoError { io_error, .. } => {
                let io_error = io::Error::new(io_error.kind(), io_error.to_string());
                OpenWriteError::wrap_io_error(self.failures.failed(&full, io_error), full.clone())
            }
            other => other,
        })?;
        // Nothing is written yet: the buffer comes off without a write.
        let inner = opened
            .into_inner()
            .map_err(|error| OpenWriteError::wrap_io_error(error.into_error(), full.clone()))?;
        Ok(BufWriter::new(Box::new(NamedWrite {
            inner,
            path: full,
            failures: Arc::clone(&self.failures),
        })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let full = self.root.join(path);
        self.failures
            .spend(data.len())
            .and_then(|()| self.inner.atomic_write(path, data))
            .map_err(|error| self.failures.failed(&full, error))
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner
            .sync_directory()
            .map_err(|error| self.failures.failed(&self.root, error))
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_past_the_budget_fails_naming_its_file_and_the_first_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let failures = WriteFailures::new(Some(10));
        let directory = WriteDirectory::open(dir.path(), Arc::clone(&failures)).unwrap();
        directory
            .atomic_write(Path::new("small"), b"12345")
            .unwrap();
        let mut file = directory.open_write(Path::new("big")).unwrap();
        file.write_all(b"123456789").unwrap();
        let error = file.flush().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        let big = dir.path().join("big");
        assert_eq!(
            error.to_string(),
            format!(
                "No space left on device (os error 28) writing `{}`",
                big.display()
            )
        );
        let error = directory
            .atomic_write(Path::new("later"), b"x")
            .unwrap_err();
        assert!(error.to_string().contains("later"), "{error}");
        let (path, cause) = failures.take().unwrap();
        assert_eq!((path, cause.raw_os_error()), (big, Some(28)));
        assert!(failures.take().is_none(), "taken");
    }
}
