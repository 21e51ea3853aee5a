//! What each reading thread's share of the inputs becomes (a [`Part`]:
//! rows in a builder, frames of files read on several threads, their
//! account), and how the parts become one events frame: stacked, then
//! sorted and deduplicated when the caller asks.

use std::sync::Mutex;

use polars::prelude::*;
use rayon::prelude::*;

use super::summary::{InputSummary, SkipRecord};
use super::{IngestOptions, Ingested, dedupe};
use crate::frame::{self, Columns, FrameBuilder};

/// What one thread's share of the inputs became: rows in its builder, the
/// frames of large files read on several threads, and their account.
pub(super) struct Part {
    pub(crate) builder: FrameBuilder,
    pub(crate) frames: Vec<DataFrame>,
    pub(crate) summary: InputSummary,
}

impl Part {
    pub(super) fn new(columns: Columns) -> Self {
        Part {
            builder: FrameBuilder::new(columns),
            frames: Vec::new(),
            summary: InputSummary::default(),
        }
    }
}

/// Reads each input on rayon's threads, each thread into a part of its
/// own ([`Parts`]), then stacks them into one frame.
pub(super) fn read_parallel<T: Send>(
    inputs: impl ParallelIterator<Item = T>,
    opts: &IngestOptions,
    read: impl Fn(T, &mut Part) + Sync + Send,
) -> PolarsResult<Ingested> {
    let parts = Parts::new(opts.columns);
    inputs.for_each(|input| parts.with(|part| read(input, part)));
    assemble(parts.into_parts(), opts)
}

/// The parts inputs are read into: one per thread, not one per task (as
/// `fold` would make), so that a task can be as small as one input at no
/// cost in parts to stack.
struct Parts {
    columns: Columns,
    per_thread: Vec<Mutex<Option<Part>>>,
    /// Parts of inputs a thread took while its own part was in use.
    nested: Mutex<Vec<Part>>,
}

impl Parts {
    fn new(columns: Columns) -> Self {
        Parts {
            columns,
            per_thread: (0..rayon::current_num_threads())
                .map(|_| Mutex::new(None))
                .collect(),
            nested: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on this thread's part. A thread that takes another input
    /// while it waits inside one (a large file is read on several threads)
    /// finds its part in use further up its own stack: that input gets a
    /// part of its own.
    fn with(&self, f: impl FnOnce(&mut Part)) {
        let own = rayon::current_thread_index()
            .and_then(|i| self.per_thread.get(i))
            .and_then(|slot| slot.try_lock().ok());
        match own {
            Some(mut slot) => f(slot.get_or_insert_with(|| Part::new(self.columns))),
            None => {
                let mut part = Part::new(self.columns);
                f(&mut part);
                self.nested
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(part);
            }
        }
    }

    fn into_parts(self) -> Vec<Part> {
        self.per_thread
            .into_iter()
            .filter_map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
            .chain(self.nested.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

/// Stacks the per-thread parts into one frame, sorted and without
/// duplicates when `opts.ordered`.
pub(super) fn assemble(parts: Vec<Part>, opts: &IngestOptions) -> PolarsResult<Ingested> {
    let mut summary = InputSummary::default();
    let mut frame = frame::empty_of(opts.columns);
    for part in parts {
        frame.vstack_mut_owned(part.builder.finish()?)?;
        for df in part.frames {
            frame.vstack_mut_owned(df)?;
        }
        summary.merge(part.summary);
    }
    // One chunk per column before sorting: for strings this joins the
    // lists of views and shares the bytes, and the sort can then move
    // views alone instead of copying every string.
    frame.rechunk_mut();
    finish(frame, summary, opts.ordered)
}

/// Sorts and deduplicates the filled columns (when `ordered`), then adds
/// the others as null columns.
pub(super) fn finish(
    frame: DataFrame,
    mut summary: InputSummary,
    ordered: bool,
) -> PolarsResult<Ingested> {
    let frame = if ordered {
        let (frame, duplicates) = dedupe::sort_and_dedupe(frame)?;
        summary.unkeep(SkipRecord::Duplicate, duplicates);
        frame
    } else {
        frame
    };
    summary.finish();
    Ok(Ingested {
        frame: frame::widen(frame)?,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input taken while this thread's part is in use further up its
    /// stack is read into a part of its own, and kept.
    #[test]
    fn a_nested_input_gets_a_part_of_its_own() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let parts = pool.install(|| {
            let parts = Parts::new(Columns::ALL);
            parts.with(|outer| {
                outer.summary.files_read += 1;
                parts.with(|inner| inner.summary.files_read += 10);
            });
            parts.with(|again| again.summary.files_read += 100);
            parts.into_parts()
        });
        let mut read: Vec<u64> = parts.iter().map(|p| p.summary.files_read).collect();
        read.sort();
        assert_eq!(read, [10, 101]);
    }
}
