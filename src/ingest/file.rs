//! The bytes of one input: a local file read whole, or a blob fetched
//! elsewhere, decompressed when gzip, never larger than `--max-file-size`.
//!
//! Each thread reuses its read and inflate buffers. Nothing here blocks on
//! a FIFO or grows without bound: files are opened without waiting for a
//! writer, read through a cap, and gzip is inflated against the same cap
//! (a gzip bomb is reported by name as too large, and the run goes on).
//! This module does not parse.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::inflate::{Inflated, Inflater};
use super::summary::FailReason;

/// The default `--max-file-size`: far above any file CloudTrail writes
/// (tens of MB at most), far below what would exhaust memory.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

/// A thread's buffers above this size are freed after use, so that one
/// large file does not pin its memory for the rest of the run.
const KEEP_BUFFER: usize = 64 << 20;

thread_local! {
    /// Per-thread buffers: the file's bytes, and its decompressed content.
    static BUFFERS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    /// Per-thread libdeflate decompressor.
    static INFLATER: RefCell<Inflater> = RefCell::new(Inflater::new());
}

/// Runs `f` with this thread's read and decompression buffers. They are
/// taken out while `f` runs: a large file read on several threads lets this
/// thread run other rayon tasks meanwhile, which then use buffers of their
/// own instead of finding these borrowed.
pub fn with_buffers<R>(f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> R) -> R {
    let (mut raw, mut plain) = BUFFERS.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
    let out = f(&mut raw, &mut plain);
    for buf in [&mut raw, &mut plain] {
        if buf.capacity() > KEEP_BUFFER {
            *buf = Vec::new();
        }
    }
    BUFFERS.with(|cell| *cell.borrow_mut() = (raw, plain));
    out
}

/// Why an input's bytes could not be had in full.
#[derive(Debug)]
pub struct Unread {
    pub reason: FailReason,
    pub detail: String,
}

impl Unread {
    fn too_large(what: &str, cap: u64) -> Self {
        Unread {
            reason: FailReason::TooLarge,
            detail: format!("{what} more than {cap} bytes (--max-file-size); not read",),
        }
    }
}

/// Opens a file for reading without ever blocking: a FIFO with no writer
/// opens at once (and then reads as empty) instead of waiting for one.
pub fn open(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        // Reads block again as usual: a pipe with a writer (`<(zcat …)`)
        // is read to its end, one without reads as empty.
        // SAFETY: fcntl on a descriptor we own, with flags it defines.
        unsafe {
            use std::os::fd::AsRawFd;
            let fd = file.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        File::open(path)
    }
}

/// Reads a whole file into `raw`, at most `cap` bytes of it.
pub fn read_file(path: &Path, raw: &mut Vec<u8>, cap: u64) -> Result<(), Unread> {
    let unreadable = |e: io::Error| Unread {
        reason: FailReason::Unreadable,
        detail: e.to_string(),
    };
    raw.clear();
    let file = open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if meta.is_dir() {
        return Err(unreadable(io::Error::other(
            "a directory where a file was expected",
        )));
    }
    if meta.is_file() && meta.len() > cap {
        return Err(Unread::too_large(&format!("{} bytes:", meta.len()), cap));
    }
    if read_capped(file, raw, cap).map_err(unreadable)? {
        return Err(Unread::too_large("holds", cap));
    }
    Ok(())
}

/// Reads `r` to its end into `out`, stopping past `cap` bytes; returns
/// whether it had more than that. The buffer grows by doubling but never
/// past `cap` and a little.
fn read_capped(r: impl Read, out: &mut Vec<u8>, cap: u64) -> io::Result<bool> {
    let limit = cap.saturating_add(1);
    let mut r = r.take(limit);
    let mut chunk = 64 << 10;
    loop {
        let room = (limit as usize).saturating_sub(out.len());
        if room == 0 {
            return Ok(true);
        }
        out.reserve_exact(chunk.min(room));
        chunk = chunk.saturating_mul(2);
        let before = out.len();
        let want = (out.capacity() - before).min(room) as u64;
        match (&mut r).take(want).read_to_end(out) {
            Ok(_) if out.len() == before => return Ok(out.len() as u64 > cap),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What [`decompress`] could not do: why, and what was decompressed
/// before the damage (empty when too large).
pub type Damage<'b> = (Unread, &'b [u8]);

/// When `raw` is gzip (by its magic bytes), decompresses it into `plain`:
/// whole, with libdeflate, and when that fails with the streaming decoder,
/// so that a broken stream gives the reason, what went wrong, and what was
/// decompressed before the damage. Output past `cap` bytes is not made.
pub fn decompress<'b>(
    raw: &'b [u8],
    plain: &'b mut Vec<u8>,
    cap: u64,
) -> Result<&'b [u8], Damage<'b>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let cap_bytes = usize::try_from(cap).unwrap_or(usize::MAX);
    match INFLATER.with(|i| i.borrow_mut().gunzip(raw, plain, cap_bytes)) {
        Inflated::Done(n) => return Ok(&plain[..n]),
        Inflated::TooLarge => return Err((Unread::too_large("inflates to", cap), &[])),
        Inflated::Rejected => {}
    }
    plain.clear();
    match read_capped(flate2::read::MultiGzDecoder::new(raw), plain, cap) {
        Ok(false) => Ok(plain),
        Ok(true) => Err((Unread::too_large("inflates to", cap), &[])),
        Err(e) => {
            let reason = if e.kind() == io::ErrorKind::UnexpectedEof {
                FailReason::TruncatedGzip
            } else {
                FailReason::CorruptGzip
            };
            let detail = format!("{e} after {} decompressed bytes", plain.len());
            Err((Unread { reason, detail }, plain))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_past_the_cap() {
        let mut out = Vec::new();
        assert!(!read_capped(&[7u8; 1000][..], &mut out, 1000).unwrap());
        assert_eq!(out.len(), 1000);
        out.clear();
        assert!(read_capped(&[7u8; 1001][..], &mut out, 1000).unwrap());
        assert!(out.capacity() < 4096, "{}", out.capacity());
        out.clear();
        assert!(read_capped(io::repeat(0), &mut out, 300_000).unwrap());
        assert!(out.len() <= 300_001);
    }

    /// Regression (hostile input 9): a FIFO named directly is opened
    /// without waiting for a writer, and reads as empty.
    #[cfg(unix)]
    #[test]
    fn fifo_named_directly_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string and mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let mut raw = Vec::new();
        read_file(&fifo, &mut raw, 1 << 20).unwrap();
        assert!(raw.is_empty());
    }
}
