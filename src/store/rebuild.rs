//! Rewriting what the store holds, always beside it and swapped in whole:
//! filling in the `sessions` table of a store written before it existed,
//! and compaction (`ctaudit compact`), which merges the part files that
//! daily ingests leave into one file per day.
//!
//! A day is rebuilt in a hidden folder beside its own (`.date=…​.tmp`,
//! which readers never list) and exchanged with it in one atomic rename
//! (`renameat2(RENAME_EXCHANGE)`), so a reader sees the day's old parts or
//! its new one, never both and never neither. The merged part takes a name
//! no old part had: a reader that listed the old names just before the
//! swap fails on a missing file instead of mixing the two. A compaction
//! that stops half way leaves only hidden folders, removed by the next
//! writer; the days not yet swapped are as they were.
//!
//! Only ever run with the store's writer lock held.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::parts::{OpenParts, finish_part, part_writer, polars_err};
use super::read::scan_files;
use super::{ROW_GROUP, StoreError, files_under, io, part_files, sessions};
use crate::frame::col;

/// Whether a folder in the store is one a rebuild left behind.
pub fn is_temp_dir(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Gives a store whose `events` predate the `sessions` table that table,
/// built from the events day by day and put in place in one rename.
pub fn fill_in_sessions(root: &Path) -> Result<(), StoreError> {
    let target = root.join(sessions::DIR);
    if target.is_dir() {
        return Ok(());
    }
    let tmp = root.join(format!(".{}-{}.tmp", sessions::DIR, std::process::id()));
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let mut parts = OpenParts::default();
    for (name, dir) in day_dirs(&root.join("events"))? {
        let found = sessions_of(&part_files(&dir).map_err(io(&dir))?)?;
        if found.height() > 0 {
            parts.write(&name, &tmp.join(&name), &found)?;
            parts.close(&name)?;
        }
    }
    sync_dir(&tmp)?;
    fs::rename(&tmp, &target).map_err(io(&target))
}

/// The sessions among the events of `files` (one day's parts).
fn sessions_of(files: &[PathBuf]) -> Result<DataFrame, StoreError> {
    if files.is_empty() {
        return Ok(DataFrame::empty_with_schema(&sessions::schema()));
    }
    scan_files(files)
        .and_then(|lf| sessions::of_events(lf).collect())
        .map_err(|source| StoreError::Polars {
            path: files[0].parent().unwrap_or(Path::new("")).to_owned(),
            source,
        })
}

/// What a compaction did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Compacted {
    /// Days whose parts were merged.
    pub days: u64,
    /// Part files before and after, over those days (events and sessions).
    pub parts_before: u64,
    pub parts_after: u64,
    /// Events in the merged days (the same before and after).
    pub events: u64,
}

/// Merges every day of `root` that holds more than one events part into
/// one part (and rebuilds that day's sessions from it), in the events
/// frame's order: time (events without one last), then event id, then
/// source file.
pub fn compact(root: &Path) -> Result<Compacted, StoreError> {
    let mut done = Compacted::default();
    let events = root.join("events");
    for (name, dir) in day_dirs(&events)? {
        let parts = part_files(&dir).map_err(io(&dir))?;
        if parts.len() < 2 {
            continue;
        }
        let day = scan_files(&parts)
            .and_then(|lf| {
                lf.sort(
                    [col::EVENT_TIME, col::EVENT_ID, col::SOURCE_FILE],
                    SortMultipleOptions::default()
                        .with_nulls_last(true)
                        .with_maintain_order(true),
                )
                .collect()
            })
            .map_err(|source| StoreError::Polars {
                path: dir.clone(),
                source,
            })?;
        let found = sessions::of_events(day.clone().lazy())
            .collect()
            .map_err(|source| StoreError::Polars {
                path: dir.clone(),
                source,
            })?;
        let session_dir = root.join(sessions::DIR).join(&name);
        let old_sessions = files_under(&session_dir)?;
        // Sessions first: were the run to stop between the two, the
        // sessions would already be the ones the merged events give (the
        // same as the old parts give).
        replace_day(&session_dir, &old_sessions, &found)?;
        replace_day(&dir, &parts, &day)?;
        done.days += 1;
        done.parts_before += (parts.len() + old_sessions.len()) as u64;
        done.parts_after += 1 + u64::from(found.height() > 0);
        done.events += day.height() as u64;
    }
    Ok(done)
}

/// Puts `rows` in place of the parts `old` of the partition folder `dir`,
/// as one part, in one atomic exchange of folders.
fn replace_day(dir: &Path, old: &[PathBuf], rows: &DataFrame) -> Result<(), StoreError> {
    let parent = dir.parent().expect("a partition has a table folder");
    let name = dir.file_name().expect("a partition has a name");
    let tmp = parent.join(format!(".{}.tmp", name.to_string_lossy()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    if rows.height() > 0 {
        // A name none of the old parts had.
        let next = old
            .iter()
            .filter_map(|p| part_number(p))
            .max()
            .map_or(0, |n| n + 1);
        write_part(&tmp.join(format!("part-{next:05}.parquet")), rows)?;
    }
    sync_dir(&tmp)?;
    if !dir.is_dir() {
        return fs::rename(&tmp, dir).map_err(io(dir));
    }
    exchange(&tmp, dir)?;
    // `tmp` now holds the old parts.
    fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    sync_dir(parent)
}

/// `part-<n>.parquet`'s `n`.
fn part_number(path: &Path) -> Option<u64> {
    let stem = path.file_stem()?.to_str()?;
    stem.strip_prefix("part-")?.parse().ok()
}

/// Writes `rows` as one zstd part (level 3) in even row groups of at most
/// [`ROW_GROUP`] rows.
fn write_part(path: &Path, rows: &DataFrame) -> Result<(), StoreError> {
    let file = fs::File::create_new(path).map_err(io(path))?;
    let mut rows = rows.clone();
    rows.rechunk_mut();
    let mut writer =
        part_writer(file, rows.schema(), 3).map_err(|source| polars_err(path, source))?;
    for range in even_groups(rows.height()) {
        writer
            .write(&rows.slice(range.start as i64, range.len()))
            .map_err(|source| polars_err(path, source))?;
    }
    finish_part(writer, path)
}

/// The row groups of a part of `height` rows: as few as [`ROW_GROUP`]
/// allows, of even size, the last taking what the division leaves.
fn even_groups(height: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let groups = height.div_ceil(ROW_GROUP).max(1);
    let size = height / groups;
    (0..groups).map(move |g| {
        let end = if g + 1 == groups {
            height
        } else {
            (g + 1) * size
        };
        g * size..end
    })
}

/// Swaps two folders in one step.
#[cfg(target_os = "linux")]
pub(super) fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).expect("no NUL in a store path");
    let (ca, cb) = (c(a), c(b));
    // SAFETY: two valid NUL-terminated paths; the call reads nothing else.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        // A file system without the exchange: two renames.
        Some(libc::EINVAL | libc::ENOSYS) => exchange_by_renames(a, b),
        _ => Err(StoreError::Io {
            path: b.to_owned(),
            source: err,
        }),
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    exchange_by_renames(a, b)
}

/// The exchange as two renames, where the system has no atomic one: for a
/// moment the day is absent (a reader sees fewer events, never twice).
fn exchange_by_renames(a: &Path, b: &Path) -> Result<(), StoreError> {
    let aside = a.with_extension("old.tmp");
    fs::rename(b, &aside).map_err(io(b))?;
    fs::rename(a, b).map_err(io(a))?;
    fs::rename(&aside, a).map_err(io(&aside))
}

/// The partition folders of a table (`date=…`), sorted.
pub fn day_dirs(table: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    if !table.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(table).map_err(io(table))? {
        let entry = entry.map_err(io(table))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("date=") && entry.path().is_dir() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Makes a folder's entries durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compacted_part_is_cut_into_even_row_groups() {
        let cut = |height| -> Vec<usize> { even_groups(height).map(|r| r.len()).collect() };
        assert_eq!(cut(0), [0]);
        assert_eq!(cut(10), [10]);
        assert_eq!(cut(ROW_GROUP), [ROW_GROUP]);
        assert_eq!(cut(ROW_GROUP + 1), [ROW_GROUP / 2, ROW_GROUP / 2 + 1]);
        assert_eq!(cut(200_000), [50_000; 4]);
        for height in [1, 65_535, 131_072, 131_073, 1_000_003] {
            let groups: Vec<_> = even_groups(height).collect();
            assert_eq!(groups.first().unwrap().start, 0);
            assert_eq!(groups.last().unwrap().end, height);
            assert!(groups.windows(2).all(|w| w[0].end == w[1].start));
            assert!(groups.iter().all(|g| g.len() <= ROW_GROUP), "{height}");
        }
    }
}
