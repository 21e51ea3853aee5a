//! One writer at a time: `ingest` holds an exclusive lock on the store's
//! `.lock` file while it writes ([`crate::lockfile`]), so two runs into one
//! store never mix their part files or both add the same events. Readers
//! take no lock: a part file appears whole or not at all (written under a
//! temporary name, then renamed), so they never see half of one.

use std::path::{Path, PathBuf};

use super::StoreError;
pub use crate::lockfile::{Lock, Wait};

/// Takes the store's writer lock.
pub fn acquire(root: &Path, wait: Wait<'_>) -> Result<Lock, StoreError> {
    let path = root.join(".lock");
    let busy = format!("another ingest is writing to {}", root.display());
    match crate::lockfile::acquire(&path, &busy, wait) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(StoreError::Busy(root.to_owned())),
        Err(source) => Err(StoreError::Io { path, source }),
    }
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
