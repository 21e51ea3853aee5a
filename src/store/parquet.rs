//! The store's Parquet writer: polars' own encoders, statistics and zstd,
//! driven row group by row group as polars' batched writer drives them,
//! with two differences that make `ingest` cheaper and change no value.
//!
//! - **Each string column's encoding is settled once a part.** For every
//!   string column of every row group, polars estimates the distinct values
//!   (a hash of every value) to choose between a dictionary and plain
//!   encoding. Here the first row group of a part large enough to tell
//!   ([`SETTLE_ROWS`]) is counted exactly once: a column with more than
//!   [`PLAIN_ABOVE`] of its values distinct (event and request ids,
//!   principals, payloads: most of a part's bytes) is written plain from
//!   then on, one with fewer than [`DICTIONARY_BELOW`] (names, regions,
//!   error codes, and the columns that are null but in a few rows) goes
//!   straight to the dictionary polars would build, and the others are
//!   left to polars, group by group. Where the decisions agree with
//!   polars' (on the benchmark's trail, all of them) the file is byte for
//!   byte the one polars writes.
//! - **Pages are compressed where they are encoded**, a column a task on
//!   rayon's threads, instead of one after another on the thread that
//!   writes the file, each thread with one zstd context for all its pages
//!   (polars makes one a page; the output is the same).

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;

use polars::prelude::*;
use polars_arrow::array::{Array, BinaryViewArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDataPage, CompressedDictPage, DataPageHeader};
use polars_parquet::write::{
    CompressedPage, CompressionOptions, DynIter, DynStreamingIterator, Encoding, FileWriter, Page,
    ParquetType, StatisticsOptions, Version, WriteOptions, ZstdLevel, array_to_columns, compress,
    fallible_streaming_iterator, get_dtype_encoding,
};
use rayon::prelude::*;

/// The rows the first row group of a part must have for its string
/// columns' encodings to be settled (before, polars decides each group).
const SETTLE_ROWS: usize = 1_000;

/// The share of distinct values above which a string column is written
/// plain: polars' own threshold (on its estimate, each row group).
const PLAIN_ABOVE: f64 = 0.75;

/// The share of distinct values below which a string column is written
/// with a dictionary without asking again: far below polars' threshold,
/// so that a later row group is unlikely to cross it.
const DICTIONARY_BELOW: f64 = 0.25;

/// How one column is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    /// As polars decides it, row group by row group.
    Polars,
    Plain,
    /// Dictionary-encoded by the same cast polars makes, without its
    /// estimate.
    Dictionary,
}

/// A Parquet file being written, one row group at a time.
pub struct PartWriter<W: Write> {
    file: FileWriter<W>,
    fields: Vec<ParquetType>,
    /// Per column (one entry per leaf): polars' own choice, or plain once
    /// settled so.
    encodings: Vec<Vec<Encoding>>,
    choices: Vec<Choice>,
    settled: bool,
    options: WriteOptions,
}

impl<W: Write> PartWriter<W> {
    /// A writer for frames of `schema`, zstd at `level`.
    pub fn new(out: W, schema: &Schema, level: i32) -> PolarsResult<Self> {
        let arrow = schema.to_arrow(CompatLevel::newest());
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::Zstd(Some(ZstdLevel::try_new(level)?)),
            version: Version::V1,
            data_page_size: None,
        };
        let encodings: Vec<_> = arrow
            .iter_values()
            .map(|f| get_dtype_encoding(&f.dtype))
            .collect();
        let choices = vec![Choice::Polars; encodings.len()];
        let file = FileWriter::try_new(out, arrow, options)?;
        let fields = file.parquet_schema().fields().to_vec();
        Ok(PartWriter {
            file,
            fields,
            encodings,
            choices,
            settled: false,
            options,
        })
    }

    /// Writes `df` (of the writer's schema) as one row group a chunk: call
    /// it with frames of one chunk per column, sliced to the row group size.
    pub fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            if !self.settled && rows >= SETTLE_ROWS {
                self.settle(batch.arrays());
            }
            let options = self.options;
            let columns = batch
                .arrays()
                .par_iter()
                .zip(&self.fields)
                .zip(&self.encodings)
                .zip(&self.choices)
                .map(|(((array, field), encoding), choice)| {
                    // Where the cast fails (it does not for strings),
                    // polars decides, as it would have.
                    let pages = match choice {
                        Choice::Dictionary => match dictionary(array.as_ref()) {
                            Ok(keyed) => array_to_columns(keyed, field.clone(), options, encoding)?,
                            Err(_) => array_to_columns(array, field.clone(), options, encoding)?,
                        },
                        _ => array_to_columns(array, field.clone(), options, encoding)?,
                    };
                    pages
                        .into_iter()
                        .map(|pages| {
                            pages
                                .map(|page| compressed(page?, options.compression))
                                .collect()
                        })
                        .collect::<PolarsResult<Vec<_>>>()
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            let columns: Vec<Vec<CompressedPage>> = columns.into_iter().flatten().collect();
            let row_group = columns.iter().map(|pages| {
                let pages = fallible_streaming_iterator::convert(pages.iter().map(Ok));
                Ok(DynStreamingIterator::new(pages))
            });
            self.file.write(rows as u64, DynIter::new(row_group))?;
        }
        Ok(())
    }

    /// Writes the footer; returns what the file was written to.
    pub fn finish(mut self) -> PolarsResult<W> {
        self.file.end(None)?;
        Ok(self.file.into_inner())
    }

    /// Settles the string columns' encodings on one row group.
    fn settle(&mut self, arrays: &[Box<dyn Array>]) {
        let columns = arrays
            .iter()
            .zip(&mut self.encodings)
            .zip(&mut self.choices);
        for ((array, encoding), choice) in columns {
            if encoding.as_slice() != [Encoding::RleDictionary] {
                continue;
            }
            match distinct_share(array.as_ref()) {
                Some(share) if share > PLAIN_ABOVE => {
                    *encoding = vec![Encoding::Plain];
                    *choice = Choice::Plain;
                }
                Some(share) if share < DICTIONARY_BELOW => *choice = Choice::Dictionary,
                _ => {}
            }
        }
        self.settled = true;
    }
}

/// `array` as the dictionary polars' writer makes of it (`u32` keys).
fn dictionary(array: &dyn Array) -> PolarsResult<Box<dyn Array>> {
    let dtype =
        ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(array.dtype().clone()), false);
    polars_compute::cast::cast(array, &dtype, Default::default())
}

/// The share of a string column's rows whose value (null counting as one
/// value) is distinct; `None` for columns of other types or no rows.
fn distinct_share(array: &dyn Array) -> Option<f64> {
    fn share<'a>(values: impl Iterator<Item = Option<&'a [u8]>>, len: usize) -> Option<f64> {
        let distinct: HashSet<Option<&[u8]>> = values.collect();
        (len > 0).then(|| distinct.len() as f64 / len as f64)
    }
    let any = array.as_any();
    if let Some(strings) = any.downcast_ref::<Utf8ViewArray>() {
        return share(strings.iter().map(|v| v.map(str::as_bytes)), strings.len());
    }
    let binary = any.downcast_ref::<BinaryViewArray>()?;
    share(binary.iter(), binary.len())
}

thread_local! {
    /// This thread's zstd context, and the level it is set to.
    static ZSTD: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
}

/// `bytes` compressed with zstd at `level`, by this thread's context: the
/// bytes polars' one-shot compression gives.
fn zstd(bytes: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    ZSTD.with_borrow_mut(|context| {
        let compressor = match context {
            Some((at, compressor)) if *at == level => compressor,
            _ => {
                &mut context
                    .insert((level, zstd::bulk::Compressor::new(level)?))
                    .1
            }
        };
        compressor.compress(bytes)
    })
}

/// One encoded page compressed, as polars' `compress` does it, with this
/// thread's zstd context: a version 1 data page or a dictionary page whole.
/// Anything else (another codec, a version 2 data page, neither of which
/// this writer makes) is left to polars' `compress`.
fn compressed(page: Page, compression: CompressionOptions) -> PolarsResult<CompressedPage> {
    let CompressionOptions::Zstd(Some(level)) = compression else {
        return Ok(compress(page, Vec::new(), compression)?);
    };
    let level = level.compression_level();
    Ok(match page {
        Page::Data(page) if matches!(page.header(), DataPageHeader::V1(_)) => {
            let size = page.buffer().len();
            let rows = page
                .num_rows()
                .expect("a page being written knows its rows");
            CompressedPage::Data(CompressedDataPage::new(
                page.header().clone(),
                CowBuffer::Owned(zstd(page.buffer(), level)?),
                Compression::Zstd,
                size,
                page.descriptor,
                rows,
            ))
        }
        Page::Dict(page) => CompressedPage::Dict(CompressedDictPage::new(
            CowBuffer::Owned(zstd(&page.buffer, level)?),
            Compression::Zstd,
            page.buffer.len(),
            page.num_values,
            page.is_sorted,
        )),
        page => compress(page, Vec::new(), compression)?,
    })
}

#[cfg(test)]
mod tests {
    use polars::io::parquet::write::ParquetCompression;
    use polars_utils::compression::ZstdLevel as Level;

    use super::*;

    /// 3,000 rows: every kind of column the store has, each clearly on one
    /// side of the thresholds (or in between), and one row group's worth.
    fn frame(rows: usize) -> DataFrame {
        let text = |f: &dyn Fn(usize) -> Option<String>| -> Vec<Option<String>> {
            (0..rows).map(f).collect()
        };
        df!(
            "event_time" => (0..rows as i64).collect::<Vec<_>>(),
            "event_id" => text(&|i| Some(format!("id-{i:08}"))),
            "event_name" => text(&|i| Some(["A", "B", "C"][i % 3].to_string())),
            "role_arn" => text(&|i| (i == 5).then(|| "arn:aws:iam::1:role/r".to_string())),
            "gh_ref" => text(&|_| None),
            "half" => text(&|i| Some(format!("v{}", i / 2))),
            "read_only" => (0..rows).map(|i| (i % 5 != 0).then_some(i % 2 == 0)).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn ours(df: &DataFrame, group: usize) -> Vec<u8> {
        let mut w = PartWriter::new(Vec::new(), df.schema(), 1).unwrap();
        for offset in (0..df.height()).step_by(group) {
            w.write(&df.slice(offset as i64, group)).unwrap();
        }
        w.finish().unwrap()
    }

    fn polars_own(df: &DataFrame, group: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = ParquetWriter::new(&mut out)
            .with_compression(ParquetCompression::Zstd(Some(Level::try_new(1).unwrap())))
            .batched(df.schema())
            .unwrap();
        for offset in (0..df.height()).step_by(group) {
            w.write_batch(&df.slice(offset as i64, group)).unwrap();
        }
        w.finish().unwrap();
        drop(w);
        out
    }

    fn read(bytes: Vec<u8>) -> DataFrame {
        ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .unwrap()
    }

    #[test]
    fn where_the_decisions_agree_the_file_is_the_one_polars_writes() {
        for (rows, group) in [(3_000, 1_000), (3_000, 3_000), (900, 300), (0, 1)] {
            let df = frame(rows);
            let bytes = ours(&df, group);
            assert!(
                bytes == polars_own(&df, group),
                "{rows} rows in groups of {group}"
            );
            assert!(read(bytes).equals_missing(&df));
        }
    }

    #[test]
    fn each_kind_of_column_is_settled_on_the_first_large_group() {
        let df = frame(2_000);
        let mut w = PartWriter::new(Vec::new(), df.schema(), 1).unwrap();
        // Too few rows to tell: polars decides.
        w.write(&df.slice(0, 10)).unwrap();
        assert!(w.choices.iter().all(|c| *c == Choice::Polars));
        w.write(&df.slice(10, 1_990)).unwrap();
        let by_name: Vec<(&str, Choice)> = df
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .zip(w.choices.iter().copied())
            .collect();
        assert_eq!(
            by_name,
            [
                ("event_time", Choice::Polars),
                ("event_id", Choice::Plain),
                ("event_name", Choice::Dictionary),
                ("role_arn", Choice::Dictionary),
                ("gh_ref", Choice::Dictionary),
                ("half", Choice::Polars),
                ("read_only", Choice::Polars),
            ]
        );
        assert!(read(w.finish().unwrap()).equals_missing(&df));
    }

    /// A part settled on a first group unlike the rest still holds every
    /// value: only the encoding of the later groups is not the best.
    #[test]
    fn a_settled_choice_that_stops_fitting_keeps_every_value() {
        let mut df = frame(1_000);
        let mut later = frame(3_000).slice(1_000, 2_000);
        // Names all distinct, ids all the same, from the second group on.
        later
            .with_column(Column::new(
                "event_name".into(),
                (0..2_000).map(|i| format!("n{i}")).collect::<Vec<_>>(),
            ))
            .unwrap();
        later
            .with_column(Column::new("event_id".into(), vec!["same"; 2_000]))
            .unwrap();
        df.vstack_mut(&later).unwrap();
        df.rechunk_mut();
        assert!(read(ours(&df, 1_000)).equals_missing(&df));
    }

    /// A thread's context follows the level asked for (compact writes at
    /// 3, ingest at 1, on the same threads) and gives one-shot zstd's bytes.
    #[test]
    fn a_threads_zstd_context_gives_one_shot_bytes_at_every_level() {
        let text: Vec<u8> = (0..50_000u32)
            .flat_map(|i| format!("{{\"id\":\"e{}\",\"n\":{}}},", i % 977, i).into_bytes())
            .collect();
        for level in [1, 3, 1, 9, 1] {
            assert_eq!(
                zstd(&text, level).unwrap(),
                zstd::bulk::compress(&text, level).unwrap(),
                "level {level}"
            );
        }
    }

    #[test]
    fn the_share_of_distinct_values() {
        let strings = Utf8ViewArray::from_slice([Some("a"), None, Some("a"), Some("b")]);
        assert_eq!(distinct_share(&strings), Some(0.75));
        let binary = BinaryViewArray::from_slice([Some(&b"x"[..]), Some(b"x")]);
        assert_eq!(distinct_share(&binary), Some(0.5));
        assert_eq!(
            distinct_share(&Utf8ViewArray::from_slice::<&str, _>([])),
            None
        );
        let numbers = polars_arrow::array::Int64Array::from_slice([1, 2]);
        assert_eq!(distinct_share(&numbers), None);
    }
}
