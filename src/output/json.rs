//! `--format json`: the run as one JSON document, and any frame as an
//! array of row objects. Findings are rendered a chunk of rows at a time on
//! every core and written in order, never held as a tree.

use std::io::{self, Write};

use polars::prelude::*;
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{Map, json};

use super::{JsonCell, RunOutput};
use crate::reports::{Findings, ReportRun};
use crate::time::format_millis;

#[derive(serde::Serialize)]
struct JsonWindow {
    since: Option<String>,
    until: Option<String>,
}

/// One column's cells, read for JSON: strings straight from their array.
enum Cells<'a> {
    Str(&'a StringChunked),
    Any(&'a Column),
}

/// The columns of `df` with their names, ready to read cells from.
fn json_columns(df: &DataFrame) -> Vec<(&str, Cells<'_>)> {
    df.columns()
        .iter()
        .map(|c| {
            let cells = match c.str() {
                Ok(s) => Cells::Str(s),
                Err(_) => Cells::Any(c),
            };
            (c.name().as_str(), cells)
        })
        .collect()
}

/// One row of a DataFrame as a JSON object, optionally led by `report`.
struct JsonRow<'a> {
    columns: &'a [(&'a str, Cells<'a>)],
    row: usize,
    report: Option<&'a str>,
}

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = self.report {
            map.serialize_entry("report", id)?;
        }
        for (name, cells) in self.columns {
            match cells {
                Cells::Str(s) => map.serialize_entry(name, &s.get(self.row))?,
                Cells::Any(c) => {
                    map.serialize_entry(name, &JsonCell(c.get(self.row).unwrap_or(AnyValue::Null)))?
                }
            }
        }
        map.end()
    }
}

/// The rows of a DataFrame as a JSON array of objects, pretty-printed
/// (query results).
pub(super) fn write_frame(out: &mut dyn Write, df: &DataFrame) -> io::Result<()> {
    write_rows(out, &[(None, df)], 0)?;
    out.write_all(b"\n")
}

pub(super) fn write_run(out: &mut dyn Write, run: &RunOutput<'_>) -> io::Result<()> {
    let mut summary = Map::new();
    let mut not_run = Map::new();
    let mut notes = Map::new();
    for r in run.runs {
        match &r.result {
            Ok(f) => {
                summary.insert(r.report.id().to_string(), json!(f.count()));
                if let Some(note) = &f.note {
                    notes.insert(r.report.id().to_string(), json!(note));
                }
            }
            Err(reason) => {
                not_run.insert(r.report.id().to_string(), json!(reason));
            }
        }
    }
    // serde_json writes in small pieces: buffered here, they are not each a
    // call through `dyn Write`.
    let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut *out);
    let mut doc = Document::start(&mut buffered)?;
    doc.field("ctaudit_version", &env!("CARGO_PKG_VERSION"))?;
    doc.field(
        "window",
        &JsonWindow {
            since: run.window.since.map(format_millis),
            until: run.window.until.map(format_millis),
        },
    )?;
    doc.field("policy", &run.policy)?;
    doc.field("input", run.input)?;
    doc.field("summary", &summary)?;
    doc.field("not_run", &not_run)?;
    if !notes.is_empty() {
        doc.field("notes", &notes)?;
    }
    // The KPIs' numbers (`--report summary`).
    if let Some(stats) = run.stats {
        doc.field("summary_stats", stats)?;
    }
    doc.findings("findings", run.runs, |f| &f.events)?;
    // Flagged events an `[[accept]]` entry covers, with its reason.
    doc.findings("accepted", run.runs, |f| &f.accepted)?;
    // Where each `[[accept]]` entry stands.
    doc.field("acceptances", &run.acceptances)?;
    doc.end()?;
    buffered.flush()
}

/// The run's JSON document, written member by member as serde_json's
/// pretty printer would write it whole. Findings, the bulk of a large run,
/// are rendered a chunk of rows at a time on every core and written in
/// order; no tree of them is ever held.
struct Document<'w> {
    out: &'w mut dyn Write,
    first: bool,
}

/// Rows rendered by one task.
const ROWS_PER_TASK: usize = 1024;
/// Rows rendered before they are written: bounds the memory held
/// (about 7 MB of JSON) while keeping every core busy.
const ROWS_PER_ROUND: usize = 8 * ROWS_PER_TASK;

impl<'w> Document<'w> {
    fn start(out: &'w mut dyn Write) -> io::Result<Document<'w>> {
        out.write_all(b"{")?;
        Ok(Document { out, first: true })
    }

    /// `"name": ` on a line of its own, after a comma unless first.
    fn key(&mut self, name: &str) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n  " } else { b",\n  " })?;
        self.first = false;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b": ")
    }

    fn field<T: serde::Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.key(name)?;
        let mut ser = serde_json::Serializer::with_formatter(&mut *self.out, pretty_at(1));
        value.serialize(&mut ser)?;
        Ok(())
    }

    /// Every report's flagged events (or accepted ones: `frame` picks
    /// which), in registry order, each row an object led by `report`.
    fn findings(
        &mut self,
        name: &str,
        runs: &[ReportRun],
        frame: fn(&Findings) -> &DataFrame,
    ) -> io::Result<()> {
        self.key(name)?;
        let tables: Vec<(Option<&str>, &DataFrame)> = runs
            .iter()
            .filter_map(|r| Some((Some(r.report.id()), frame(r.result.as_ref().ok()?))))
            .collect();
        write_rows(&mut *self.out, &tables, 1)
    }

    fn end(self) -> io::Result<()> {
        self.out.write_all(b"\n}\n")
    }
}

/// The rows of `tables`, in order, as a JSON array `depth` containers
/// deep, each row an object (led by `report` where one is named), written
/// as serde_json's pretty printer writes them. Rendered a chunk of rows at
/// a time on every core; only one round of rendered rows is held.
fn write_rows(
    out: &mut dyn Write,
    tables: &[(Option<&str>, &DataFrame)],
    depth: usize,
) -> io::Result<()> {
    use rayon::prelude::*;
    let columns: Vec<_> = tables.iter().map(|(_, df)| json_columns(df)).collect();
    let rows: Vec<(usize, usize)> = tables
        .iter()
        .enumerate()
        .flat_map(|(t, (_, df))| (0..df.height()).map(move |row| (t, row)))
        .collect();
    if rows.is_empty() {
        return out.write_all(b"[]");
    }
    // Each row on a line of its own, one level in, after a comma.
    let before_row = format!(",\n{}", "  ".repeat(depth + 1));
    out.write_all(b"[")?;
    let mut first_row = true;
    for round in rows.chunks(ROWS_PER_ROUND) {
        let rendered = round
            .par_chunks(ROWS_PER_TASK)
            .map(|task| {
                let mut buf = Vec::with_capacity(task.len() * 512);
                for &(t, row) in task {
                    buf.extend_from_slice(before_row.as_bytes());
                    let mut ser =
                        serde_json::Serializer::with_formatter(&mut buf, pretty_at(depth + 1));
                    JsonRow {
                        columns: &columns[t],
                        row,
                        report: tables[t].0,
                    }
                    .serialize(&mut ser)?;
                }
                Ok(buf)
            })
            .collect::<io::Result<Vec<Vec<u8>>>>()?;
        for buf in rendered {
            // Every row is written after a comma but the first.
            let skip = usize::from(std::mem::take(&mut first_row));
            out.write_all(&buf[skip..])?;
        }
    }
    write!(out, "\n{}]", "  ".repeat(depth))
}

/// serde_json's pretty printer as it stands `depth` containers deep, so
/// that a value rendered on its own indents as it would in place.
fn pretty_at(depth: usize) -> PrettyFormatter<'static> {
    let mut f = PrettyFormatter::new();
    for _ in 0..depth {
        f.begin_object(&mut io::sink())
            .expect("writing to a sink cannot fail");
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::by_id;
    use serde_json::Value;

    fn findings(report: &str, rows: usize) -> ReportRun {
        let events = df!(
            "severity" => (0..rows).map(|i| format!("s{i}")).collect::<Vec<_>>(),
            "text" => (0..rows).map(|i| (i % 3 == 0).then(|| format!("q\"\\\n\u{1}é{i}"))).collect::<Vec<_>>(),
            "n" => (0..rows as i64).collect::<Vec<_>>(),
        )
        .unwrap();
        ReportRun {
            report: by_id(report).unwrap(),
            result: Ok(Findings {
                accepted: events.head(Some(0)),
                groups: DataFrame::empty(),
                events,
                expired_hits: Vec::new(),
                note: None,
            }),
        }
    }

    /// `df`'s rows as serde_json values, one at a time: what the writers
    /// are held to.
    fn row_values(df: &DataFrame, report: Option<&str>) -> Vec<Value> {
        let columns = json_columns(df);
        (0..df.height())
            .map(|row| {
                serde_json::to_value(JsonRow {
                    columns: &columns,
                    row,
                    report,
                })
                .unwrap()
            })
            .collect()
    }

    /// The document written member by member, its findings rendered in
    /// chunks on every core, is what serde_json's pretty printer writes for
    /// the same document whole: across task and round edges, for a report with no
    /// rows, a report that did not run, and an empty list.
    #[test]
    fn the_document_is_the_pretty_printers() {
        let n = ROWS_PER_ROUND + ROWS_PER_TASK + 3;
        let runs = vec![
            findings("failures", n),
            findings("off-hours", 0),
            ReportRun {
                report: by_id("iam-user-keys").unwrap(),
                result: Err("no policy".into()),
            },
            findings("unexpected-subjects", 5),
        ];
        let mut written = Vec::new();
        let mut doc = Document::start(&mut written).unwrap();
        doc.field("a", &json!({"b": [1, {}], "c": {}})).unwrap();
        doc.findings("findings", &runs, |f| &f.events).unwrap();
        doc.findings("accepted", &runs, |f| &f.accepted).unwrap();
        doc.field("z", &Value::Null).unwrap();
        doc.end().unwrap();

        let rows: Vec<Value> = runs
            .iter()
            .filter_map(|r| Some((r.report.id(), r.result.as_ref().ok()?)))
            .flat_map(|(id, f)| row_values(&f.events, Some(id)))
            .collect();
        assert_eq!(rows.len(), n + 5);
        let whole = json!({
            "a": {"b": [1, {}], "c": {}},
            "findings": rows,
            "accepted": [],
            "z": null,
        });
        let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
        assert_eq!(String::from_utf8(written).unwrap(), expected);
    }

    /// Any frame (a query's result) is written as the pretty printer writes
    /// its rows as one array: across task and round edges, and empty.
    #[test]
    fn a_frame_is_the_pretty_printers() {
        let Ok(f) = findings("failures", ROWS_PER_ROUND + 7).result else {
            unreachable!()
        };
        for df in [&f.events, &f.accepted] {
            let mut written = Vec::new();
            write_frame(&mut written, df).unwrap();
            let expected = serde_json::to_string_pretty(&row_values(df, None)).unwrap() + "\n";
            assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }
}
