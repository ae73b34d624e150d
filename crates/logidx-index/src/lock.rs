//! The single-writer lock: an OS file lock on `writer.lock`, which also names the holder's pid.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Held while a [`crate::Writer`] lives; the OS releases it if the process dies.
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock of the index in `dir`, or fails naming the process that holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<WriterLock> {
        let path = dir.join("writer.lock");
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The holder may be writing its pid right now: an empty or partial read is "unknown".
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Locked {
                    path: dir.to_path_buf(),
                    holder: holder.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let held = WriterLock::acquire(dir.path()).unwrap();
        let err = WriterLock::acquire(dir.path()).unwrap_err();
        assert!(
            matches!(err, Error::Locked { holder: Some(pid), .. } if pid == std::process::id()),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("(pid {})", std::process::id()))
        );
        drop(held);
        WriterLock::acquire(dir.path()).unwrap();
        assert!(dir.path().join("writer.lock").exists());
    }
}
