//! The local event store: the events frame as Parquet files, partitioned by
//! day, so investigation queries do not re-read gzip JSON.
//!
//! Layout: `DIR/events/date=YYYY-MM-DD/part-<n>.parquet` (`date=unknown` for
//! events without a usable time), zstd-compressed, in row groups, with the
//! events frame's schema: DuckDB, pandas and polars open it as it is
//! (`read_parquet('DIR/events/*/*.parquet')`). Each ingest adds one part per
//! day it touches and never rewrites a file; events already in the store are
//! not added twice. This module writes and scans the store; it does not
//! parse logs or run queries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use polars::prelude::*;

mod keys;
mod lock;
mod order;
mod parts;

use keys::KeyIndex;
pub use lock::Wait;
use order::{KeyHash, RowOrder};
use parts::OpenParts;

use crate::frame::{self, Columns, col};
use crate::ingest::RowFilter;
use crate::ingest::summary::{InputSummary, SkipRecord};
use crate::time::{Window, format_millis};

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
    /// Keys already in the store, per day partition, loaded on first touch.
    /// Only the most recently touched days are kept (a trail is read in
    /// date order, so older days are rarely touched again; when they are,
    /// their keys are read back from the files): memory stays flat however
    /// long the trail.
    known: HashMap<String, KeyIndex>,
    /// Days in `known`, least recently touched first.
    touched: Vec<String>,
    /// The part files this writer has open: only for days in `known`
    /// (a day's part is completed when its keys are forgotten).
    parts: OpenParts,
    /// The writer lock, held while the store is open for writing.
    _lock: lock::Lock,
}

/// Day partitions whose keys stay in memory during one ingest.
const KNOWN_DAYS: usize = 4;

/// What one append did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AppendStats {
    pub added: u64,
    pub already_stored: u64,
    pub files_written: u64,
    /// Events found more than once in the frame appended (written once).
    pub duplicates: u64,
}

impl AppendStats {
    pub fn add(&mut self, other: AppendStats) {
        self.added += other.added;
        self.already_stored += other.already_stored;
        self.files_written += other.files_written;
        self.duplicates += other.duplicates;
    }
}

impl Store {
    /// Opens (creating if needed) a store for writing, as its only writer
    /// ([`lock`]); temporary files left by a writer that was killed are
    /// removed.
    pub fn create(root: &Path, wait: Wait<'_>) -> Result<Store, StoreError> {
        let events = root.join("events");
        fs::create_dir_all(&events).map_err(|source| StoreError::Io {
            path: events.clone(),
            source,
        })?;
        let lock = lock::acquire(root, wait)?;
        remove_temp_files(&events).map_err(|source| StoreError::Io {
            path: events,
            source,
        })?;
        Ok(Store {
            root: root.to_owned(),
            known: HashMap::new(),
            touched: Vec::new(),
            parts: OpenParts::default(),
            _lock: lock,
        })
    }

    /// A lazy scan of every event in the store, with the events frame's schema.
    pub fn scan(root: &Path) -> Result<LazyFrame, StoreError> {
        let files = Store::files(root)?;
        if files.is_empty() {
            return Ok(frame::empty().lazy());
        }
        scan_files(&files).map_err(|source| StoreError::Polars {
            path: root.join("events"),
            source,
        })
    }

    /// The start of the earliest day the store holds events of (`None`: no
    /// dated events), read from the partitions' names.
    pub fn first_day(root: &Path) -> Result<Option<crate::time::Millis>, StoreError> {
        let events = root.join("events");
        let entries = fs::read_dir(&events).map_err(|source| StoreError::Io {
            path: events.clone(),
            source,
        })?;
        let first = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let day = name.strip_prefix("date=")?;
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
            })
            .min();
        Ok(first.map(crate::time::day_start))
    }

    /// The store's part files, in order.
    fn files(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
        let events = root.join("events");
        if !events.is_dir() {
            return Err(StoreError::Missing(root.to_owned()));
        }
        part_files(&events).map_err(|source| StoreError::Io {
            path: events.clone(),
            source,
        })
    }

    /// The events a set of reports needs, read from the store, and the
    /// account of what was read: every stored event counts as read; those
    /// outside the window or not needed are counted as skipped.
    ///
    /// Read one part file at a time, only the columns asked for, and the
    /// strings kept copied out of the file's decoded columns: memory holds
    /// what is kept and one file's worth of columns, however large the
    /// store.
    pub fn load(
        root: &Path,
        window: &Window,
        filter: &RowFilter,
        columns: Columns,
    ) -> Result<(DataFrame, InputSummary), StoreError> {
        let files = Store::files(root)?;
        let mut keep = lit(true);
        if !filter.all {
            keep = lit(false);
            if filter.web_identity {
                keep = keep.or(col(col::EVENT_NAME).eq(lit(crate::ingest::WEB_IDENTITY)));
            }
            if filter.long_lived_keys {
                keep = keep.or(col(col::ACCESS_KEY_ID).str().starts_with(lit("AKIA")));
            }
            if filter.trust_changes {
                for name in crate::ingest::TRUST_CHANGE_EVENTS {
                    keep = keep.or(col(col::EVENT_NAME).eq(lit(*name)));
                }
            }
        }
        let filled: Vec<Expr> = columns.names().into_iter().map(col).collect();
        let (mut read, mut windowed) = (0, 0);
        let mut frame = frame::empty_of(columns);
        for file in &files {
            let err = |source| StoreError::Polars {
                path: file.clone(),
                source,
            };
            let all = scan_files(std::slice::from_ref(file)).map_err(err)?;
            let in_window = within(all.clone(), window);
            read += count(all).map_err(err)?;
            windowed += count(in_window.clone()).map_err(err)?;
            let kept = in_window
                .filter(keep.clone())
                .select(filled.clone())
                .collect()
                .and_then(frame::compact)
                .map_err(err)?;
            frame.vstack_mut_owned(kept).map_err(err)?;
        }
        frame.rechunk_mut();
        let frame = frame::widen(frame).map_err(|source| StoreError::Polars {
            path: root.to_owned(),
            source,
        })?;
        let mut summary = InputSummary {
            files_read: files.len() as u64,
            events_read: read,
            events_kept: frame.height() as u64,
            ..Default::default()
        };
        summary.skip_records(SkipRecord::OutsideWindow, read - windowed);
        summary.skip_records(SkipRecord::NotNeeded, windowed - frame.height() as u64);
        let times = frame
            .column(col::EVENT_TIME)
            .expect("the events frame has event_time");
        summary.events_without_time = times.null_count() as u64;
        Ok((frame, summary))
    }

    /// Adds the events of `df` (events frame schema, in any order) that the
    /// store does not hold yet, one new part file per day, its rows in time
    /// order (then event id and source file, as the events frame sorts).
    /// An event twice in `df` is written once and counted as a duplicate.
    pub fn append(&mut self, df: &DataFrame) -> Result<AppendStats, StoreError> {
        let mut stats = AppendStats::default();
        let days = day_labels(df).map_err(|source| self.polars_err(source))?;
        let keys = frame::event_keys(df).map_err(|source| self.polars_err(source))?;
        let order = RowOrder::of(df).map_err(|source| self.polars_err(source))?;
        let mut rows_by_day: BTreeMap<&str, Vec<IdxSize>> = BTreeMap::new();
        for (i, day) in days.iter().enumerate() {
            rows_by_day
                .entry(day.as_str())
                .or_default()
                .push(i as IdxSize);
        }
        for (day, mut rows) in rows_by_day {
            let dir = self.root.join("events").join(format!("date={day}"));
            stats.files_written += self.touch(day)?;
            let known = self.known_keys(day, &dir)?;
            rows.sort_by(|&a, &b| order.cmp(a as usize, b as usize));
            let mut this_batch = HashSet::with_capacity_and_hasher(rows.len(), KeyHash::default());
            let mut fresh = Vec::with_capacity(rows.len());
            for i in rows {
                let key = keys[i as usize];
                if known.contains(key) {
                    stats.already_stored += 1;
                } else if this_batch.insert(key) {
                    fresh.push(i);
                } else {
                    stats.duplicates += 1;
                }
            }
            known.add(this_batch.into_iter().collect());
            if fresh.is_empty() {
                continue;
            }
            let idx = IdxCa::from_vec("idx".into(), fresh);
            let rows = df.take(&idx).map_err(|source| self.polars_err(source))?;
            self.parts.write(day, &dir, &rows)?;
            stats.added += rows.height() as u64;
        }
        Ok(stats)
    }

    /// Completes the part files being written (they are invisible to
    /// readers until then) and releases the store. Returns how many parts
    /// were completed; those completed by [`Store::append`] (for the days
    /// it stopped holding) are counted in its stats.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        self.parts.finish()
    }

    fn polars_err(&self, source: PolarsError) -> StoreError {
        StoreError::Polars {
            path: self.root.clone(),
            source,
        }
    }

    /// Marks `day` the most recently touched, and forgets the keys of the
    /// least recently touched beyond [`KNOWN_DAYS`], completing their open
    /// parts first: their keys will be read back from the files, so their
    /// rows must be in them. Returns how many parts were completed.
    fn touch(&mut self, day: &str) -> Result<u64, StoreError> {
        self.touched.retain(|d| d != day);
        self.touched.push(day.to_string());
        let mut completed = 0;
        while self.touched.len() > KNOWN_DAYS {
            let oldest = self.touched.remove(0);
            self.known.remove(&oldest);
            completed += self.parts.close(&oldest)?;
        }
        Ok(completed)
    }

    /// The keys of one day partition, read from its files the first time.
    fn known_keys(&mut self, day: &str, dir: &Path) -> Result<&mut KeyIndex, StoreError> {
        if !self.known.contains_key(day) {
            let mut set = Vec::new();
            if dir.is_dir() {
                let files = part_files(dir).map_err(|source| StoreError::Io {
                    path: dir.to_owned(),
                    source,
                })?;
                for file in files {
                    let df = read_key_columns(&file)?;
                    let keys = frame::event_keys(&df)
                        .map_err(|source| StoreError::Polars { path: file, source })?;
                    set.extend(keys);
                }
            }
            let mut index = KeyIndex::default();
            index.add(set);
            self.known.insert(day.to_string(), index);
        }
        Ok(self.known.get_mut(day).expect("inserted above"))
    }
}

/// The events inside `window`, and those without a usable time (kept, as
/// ingest keeps them: they cannot be placed outside it).
///
/// Expects the events frame's schema.
pub fn within(events: LazyFrame, window: &Window) -> LazyFrame {
    let t = col(col::EVENT_TIME).cast(DataType::Int64);
    let mut lf = events;
    if let Some(s) = window.since {
        lf = lf.filter(t.clone().gt_eq(lit(s)).or(t.clone().is_null()));
    }
    if let Some(u) = window.until {
        lf = lf.filter(t.clone().lt(lit(u)).or(t.is_null()));
    }
    lf
}

/// `YYYY-MM-DD` (UTC) of each row's time, or `unknown`; each distinct day
/// is formatted once.
fn day_labels(df: &DataFrame) -> PolarsResult<Vec<String>> {
    const MS_PER_DAY: i64 = 86_400_000;
    let mut labels: HashMap<Option<i64>, String> = HashMap::new();
    Ok(frame::event_times(df)?
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
        .collect())
}

fn read_key_columns(file: &Path) -> Result<DataFrame, StoreError> {
    let f = File::open(file).map_err(|source| StoreError::Io {
        path: file.to_owned(),
        source,
    })?;
    ParquetReader::new(f)
        .with_columns(Some(
            frame::EVENT_KEY_COLUMNS
                .iter()
                .map(|c| c.to_string())
                .collect(),
        ))
        .finish()
        .map_err(|source| StoreError::Polars {
            path: file.to_owned(),
            source,
        })
}

/// Removes the temporary files of writers that did not finish (only ever
/// called with the writer lock held, so none is in use).
fn remove_temp_files(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_temp_files(&path)?;
        } else if path.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The `.parquet` files under `dir` (recursively), sorted.
/// A lazy scan of the given part files.
fn scan_files(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    let paths: Vec<PlRefPath> = files
        .iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
        .collect();
    let args = ScanArgsParquet {
        hive_options: HiveOptions {
            enabled: Some(false),
            ..Default::default()
        },
        glob: false,
        // Parts written before a column was added read it as null.
        schema: Some(std::sync::Arc::new(frame::schema())),
        allow_missing_columns: true,
        ..Default::default()
    };
    LazyFrame::scan_parquet_sources(ScanSources::Paths(paths.into_iter().collect()), args)
}

/// The number of rows of `lf`.
fn count(lf: LazyFrame) -> PolarsResult<u64> {
    let df = lf.select([len().alias("n")]).collect()?;
    Ok(df.column("n")?.get(0)?.extract::<u64>().unwrap_or(0))
}

fn part_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(part_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests;
