//! One writer at a time: `ingest` holds an exclusive lock on the store's
//! `.lock` file while it writes, so two runs into one store never mix their
//! part files or both add the same events. A second writer waits (saying
//! so) or, with `--no-wait`, refuses. Readers take no lock: a part file
//! appears whole or not at all (written under a temporary name, then
//! renamed), so they never see half of one. The lock is the operating
//! system's (`flock` on Unix, `LockFileEx` on Windows, through std's
//! `File::lock`) and goes away with the process, however it ends.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;

/// What to do when another writer holds the store.
pub enum Wait<'a> {
    /// Wait for it, telling `stderr` once.
    Block(&'a mut dyn Write),
    /// Refuse at once (`--no-wait`).
    Refuse,
}

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the store's writer lock.
pub fn acquire(root: &Path, wait: Wait<'_>) -> Result<Lock, StoreError> {
    let path = root.join(".lock");
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => match wait {
            Wait::Refuse => return Err(StoreError::Busy(root.to_owned())),
            Wait::Block(stderr) => {
                let _ = writeln!(
                    stderr,
                    "ctaudit: another ingest is writing to {}; waiting for it to finish (--no-wait refuses instead)",
                    crate::output::escape::terminal(&root.display().to_string())
                );
                file.lock().map_err(io)?;
            }
        },
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    Ok(Lock { _file: file })
}

/// A temporary file name in `dir` that no other writer can pick: hidden,
/// with this process's id and a counter, and not `.parquet` (so no reader
/// ever lists it).
pub fn temp_name(dir: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".part-{}-{n}.parquet.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (hostile input 7): a second writer is refused (or
    /// waits) while the first holds the store.
    #[test]
    fn concurrent_ingests_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), Wait::Refuse).unwrap();
        let second = acquire(dir.path(), Wait::Refuse);
        assert!(matches!(second, Err(StoreError::Busy(_))), "{second:?}");
        let waiter = {
            let root = dir.path().to_owned();
            std::thread::spawn(move || {
                let mut said = Vec::new();
                let lock = acquire(&root, Wait::Block(&mut said)).unwrap();
                drop(lock);
                String::from_utf8(said).unwrap()
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(first);
        let said = waiter.join().unwrap();
        assert!(said.contains("waiting for it to finish"), "{said}");
        assert_ne!(temp_name(dir.path()), temp_name(dir.path()));
    }
}
