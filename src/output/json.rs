//! `--format json`: the run as one JSON document, and any frame as an
//! array of row objects. Findings are written row by row as they are
//! serialized, never held as a tree.

use std::io::{self, Write};

use polars::prelude::*;
use serde_json::{Map, Value, json};

use super::{JsonCell, RunOutput};
use crate::ingest::summary::InputSummary;
use crate::reports::{Findings, ReportRun};
use crate::time::format_millis;

/// The JSON document of a run. Findings are serialized row by row as they
/// are written, never held as one JSON tree (that tree was most of the
/// memory of a large run).
#[derive(serde::Serialize)]
struct JsonDoc<'a> {
    ctaudit_version: &'static str,
    window: JsonWindow,
    policy: Option<&'a str>,
    input: &'a InputSummary,
    summary: Map<String, Value>,
    not_run: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    notes: Map<String, Value>,
    /// The KPIs' numbers (`--report summary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_stats: Option<&'a crate::kpi::Summary>,
    findings: AllFindings<'a>,
    /// Flagged events an `[[accept]]` entry covers, with its reason.
    accepted: AllFindings<'a>,
    /// Where each `[[accept]]` entry stands.
    acceptances: &'a [crate::reports::accept::Review],
}

#[derive(serde::Serialize)]
struct JsonWindow {
    since: Option<String>,
    until: Option<String>,
}

/// Every report's flagged events (or accepted ones: the second field picks
/// which frame), in registry order, each with `report` first.
struct AllFindings<'a>(&'a [ReportRun], fn(&Findings) -> &DataFrame);

impl serde::Serialize for AllFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for r in self.0 {
            if let Ok(f) = &r.result {
                let events = (self.1)(f);
                let columns = json_columns(events);
                for row in 0..events.height() {
                    seq.serialize_element(&JsonRow {
                        columns: &columns,
                        row,
                        report: Some(r.report.id()),
                    })?;
                }
            }
        }
        seq.end()
    }
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

/// The rows of a DataFrame as a JSON array, streamed.
pub(super) struct JsonRows<'a>(pub &'a DataFrame);

impl serde::Serialize for JsonRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let columns = json_columns(self.0);
        serializer.collect_seq((0..self.0.height()).map(|row| JsonRow {
            columns: &columns,
            row,
            report: None,
        }))
    }
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
    let doc = JsonDoc {
        ctaudit_version: env!("CARGO_PKG_VERSION"),
        window: JsonWindow {
            since: run.window.since.map(format_millis),
            until: run.window.until.map(format_millis),
        },
        policy: run.policy,
        input: run.input,
        summary,
        not_run,
        notes,
        summary_stats: run.stats,
        findings: AllFindings(run.runs, |f| &f.events),
        accepted: AllFindings(run.runs, |f| &f.accepted),
        acceptances: run.acceptances,
    };
    // serde_json writes in small pieces: buffered here, they are not each a
    // call through `dyn Write`.
    let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut *out);
    serde_json::to_writer_pretty(&mut buffered, &doc)?;
    writeln!(buffered)?;
    buffered.flush()
}
