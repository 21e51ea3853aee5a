//! One writer at a time, for the store and for state files: an exclusive
//! lock on a `.lock` file beside what is written. A second writer waits
//! (saying so) or, with `--no-wait`, refuses. The lock is the operating
//! system's (`flock` on Unix, `LockFileEx` on Windows, through std's
//! `File::lock`) and goes away with the process, however it ends, so a
//! killed run never leaves a stale lock behind.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// What to do when another writer holds the lock.
pub enum Wait<'a> {
    /// Wait for it, telling `stderr` once.
    Block(&'a mut dyn Write),
    /// Refuse at once (`--no-wait`).
    Refuse,
}

impl<'a> Wait<'a> {
    /// `--no-wait` refuses; otherwise wait, saying so on `stderr`.
    pub fn unless(no_wait: bool, stderr: &'a mut dyn Write) -> Wait<'a> {
        if no_wait {
            Wait::Refuse
        } else {
            Wait::Block(stderr)
        }
    }
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock on `path` (created if missing). `Ok(None)`: another
/// process holds it and `wait` is [`Wait::Refuse`]. `busy` says who holds
/// it, for the waiting message ("another ingest is writing to …").
pub fn acquire(path: &Path, busy: &str, wait: Wait<'_>) -> std::io::Result<Option<Lock>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => match wait {
            Wait::Refuse => return Ok(None),
            Wait::Block(stderr) => {
                let _ = writeln!(
                    stderr,
                    "ctaudit: {}; waiting for it to finish (--no-wait refuses instead)",
                    crate::output::escape::terminal(busy)
                );
                file.lock()?;
            }
        },
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    Ok(Some(Lock { _file: file }))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed
/// to disk, then renamed over it (and the folder synced), so a reader or a
/// crash sees the old content or the new, never half of either.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename itself is durable once the folder is synced (Unix).
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
