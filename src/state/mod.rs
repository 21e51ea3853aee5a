//! `--state FILE`: what a scheduled job's earlier runs read and saw, so the
//! next run reads only what is new and knows what is new.
//!
//! One JSON file (and a `FILE.lock` beside it) holding, per source, what
//! was read: local files by path, size and modification time; S3 objects
//! by key and ETag, with how far the listing reached; the CloudTrail API by
//! the newest event time read per account and region, with the ids of the
//! events near it. And the history `new-subjects` compares with
//! ([`history::History`]).
//!
//! The file is written atomically, and only by a run that finished its
//! output: a run that fails or is killed leaves the previous state, and the
//! next one reads what it missed. A damaged or unreadable input is never
//! recorded as read. Two runs on one state take turns (the lock). A state
//! file that cannot be parsed is an error, never silently reset: a reset
//! would read everything again and report every finding as new.

pub mod files;
pub mod history;
pub mod remote;
pub mod sessions;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::lockfile::{self, Lock, Wait};
use crate::time::{Millis, format_millis};
use history::History;

/// The state file's format version.
const VERSION: u32 = 1;

/// The state file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// When the last run that wrote it finished.
    #[serde(default)]
    pub written: Option<String>,
    /// How many runs wrote it.
    #[serde(default)]
    pub runs: u64,
    /// The reports those runs ran (a file read for some reports is not
    /// read again for others).
    #[serde(default)]
    pub reports: Vec<String>,
    /// Local files read: absolute path → size and modification time.
    #[serde(default)]
    pub files: BTreeMap<String, files::FileMark>,
    /// S3 trails read, by URL.
    #[serde(default)]
    pub s3: BTreeMap<String, remote::S3Mark>,
    /// CloudTrail API pulls, by `account/region`.
    #[serde(default)]
    pub api: BTreeMap<String, remote::ApiMark>,
    /// What `new-subjects` compares with; absent until a run built it.
    #[serde(default)]
    pub history: Option<History>,
    /// Web-identity sessions that may still be in use (`trace`), by the
    /// key they issued.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sessions: BTreeMap<String, sessions::SessionMark>,
}

/// What one run read, to be recorded once its output is written.
#[derive(Debug, Default)]
pub struct Marks {
    pub files: Vec<(String, files::FileMark)>,
    /// The sessions to keep (replacing the saved ones), when the run
    /// followed sessions.
    pub sessions: Option<BTreeMap<String, sessions::SessionMark>>,
    pub s3: BTreeMap<String, remote::S3Mark>,
    pub api: BTreeMap<String, remote::ApiMark>,
}

/// An open state file, locked for this run.
pub struct State {
    path: PathBuf,
    saved: Saved,
    _lock: Lock,
}

impl State {
    /// Locks and reads the state at `path` (a missing file is a first run).
    pub fn open(path: &Path, wait: Wait<'_>) -> anyhow::Result<State> {
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let busy = format!("another run is using the state {}", path.display());
        let lock = lockfile::acquire(&lock_path, &busy, wait)
            .with_context(|| format!("cannot lock the state {}", lock_path.display()))?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the state {} is in use by another run (without --no-wait, this one would wait)",
                    path.display()
                )
            })?;
        let saved = match std::fs::read(path) {
            Ok(bytes) => parse(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "the state {} is damaged: {e}; move it aside to start over (the next run then reads everything again and builds a new baseline)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved {
                version: VERSION,
                ..Saved::default()
            },
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read the state {}", path.display()));
            }
        };
        Ok(State {
            path: path.to_owned(),
            saved,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What earlier runs recorded.
    pub fn saved(&self) -> &Saved {
        &self.saved
    }

    /// Records what this run read and saw: `history` replaces the saved
    /// one when given; `reports` are the reports it ran.
    pub fn record(&mut self, marks: Marks, history: Option<History>, reports: &[&str]) {
        self.saved.files.extend(marks.files);
        // S3 and API marks replace the source's earlier ones: they carry
        // forward what is still needed.
        self.saved.s3.extend(marks.s3);
        self.saved.api.extend(marks.api);
        if let Some(s) = marks.sessions {
            self.saved.sessions = s;
        }
        if history.is_some() {
            self.saved.history = history;
        }
        for r in reports {
            if !self.saved.reports.iter().any(|x| x == r) {
                self.saved.reports.push(r.to_string());
            }
        }
        self.saved.reports.sort();
    }

    /// Writes the state atomically.
    pub fn save(&mut self, now: Millis) -> anyhow::Result<()> {
        self.saved.version = VERSION;
        self.saved.runs += 1;
        self.saved.written = Some(format_millis(now));
        let mut bytes = serde_json::to_vec_pretty(&self.saved)?;
        bytes.push(b'\n');
        lockfile::write_atomically(&self.path, &bytes)
            .with_context(|| format!("cannot write the state {}", self.path.display()))
    }

    /// A warning when earlier runs ran other reports: what they read is
    /// not read again for this run's.
    pub fn warn_other_reports(
        &self,
        reports: &[&str],
        stderr: &mut dyn Write,
    ) -> std::io::Result<()> {
        let earlier = &self.saved.reports;
        let missing: Vec<&&str> = reports
            .iter()
            .filter(|r| !earlier.is_empty() && !earlier.iter().any(|e| e == *r))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|r| **r).collect();
            writeln!(
                stderr,
                "ctaudit: the state {} was kept by runs without {}: what they read is not read again for it (use one state per job)",
                crate::output::escape::terminal(&self.path.display().to_string()),
                names.join(", ")
            )?;
        }
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Result<Saved, String> {
    let saved: Saved = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if saved.version != VERSION {
        return Err(format!(
            "format version {} (this ctaudit reads version {VERSION})",
            saved.version
        ));
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_state_is_a_first_run_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut s = State::open(&path, Wait::Refuse).unwrap();
        assert_eq!(s.saved().runs, 0);
        assert!(s.saved().history.is_none());
        let second = State::open(&path, Wait::Refuse);
        assert!(
            second
                .err()
                .unwrap()
                .to_string()
                .contains("in use by another run")
        );
        s.record(Marks::default(), Some(History::default()), &["failures"]);
        s.save(0).unwrap();
        drop(s);
        let s = State::open(&path, Wait::Refuse).unwrap();
        assert_eq!(s.saved().runs, 1);
        assert!(s.saved().history.is_some());
        drop(s);

        std::fs::write(&path, b"{\"version\":1,\"files\":").unwrap();
        let err = State::open(&path, Wait::Refuse).err().unwrap().to_string();
        assert!(
            err.contains("is damaged") && err.contains("state.json"),
            "{err}"
        );
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
