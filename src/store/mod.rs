//! The local event store: the events frame as Parquet files, partitioned by
//! day, so investigation queries do not re-read gzip JSON.
//!
//! Layout: `DIR/events/date=YYYY-MM-DD/part-<n>.parquet` (`date=unknown` for
//! events without a usable time), zstd-compressed, in row groups, with the
//! events frame's schema: DuckDB, pandas and polars open it as it is
//! (`read_parquet('DIR/events/*/*.parquet')`). Beside it, the `sessions`
//! table ([`sessions`]), laid out the same way, carries the attribution of
//! keys to the sessions that issued them. Each ingest adds one part per day
//! it touches to each table and never rewrites a file; events and sessions
//! already in the store are not added twice. `compact` ([`rebuild`]) merges
//! a day's parts, swapping the day in whole. This module writes and scans
//! the store; it does not parse logs or run queries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

mod files;
mod keys;
mod lock;
mod order;
mod parquet;
mod parts;
mod read;
mod rebuild;
pub mod sessions;

use files::{files_under, io, part_files, read_columns, remove_temp_files};
use keys::{KeyIndex, RowKey, Verdict};
pub use lock::Wait;
use order::RowOrder;
use parts::OpenParts;
pub use read::within;
pub use rebuild::Compacted;

use crate::frame::{self, col};
use crate::time::format_millis;

/// Rows per Parquet row group.
const ROW_GROUP: usize = 65_536;

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store {path}: {source}")]
    Polars {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error(
        "{0} is not a ctaudit store (no events/ folder): run `ctaudit ingest --store {0}` first"
    )]
    Missing(PathBuf),
    #[error("store {0}: another ingest is writing to it (without --no-wait, this one would wait)")]
    Busy(PathBuf),
}

/// A store on disk.
pub struct Store {
    root: PathBuf,
    /// What the store holds, per day partition, loaded on first touch.
    /// Only the most recently touched days are kept (a trail is read in
    /// date order, so older days are rarely touched again; when they are,
    /// their keys are read back from the files): memory stays flat however
    /// long the trail.
    known: HashMap<String, DayKeys>,
    /// Days in `known`, least recently touched first.
    touched: Vec<String>,
    /// The events part files this writer has open: only for days in
    /// `known` (a day's part is completed when its keys are forgotten).
    parts: OpenParts,
    /// The same for the `sessions` table.
    session_parts: OpenParts,
    /// The writer lock, held while the store is open for writing.
    _lock: lock::Lock,
}

/// One day partition's keys: its events', and its sessions' keys.
#[derive(Default)]
struct DayKeys {
    events: KeyIndex,
    sessions: HashSet<String>,
}

/// Day partitions whose keys stay in memory during one ingest.
const KNOWN_DAYS: usize = 4;

/// What one append did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AppendStats {
    pub added: u64,
    /// Rows added to the `sessions` table.
    pub sessions_added: u64,
    pub already_stored: u64,
    pub files_written: u64,
    /// Events found more than once in the frame appended (written once).
    pub duplicates: u64,
}

impl AppendStats {
    pub fn add(&mut self, other: AppendStats) {
        self.added += other.added;
        self.sessions_added += other.sessions_added;
        self.already_stored += other.already_stored;
        self.files_written += other.files_written;
        self.duplicates += other.duplicates;
    }
}

impl Store {
    /// Opens (creating if needed) a store for writing, as its only writer
    /// ([`lock`]); temporary files left by a writer that was killed are
    /// removed. A store written before the `sessions` table existed has it
    /// filled in from its events first.
    pub fn create(root: &Path, wait: Wait<'_>) -> Result<Store, StoreError> {
        let events = root.join("events");
        fs::create_dir_all(&events).map_err(io(&events))?;
        let lock = lock::acquire(root, wait)?;
        remove_temp_files(root).map_err(io(root))?;
        rebuild::fill_in_sessions(root)?;
        Ok(Store {
            root: root.to_owned(),
            known: HashMap::new(),
            touched: Vec::new(),
            parts: OpenParts::default(),
            session_parts: OpenParts::default(),
            _lock: lock,
        })
    }

    /// Adds the events of `df` (events frame schema, in any order) that the
    /// store does not hold yet, one new part file per day, its rows in time
    /// order (then event id and source file, as the events frame sorts).
    /// An event twice in `df` is written once and counted as a duplicate.
    ///
    /// The sessions among them ([`sessions`]) that the store does not hold
    /// yet go to the `sessions` table, day by day beside the events.
    pub fn append(&mut self, df: &DataFrame) -> Result<AppendStats, StoreError> {
        let mut stats = AppendStats::default();
        let root = self.root.clone();
        let err = |source| StoreError::Polars {
            path: root.clone(),
            source,
        };
        let days = day_labels(&frame::event_times(df).map_err(err)?);
        let keys = frame::event_keys(df).map_err(err)?;
        let order = RowOrder::of(df).map_err(err)?;
        let found = sessions::of_events(df.clone().lazy())
            .collect()
            .map_err(err)?;
        let mut session_rows = rows_by_day(&day_labels(
            &found
                .column(sessions::SESSION_START)
                .and_then(|c| c.as_materialized_series().to_physical_repr().i64().cloned())
                .map_err(err)?,
        ));
        for (day, mut rows) in rows_by_day(&days) {
            let dir = self.root.join("events").join(format!("date={day}"));
            stats.files_written += self.touch(&day)?;
            let known = &mut self.known_keys(&day)?.events;
            rows.sort_by(|&a, &b| order.cmp(a as usize, b as usize));
            let day_keys: Vec<RowKey> = rows.iter().map(|&i| keys[i as usize]).collect();
            let mut fresh = Vec::with_capacity(rows.len());
            for (i, verdict) in rows.into_iter().zip(known.admit(&day_keys)) {
                match verdict {
                    Verdict::New => fresh.push(i),
                    Verdict::Stored => stats.already_stored += 1,
                    Verdict::Repeat => stats.duplicates += 1,
                }
            }
            if let Some(rows) = session_rows.remove(&day) {
                stats.sessions_added += self.append_sessions(&day, &found, rows)?;
            }
            if fresh.is_empty() {
                continue;
            }
            let idx = IdxCa::from_vec("idx".into(), fresh);
            let rows = df.take(&idx).map_err(err)?;
            self.parts.write(&day, &dir, &rows)?;
            stats.added += rows.height() as u64;
        }
        Ok(stats)
    }

    /// Adds the rows of `found` (a [`sessions::of_events`] frame) at `rows`,
    /// all of `day`, whose keys the day does not hold yet.
    fn append_sessions(
        &mut self,
        day: &str,
        found: &DataFrame,
        rows: Vec<IdxSize>,
    ) -> Result<u64, StoreError> {
        let table = self.root.join(sessions::DIR);
        let err = |source| StoreError::Polars {
            path: table.clone(),
            source,
        };
        let keys = found
            .column(col::ISSUED_ACCESS_KEY_ID)
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
        let known = &mut self.known_keys(day)?.sessions;
        let fresh: Vec<IdxSize> = rows
            .into_iter()
            .filter(|&i| {
                keys.get(i as usize)
                    .is_some_and(|k| known.insert(k.to_string()))
            })
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let rows = found
            .take(&IdxCa::from_vec("idx".into(), fresh))
            .map_err(err)?;
        let dir = self.root.join(sessions::DIR).join(format!("date={day}"));
        self.session_parts.write(day, &dir, &rows)?;
        Ok(rows.height() as u64)
    }

    /// Completes the part files being written (they are invisible to
    /// readers until then) and releases the store. Returns how many events
    /// parts were completed; those completed by [`Store::append`] (for the
    /// days it stopped holding) are counted in its stats.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.session_parts.finish()?;
        self.parts.finish()
    }

    /// Merges each day's part files into one, for both tables, and
    /// releases the store ([`rebuild`] says how readers are kept safe).
    pub fn compact(self) -> Result<Compacted, StoreError> {
        rebuild::compact(&self.root)
    }

    /// The days holding more than `limit` events part files, with how many
    /// each holds.
    pub fn crowded_days(root: &Path, limit: usize) -> Result<Vec<(String, usize)>, StoreError> {
        let mut out = Vec::new();
        for (name, dir) in rebuild::day_dirs(&root.join("events"))? {
            let n = files_under(&dir)?.len();
            if n > limit {
                out.push((name.trim_start_matches("date=").to_string(), n));
            }
        }
        Ok(out)
    }

    /// Marks `day` the most recently touched, and forgets the keys of the
    /// least recently touched beyond [`KNOWN_DAYS`], completing their open
    /// parts first: their keys will be read back from the files, so their
    /// rows must be in them. Returns how many events parts were completed.
    fn touch(&mut self, day: &str) -> Result<u64, StoreError> {
        self.touched.retain(|d| d != day);
        self.touched.push(day.to_string());
        let mut completed = 0;
        while self.touched.len() > KNOWN_DAYS {
            let oldest = self.touched.remove(0);
            self.known.remove(&oldest);
            self.session_parts.close(&oldest)?;
            completed += self.parts.close(&oldest)?;
        }
        Ok(completed)
    }

    /// The keys of one day partition, read from its files the first time.
    fn known_keys(&mut self, day: &str) -> Result<&mut DayKeys, StoreError> {
        if !self.known.contains_key(day) {
            let partition = format!("date={day}");
            let mut keys = DayKeys::default();
            let mut set = Vec::new();
            for file in files_under(&self.root.join("events").join(&partition))? {
                let df = read_columns(&file, &frame::EVENT_KEY_COLUMNS)?;
                let found = frame::event_keys(&df)
                    .map_err(|source| StoreError::Polars { path: file, source })?;
                set.extend(found);
            }
            keys.events.extend(set);
            for file in files_under(&self.root.join(sessions::DIR).join(&partition))? {
                let df = read_columns(&file, &[col::ISSUED_ACCESS_KEY_ID])?;
                let found = df
                    .column(col::ISSUED_ACCESS_KEY_ID)
                    .and_then(|c| c.str().cloned())
                    .map_err(|source| StoreError::Polars { path: file, source })?;
                keys.sessions
                    .extend(found.iter().flatten().map(str::to_string));
            }
            self.known.insert(day.to_string(), keys);
        }
        Ok(self.known.get_mut(day).expect("inserted above"))
    }
}

/// The rows of each day, by label.
fn rows_by_day(days: &[String]) -> BTreeMap<String, Vec<IdxSize>> {
    let mut out: BTreeMap<String, Vec<IdxSize>> = BTreeMap::new();
    for (i, day) in days.iter().enumerate() {
        match out.get_mut(day) {
            Some(rows) => rows.push(i as IdxSize),
            None => {
                out.insert(day.clone(), vec![i as IdxSize]);
            }
        }
    }
    out
}

/// `YYYY-MM-DD` (UTC) of each row's time, or `unknown`; each distinct day
/// is formatted once.
fn day_labels(times: &Int64Chunked) -> Vec<String> {
    const MS_PER_DAY: i64 = 86_400_000;
    let mut labels: HashMap<Option<i64>, String> = HashMap::new();
    times
        .iter()
        .map(|t| {
            let day = t.map(|t| t.div_euclid(MS_PER_DAY));
            labels
                .entry(day)
                .or_insert_with(|| {
                    day.map_or_else(
                        || "unknown".to_string(),
                        |d| format_millis(d * MS_PER_DAY)[..10].to_string(),
                    )
                })
                .clone()
        })
        .collect()
}

#[cfg(test)]
mod tests;
