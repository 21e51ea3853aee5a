//! Reading the store: lazy scans of its tables, and the events a set of
//! reports needs, one part file at a time.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{Store, StoreError, part_files, sessions};
use crate::frame::{self, Columns, col};
use crate::ingest::RowFilter;
use crate::ingest::summary::{InputSummary, SkipRecord};
use crate::time::Window;

impl Store {
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

    /// A lazy scan of the store's `sessions` table ([`sessions`]); `None`
    /// for a store written before it existed (until the next `ingest` or
    /// `compact` fills it in from the events).
    pub fn sessions(root: &Path) -> Result<Option<LazyFrame>, StoreError> {
        let dir = root.join(sessions::DIR);
        if !dir.is_dir() {
            return Ok(None);
        }
        let files = part_files(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        if files.is_empty() {
            return Ok(Some(
                DataFrame::empty_with_schema(&sessions::schema()).lazy(),
            ));
        }
        scan_with(&files, sessions::schema())
            .map(Some)
            .map_err(|source| StoreError::Polars { path: dir, source })
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
    pub(super) fn files(root: &Path) -> Result<Vec<PathBuf>, StoreError> {
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
                keep = keep.or(col(col::ACCESS_KEY_ID)
                    .str()
                    .starts_with(lit(crate::ingest::LONG_LIVED_KEY_PREFIX)));
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

/// A lazy scan of the given events part files.
pub(super) fn scan_files(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    scan_with(files, frame::schema())
}

/// A lazy scan of the given part files, in `schema`.
pub(super) fn scan_with(files: &[PathBuf], schema: Schema) -> PolarsResult<LazyFrame> {
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
        schema: Some(std::sync::Arc::new(schema)),
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
