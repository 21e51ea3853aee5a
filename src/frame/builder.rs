//! Rows into polars columns: only the columns a run asks for.

use polars::prelude::*;
use polars_arrow::array::MutableBinaryViewArray;

use super::keys::EVENT_KEY_COLUMNS;
use super::row::Row;
use super::{S, STRING_COLUMNS, col, column_names, time_dtype};

/// Which of the frame's columns are filled; the others are left null.
///
/// `report` straight from logs keeps only what its reports read, so that
/// each row it keeps stays small. Every frame has the columns that order
/// rows and identify events ([`EVENT_KEY_COLUMNS`], `source_file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// One bit per entry of [`STRING_COLUMNS`].
    strs: u64,
    read_only: bool,
}

impl Columns {
    /// Every column.
    pub const ALL: Columns = Columns {
        strs: (1 << STRING_COLUMNS.len()) - 1,
        read_only: true,
    };

    /// The columns named (names that are not the frame's are ignored:
    /// reports also name the columns they make), and those every frame has.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Columns {
        let mut c = Columns {
            strs: 0,
            read_only: false,
        };
        let always = EVENT_KEY_COLUMNS.into_iter().chain([col::SOURCE_FILE]);
        for name in names.into_iter().chain(always) {
            if name == col::READ_ONLY {
                c.read_only = true;
            } else if let Some(i) = STRING_COLUMNS.iter().position(|n| *n == name) {
                c.strs |= 1 << i;
            }
        }
        c
    }

    /// Whether the column called `name` is filled.
    pub fn has(&self, name: &str) -> bool {
        match name {
            col::EVENT_TIME => true,
            col::READ_ONLY => self.read_only,
            _ => STRING_COLUMNS
                .iter()
                .position(|n| *n == name)
                .is_some_and(|i| self.has_str(i)),
        }
    }

    fn has_str(&self, index: usize) -> bool {
        self.strs & (1 << index) != 0
    }

    /// The filled columns' names, in frame order.
    pub fn names(&self) -> Vec<&'static str> {
        column_names().filter(|n| self.has(n)).collect()
    }
}

/// Builds the events frame column by column, only the [`Columns`] asked for.
pub struct FrameBuilder {
    time: PrimitiveChunkedBuilder<Int64Type>,
    read_only: Option<BooleanChunkedBuilder>,
    /// One per entry of [`STRING_COLUMNS`]; `None` for the columns not
    /// filled and for `source_file`, which `sources` builds.
    strs: Vec<Option<StringChunkedBuilder>>,
    /// `source_file`: the rows of one file share its name, stored once.
    sources: MutableBinaryViewArray<str>,
    /// The current file's name and its rows not yet in `sources`.
    run: Option<(String, usize)>,
    len: usize,
    /// The columns filled. No record fills the enrichment columns
    /// (`source_network`…): those asked for start as null columns, which
    /// take no memory, until [`crate::network::Enricher`] fills them.
    columns: Columns,
}

/// Filled after the frame is built, never from a record.
fn is_enrichment(index: usize) -> bool {
    (S::SourceNetwork as usize..=S::SourceCountry as usize).contains(&index)
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new(Columns::ALL)
    }
}

impl FrameBuilder {
    pub fn new(columns: Columns) -> Self {
        FrameBuilder {
            time: PrimitiveChunkedBuilder::new(col::EVENT_TIME.into(), 0),
            read_only: columns
                .read_only
                .then(|| BooleanChunkedBuilder::new(col::READ_ONLY.into(), 0)),
            strs: STRING_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (columns.has_str(i) && i != S::SourceFile as usize && !is_enrichment(i))
                        .then(|| StringChunkedBuilder::new((*n).into(), 0))
                })
                .collect(),
            sources: MutableBinaryViewArray::new(),
            run: None,
            len: 0,
            columns,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, row: &Row<'_>) {
        self.time.append_option(row.time);
        if let Some(b) = &mut self.read_only {
            b.append_option(row.read_only);
        }
        for (b, v) in self.strs.iter_mut().zip(row.strs.iter()) {
            if let Some(b) = b {
                b.append_option(v.as_deref());
            }
        }
        let source = row.get(S::SourceFile).unwrap_or("");
        match &mut self.run {
            Some((name, n)) if name == source => *n += 1,
            _ => {
                self.flush_run();
                self.run = Some((source.to_owned(), 1));
            }
        }
        self.len += 1;
    }

    fn flush_run(&mut self) {
        if let Some((name, n)) = self.run.take() {
            self.sources.extend_constant(n, Some(name.as_str()));
        }
    }

    /// The rows pushed so far, as a frame of the filled columns only, in
    /// frame order ([`widen`] adds the others).
    pub fn finish(mut self) -> PolarsResult<DataFrame> {
        self.flush_run();
        let mut columns: Vec<Column> = Vec::with_capacity(STRING_COLUMNS.len() + 2);
        columns.push(self.time.finish().into_series().cast(&time_dtype())?.into());
        let mut read_only = self.read_only;
        let mut sources = Some(self.sources);
        for (i, (name, b)) in STRING_COLUMNS.iter().zip(self.strs).enumerate() {
            if let Some(b) = b {
                columns.push(b.finish().into_series().into());
            } else if is_enrichment(i) && self.columns.has_str(i) {
                columns.push(Column::full_null(
                    (*name).into(),
                    self.len,
                    &DataType::String,
                ));
            } else if *name == col::SOURCE_FILE {
                let names = sources.take().expect("one source_file column").freeze();
                columns.push(StringChunked::with_chunk((*name).into(), names).into_column());
            }
            if *name == col::ERROR_MESSAGE
                && let Some(ro) = read_only.take()
            {
                columns.push(ro.finish().into_series().into());
            }
        }
        DataFrame::new(self.len, columns)
    }
}
