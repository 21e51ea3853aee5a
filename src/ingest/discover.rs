//! Turns the paths a user gave into the list of files to read.
//!
//! Directories are walked recursively in name order. In CloudTrail's S3
//! layout (`AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/`) a
//! year, month or day folder wholly outside the time window is pruned
//! without being opened, and `CloudTrail-Digest/` folders are skipped and
//! their files counted. Inside a directory, a file is read when its first
//! bytes are gzip or JSON (after any byte-order mark), whatever its name; a
//! file named on the command line is always read.
//!
//! A walk is safe on any tree: hidden files and folders are counted and
//! passed over unless `--hidden`; symbolic links are counted and not
//! followed unless `--follow`, and then each folder is walked once however
//! many links reach it (by device and inode), so link loops end; FIFOs,
//! sockets and devices are counted and never opened. Everything passed over
//! is counted under its reason. This module opens no file past its first
//! bytes, and sniffs those on every core once the walk is done (a trail
//! of a year holds hundreds of thousands of files).

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::ReadOptions;
use super::summary::{FailReason, FileFailure, InputSummary, SkipFile};
use crate::time::{Millis, Window, day_start};

/// How much earlier than its folder's day an event may be. CloudTrail files
/// land in the folder of their delivery time, a few minutes (rarely hours)
/// after the events they hold.
pub const DELIVERY_LAG_MS: Millis = 6 * 3_600_000;

/// The files to read, in a stable order.
pub fn discover(
    paths: &[PathBuf],
    read: &ReadOptions,
    window: &Window,
    summary: &mut InputSummary,
) -> Vec<PathBuf> {
    let mut walker = Walker {
        read,
        window,
        summary,
        files: Vec::new(),
        walked: HashSet::new(),
    };
    for path in paths {
        // A path named on the command line is followed, link or not.
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => walker.walk(path, &m),
            Ok(_) => walker.files.push((path.clone(), Origin::Named)),
            Err(e) => walker.summary.failed(FileFailure::new(
                path,
                FailReason::Unreadable,
                e.to_string(),
            )),
        }
    }
    let files = walker.files;
    let logs: Vec<bool> = files
        .par_iter()
        .map(|(path, origin)| *origin == Origin::Named || sniff_log(path))
        .collect();
    let not_logs = logs.iter().filter(|log| !**log).count();
    summary.skip_file(SkipFile::NotALog, not_logs as u64);
    files
        .into_iter()
        .zip(logs)
        .filter_map(|((path, _), log)| log.then_some(path))
        .collect()
}

/// How a file came to be on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Named on the command line: read whatever it holds.
    Named,
    /// Found in a folder: read if its first bytes look like a log.
    InFolder,
}

struct Walker<'a> {
    read: &'a ReadOptions,
    window: &'a Window,
    summary: &'a mut InputSummary,
    /// Every file found so far, in order, before sniffing.
    files: Vec<(PathBuf, Origin)>,
    /// Folders walked so far, by identity (with `--follow`).
    walked: HashSet<FolderId>,
}

impl Walker<'_> {
    fn walk(&mut self, dir: &Path, meta: &fs::Metadata) {
        if self.read.follow && !self.walked.insert(FolderId::of(dir, meta)) {
            self.summary.skip_file(SkipFile::AlreadyWalked, 1);
            return;
        }
        let entries = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                let failure = FileFailure::new(dir, FailReason::Unreadable, e.to_string());
                self.summary.failed(failure);
                return;
            }
        };
        // The entry's own type: a link is a link here, not what it points to.
        let mut entries: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| (e.path(), e.file_type()))
            .collect();
        // One folder's entries: their names alone give the paths' order.
        entries.sort_by(|a, b| a.0.file_name().cmp(&b.0.file_name()));
        for (path, kind) in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') && !self.read.hidden {
                self.summary.skip_file(SkipFile::Hidden, 1);
                continue;
            }
            let kind = match kind {
                Ok(k) => k,
                Err(e) => {
                    let failure = FileFailure::new(&path, FailReason::Unreadable, e.to_string());
                    self.summary.failed(failure);
                    continue;
                }
            };
            if kind.is_symlink() {
                if !self.read.follow {
                    self.summary.skip_file(SkipFile::Symlink, 1);
                    continue;
                }
                match fs::metadata(&path) {
                    Ok(m) if m.is_dir() => self.folder(&path, name, &m),
                    Ok(m) => self.file(path, m.is_file()),
                    Err(e) => {
                        let detail = format!("a link to nothing readable: {e}");
                        self.summary.failed(FileFailure::new(
                            &path,
                            FailReason::Unreadable,
                            detail,
                        ));
                    }
                }
            } else if kind.is_dir() {
                match fs::metadata(&path) {
                    Ok(m) => self.folder(&path, name, &m),
                    Err(e) => {
                        let failure =
                            FileFailure::new(&path, FailReason::Unreadable, e.to_string());
                        self.summary.failed(failure);
                    }
                }
            } else {
                self.file(path, kind.is_file());
            }
        }
    }

    fn folder(&mut self, path: &Path, name: &str, meta: &fs::Metadata) {
        if name == "CloudTrail-Digest" {
            self.summary.skip_file(SkipFile::Digest, count_files(path));
        } else if folder_outside_window(path, self.window) {
            self.summary.skip_file(SkipFile::PrunedFolder, 1);
        } else {
            self.walk(path, meta);
        }
    }

    fn file(&mut self, path: PathBuf, regular: bool) {
        if !regular {
            self.summary.skip_file(SkipFile::NotARegularFile, 1);
        } else {
            self.files.push((path, Origin::InFolder));
        }
    }
}

/// A folder's identity: device and inode where there are such things, its
/// canonical path elsewhere.
#[derive(Debug, PartialEq, Eq, Hash)]
enum FolderId {
    #[cfg_attr(not(unix), allow(dead_code))]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl FolderId {
    #[cfg(unix)]
    fn of(_: &Path, meta: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FolderId::Inode(meta.dev(), meta.ino())
    }

    #[cfg(not(unix))]
    fn of(path: &Path, _: &fs::Metadata) -> Self {
        FolderId::Path(fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()))
    }
}

/// The files under a folder that is not read (digests), links not followed.
fn count_files(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count_files(&e.path()),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Whether a folder of the S3 layout (`…/CloudTrail/<region>/YYYY[/MM[/DD]]`)
/// can hold no event inside the window.
pub fn folder_outside_window(path: &Path, window: &Window) -> bool {
    if window.is_open() {
        return false;
    }
    let parts: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
    let Some(ct) = parts.iter().rposition(|p| *p == "CloudTrail") else {
        return false;
    };
    let date_parts = &parts[ct + 1..];
    // date_parts = [region, year, month?, day?]
    let num = |i: usize, len: usize| {
        date_parts
            .get(i)
            .filter(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
    };
    let Some(year) = num(1, 4) else { return false };
    let (start, end) = match (num(2, 2), num(3, 2)) {
        (Some(m), Some(d)) => match chrono::NaiveDate::from_ymd_opt(year as i32, m, d) {
            Some(date) => (day_start(date), day_start(date) + 86_400_000),
            None => return false,
        },
        (Some(m), None) if date_parts.len() == 3 => {
            let (Some(first), Some(next)) = (
                chrono::NaiveDate::from_ymd_opt(year as i32, m, 1),
                if m == 12 {
                    chrono::NaiveDate::from_ymd_opt(year as i32 + 1, 1, 1)
                } else {
                    chrono::NaiveDate::from_ymd_opt(year as i32, m + 1, 1)
                },
            ) else {
                return false;
            };
            (day_start(first), day_start(next))
        }
        (None, None) if date_parts.len() == 2 => {
            let (Some(first), Some(next)) = (
                chrono::NaiveDate::from_ymd_opt(year as i32, 1, 1),
                chrono::NaiveDate::from_ymd_opt(year as i32 + 1, 1, 1),
            ) else {
                return false;
            };
            (day_start(first), day_start(next))
        }
        _ => return false,
    };
    !window.overlaps(start - DELIVERY_LAG_MS, end)
}

/// Whether a file found in a directory looks like a log: gzip, or JSON
/// starting with an object or an array of objects.
fn sniff_log(path: &Path) -> bool {
    let mut head = [0u8; 256];
    let n = match super::file::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => n,
        // Unreadable: let the reader report it by name.
        Err(_) => return true,
    };
    looks_like_log(&head[..n])
}

/// The sniffing rule of [`sniff_log`], on a file's first bytes: gzip, or
/// JSON once a byte-order mark and UTF-16/32 are seen through.
pub fn looks_like_log(head: &[u8]) -> bool {
    if head.starts_with(&[0x1f, 0x8b]) {
        return true;
    }
    let head = super::decode::head_text(head);
    let mut it = head.iter().copied().skip_while(u8::is_ascii_whitespace);
    match it.next() {
        Some(b'{') => matches!(
            it.find(|b| !b.is_ascii_whitespace()),
            Some(b'"' | b'}') | None
        ),
        Some(b'[') => matches!(
            it.find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b']' | b'"') | None
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Bound, parse_bound};

    fn window(since: &str, until: &str) -> Window {
        Window {
            since: Some(parse_bound(since, Bound::Since, 0).unwrap()),
            until: Some(parse_bound(until, Bound::Until, 0).unwrap()),
        }
    }

    #[test]
    fn day_folders_outside_the_window_are_pruned() {
        let w = window("2026-11-16", "2026-11-22");
        let f = |p: &str| folder_outside_window(Path::new(p), &w);
        let base = "logs/AWSLogs/111122223333/CloudTrail/eu-west-1";
        assert!(f(&format!("{base}/2026/11/14")));
        assert!(!f(&format!("{base}/2026/11/16")));
        assert!(!f(&format!("{base}/2026/11/22")));
        // The day after the window may hold its last events, delivered late.
        assert!(!f(&format!("{base}/2026/11/23")));
        assert!(f(&format!("{base}/2026/11/24")));
        assert!(f(&format!("{base}/2026/10")));
        assert!(!f(&format!("{base}/2026/11")));
        assert!(f(&format!("{base}/2025")));
        assert!(!f(&format!("{base}/2026")));
        // Organisation trails have one more level; that changes nothing.
        assert!(f(
            "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2026/11/01"
        ));
        // Not the S3 layout: never pruned.
        assert!(!f("exports/2026/11/01"));
        assert!(!folder_outside_window(
            Path::new(&format!("{base}/2026/11/01")),
            &Window::default()
        ));
    }

    #[test]
    fn walked_files_are_sniffed_in_order_and_named_ones_always_read() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("AWSLogs/1/CloudTrail/eu-west-1/2026/11/16");
        fs::create_dir_all(&day).unwrap();
        // Names out of order on disk; logs and other files interleaved.
        let files = [
            ("c.json.gz", &b"\x1f\x8b\x08"[..]),
            ("a.json", b"{\"Records\":[]}"),
            ("b.txt", b"# notes"),
            ("e.json", b"[{\"eventName\":\"x\"}]"),
            ("d.toml", b"[business_hours]"),
        ];
        for (name, bytes) in files {
            fs::write(day.join(name), bytes).unwrap();
        }
        let elsewhere = tempfile::tempdir().unwrap();
        let named = elsewhere.path().join("named.txt");
        fs::write(&named, b"not JSON at all").unwrap();
        let mut summary = InputSummary::default();
        let found = discover(
            &[dir.path().to_owned(), named.clone()],
            &ReadOptions::default(),
            &Window::default(),
            &mut summary,
        );
        let expected: Vec<PathBuf> = ["a.json", "c.json.gz", "e.json"]
            .iter()
            .map(|n| day.join(n))
            .chain([named])
            .collect();
        assert_eq!(found, expected);
        assert_eq!(summary.files_skipped.get(&SkipFile::NotALog), Some(&2));
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_log(b"\x1f\x8b\x08"));
        assert!(looks_like_log(b"{\"Records\":["));
        assert!(looks_like_log(b"  [\n  {\"a\":1}"));
        assert!(!looks_like_log(b"[business_hours]\ntimezone = \"UTC\""));
        assert!(!looks_like_log(b"# Provenance\n"));
        assert!(!looks_like_log(b""));
        // Regression (hostile input 3): a byte-order mark hides nothing.
        assert!(looks_like_log(b"\xEF\xBB\xBF{\"Records\":["));
        assert!(looks_like_log(b"\xFF\xFE{\0\"\0R\0"));
        assert!(looks_like_log(b"\xFE\xFF\0{\0\"\0R"));
    }
}
