//! The part files an ingest is writing: one open file per day whose keys
//! the store holds (it completes a day's part when it lets the day go),
//! each batch's rows for that day added to it as row groups, so that an
//! ingest of any length leaves about one part per day and holds no more
//! than the batch it is writing.
//!
//! A part is written under a temporary name and renamed once complete
//! (footer written, synced): readers see a whole part or none, and an
//! ingest that stops half way leaves only temporary files, which the next
//! writer removes.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::parquet::PartWriter;
use super::{ROW_GROUP, StoreError, io, lock, part_files};

/// One day's part being written.
struct OpenPart {
    day: String,
    dir: PathBuf,
    tmp: PathBuf,
    /// Buffered ([`part_writer`]).
    writer: PartWriter<BufWriter<File>>,
}

/// The parts being written.
#[derive(Default)]
pub struct OpenParts {
    open: Vec<OpenPart>,
}

impl OpenParts {
    /// Adds `rows` (the events frame's schema, already in order) to the
    /// part for `day` in `dir`, opening it if needed.
    pub fn write(&mut self, day: &str, dir: &Path, rows: &DataFrame) -> Result<(), StoreError> {
        let at = match self.open.iter().position(|p| p.day == day) {
            Some(at) => at,
            None => {
                self.open.push(OpenPart::create(day, dir, rows.schema())?);
                self.open.len() - 1
            }
        };
        let part = &mut self.open[at];
        // One row group per slice (each slice is as chunked as `rows`,
        // which `take` made one chunk per column).
        for offset in (0..rows.height()).step_by(ROW_GROUP) {
            part.writer
                .write(&rows.slice(offset as i64, ROW_GROUP))
                .map_err(|source| polars_err(&part.tmp, source))?;
        }
        Ok(())
    }

    /// Completes the part open for `day`, if any; returns how many parts
    /// were completed (0 or 1).
    pub fn close(&mut self, day: &str) -> Result<u64, StoreError> {
        match self.open.iter().position(|p| p.day == day) {
            Some(at) => self.open.remove(at).finish().map(|()| 1),
            None => Ok(0),
        }
    }

    /// Completes every open part; returns how many there were.
    pub fn finish(&mut self) -> Result<u64, StoreError> {
        let n = self.open.len() as u64;
        for part in self.open.drain(..) {
            part.finish()?;
        }
        Ok(n)
    }
}

impl OpenPart {
    fn create(day: &str, dir: &Path, schema: &Schema) -> Result<OpenPart, StoreError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = lock::temp_name(dir);
        let file = File::create_new(&tmp).map_err(io(&tmp))?;
        let writer = part_writer(file, schema, 1).map_err(|source| polars_err(&tmp, source))?;
        Ok(OpenPart {
            day: day.to_string(),
            dir: dir.to_owned(),
            tmp,
            writer,
        })
    }

    /// Writes the footer, syncs, and gives the part its name.
    fn finish(self) -> Result<(), StoreError> {
        // On disk before it has its name: a reader sees the whole part or none.
        finish_part(self.writer, &self.tmp)?;
        let n = part_files(&self.dir).map_err(io(&self.dir))?.len();
        let name = (n..)
            .map(|i| self.dir.join(format!("part-{i:05}.parquet")))
            .find(|p| !p.exists())
            .expect("a free name");
        fs::rename(&self.tmp, &name).map_err(io(&name))
    }
}

/// A part file's writer, zstd at `level`, buffered: polars' `FileWriter`
/// sends each page header and the footer's every field as a write of its
/// own (about 90,000 system calls for 200 k events unbuffered).
pub(super) fn part_writer(
    file: File,
    schema: &Schema,
    level: i32,
) -> PolarsResult<PartWriter<BufWriter<File>>> {
    PartWriter::new(BufWriter::with_capacity(256 << 10, file), schema, level)
}

/// Writes the footer of the part at `path`, the buffer's last bytes (any
/// error writing them reported, not lost on drop), and syncs the file.
pub(super) fn finish_part(
    writer: PartWriter<BufWriter<File>>,
    path: &Path,
) -> Result<(), StoreError> {
    writer
        .finish()
        .map_err(|source| polars_err(path, source))?
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .map_err(io(path))
}

pub(super) fn polars_err(path: &Path, source: PolarsError) -> StoreError {
    StoreError::Polars {
        path: path.to_owned(),
        source,
    }
}
