//! Local files in the state: a file is read again only when its size or
//! modification time changed (CloudTrail never rewrites a delivered file,
//! so a change means it was replaced, and it is read again whole).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u64,
}

/// A file found for reading, with what the state would record for it.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    /// The state's key: the absolute path.
    pub key: String,
    pub mark: FileMark,
}

/// Looks at each file once (one `stat`, on every core) and keeps those
/// `seen` does not hold as they are now. Returns them, in the order given,
/// and how many were already read.
pub fn unread(files: Vec<PathBuf>, seen: Option<&BTreeMap<String, FileMark>>) -> (Vec<Found>, u64) {
    let found: Vec<Found> = files
        .into_par_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let mark = FileMark {
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified_ns: meta
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as u64),
            };
            let key = std::path::absolute(&path)
                .unwrap_or_else(|_| path.clone())
                .to_string_lossy()
                .into_owned();
            Found { path, key, mark }
        })
        .collect();
    let total = found.len();
    let out: Vec<Found> = found
        .into_iter()
        .filter(|f| seen.is_none_or(|s| s.get(&f.key) != Some(&f.mark)))
        .collect();
    let already = (total - out.len()) as u64;
    (out, already)
}
