//! The tantivy directory of an index opened for reading: it writes nothing and creates no
//! lock file, so that an index another user owns, or a read-only copy, can be searched.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, FileSlice, Lock, MmapDirectory, WatchCallback,
    WatchHandle, WritePtr,
};

/// [`MmapDirectory`] for reading: every write is refused, and locks are taken without writing.
#[derive(Debug, Clone)]
pub(crate) struct ReadOnlyDirectory {
    inner: MmapDirectory,
    root: PathBuf,
}

impl ReadOnlyDirectory {
    pub(crate) fn open(root: &Path) -> tantivy::Result<ReadOnlyDirectory> {
        Ok(ReadOnlyDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

fn refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        "the index is open for reading only",
    )
}

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn open_read(&self, path: &Path) -> Result<FileSlice, OpenReadError> {
        self.inner.open_read(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(refused()),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::wrap_io_error(refused(), path.to_path_buf()))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, _path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(refused())
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    /// Readers take tantivy's meta lock so that a writer's garbage collection does not delete
    /// the files they are opening. Here it is taken on the lock file opened for reading (a
    /// `flock` needs no write access), never created; without one (no file yet, or a file
    /// system that refuses), the reader goes on unlocked, and a file deleted under it is
    /// opened again from the next `meta.json` (`index::while_files_vanish`).
    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        if !lock.is_blocking {
            // The writer's lock: no writer here.
            return Err(LockError::wrap_io_error(refused()));
        }
        let Ok(file) = File::open(self.root.join(&lock.filepath)) else {
            return Ok(DirectoryLock::from(Box::new(())));
        };
        match file.lock() {
            Ok(()) => Ok(DirectoryLock::from(Box::new(file))),
            Err(_) => Ok(DirectoryLock::from(Box::new(()))),
        }
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_refused_and_a_lock_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let directory = ReadOnlyDirectory::open(dir.path()).unwrap();
        let lock = Lock {
            filepath: PathBuf::from(".tantivy-meta.lock"),
            is_blocking: true,
        };
        let held = directory.acquire_lock(&lock).unwrap();
        drop(held);
        assert!(directory.open_write(Path::new("a")).is_err());
        assert!(directory.atomic_write(Path::new("b"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // With the lock file there, a reader holds it as tantivy's readers do.
        std::fs::write(dir.path().join(&lock.filepath), b"").unwrap();
        let held = directory.acquire_lock(&lock).unwrap();
        let other = File::open(dir.path().join(&lock.filepath)).unwrap();
        assert!(other.try_lock().is_err(), "the lock is held");
        drop(held);
        other.try_lock().unwrap();
    }
}
