//! The store's files on disk: listing part files, reading a few columns
//! of one, and clearing what an unfinished writer left.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{StoreError, sessions};

/// The part files of one partition folder (none when it does not exist).
pub(super) fn files_under(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    part_files(dir).map_err(io(dir))
}

/// The named columns of one part file.
pub(super) fn read_columns(file: &Path, names: &[&str]) -> Result<DataFrame, StoreError> {
    let f = File::open(file).map_err(io(file))?;
    ParquetReader::new(f)
        .with_columns(Some(names.iter().map(|c| c.to_string()).collect()))
        .finish()
        .map_err(|source| StoreError::Polars {
            path: file.to_owned(),
            source,
        })
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::Io { path, source }
}

/// Removes what writers that did not finish left in the store's tables
/// (only ever called with the writer lock held, so none is in use): their
/// temporary part files, and half-built tables ([`super::rebuild`]).
pub(super) fn remove_temp_files(root: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() && super::rebuild::is_temp_dir(&name) {
            fs::remove_dir_all(entry.path())?;
        }
    }
    for table in ["events", sessions::DIR] {
        let dir = root.join(table);
        if dir.is_dir() {
            remove_temp_parts(&dir)?;
        }
    }
    Ok(())
}

/// Removes the temporary part files under `dir`.
pub(super) fn remove_temp_parts(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if super::rebuild::is_temp_dir(&entry.file_name().to_string_lossy()) {
                fs::remove_dir_all(&path)?;
                continue;
            }
            remove_temp_parts(&path)?;
        } else if path.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The `.parquet` files under `dir` (recursively), sorted.
/// Hidden entries (a rebuild's folders, a writer's temporary files) are
/// never listed.
pub(super) fn part_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            out.extend(part_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
