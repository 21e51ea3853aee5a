//! Findings → table, Markdown, JSON or CSV.
//!
//! One [`Format`] enum, matched in one place ([`write_run`]). Writers are
//! passed in; nothing here prints on its own. Rows arrive sorted from the
//! reports, so output is stable for snapshots and diffs. This module knows
//! how to show a DataFrame, not what its rows mean.

mod accepted;
mod cells;
pub mod escape;
mod html;
mod json;
mod kpi;

use std::io::{self, Write};

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};
use polars::prelude::*;

use crate::ingest::summary::InputSummary;
use crate::reports::ReportRun;
use crate::time::Window;
pub use cells::{JsonCell, cell_display, cell_text};

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned tables for a terminal, grouped.
    #[default]
    Table,
    /// One object: `findings` (one per flagged event), `summary`, `input`.
    Json,
    /// One row per finding.
    Csv,
    /// Grouped tables to paste into a ticket or wiki.
    Markdown,
    /// One self-contained page (the weekly report): KPIs, charts, findings.
    Html,
}

/// Everything a report run produced, for writing.
pub struct RunOutput<'a> {
    pub window: Window,
    /// CSV cells as they are, formulas included (`--csv-raw`).
    pub csv_raw: bool,
    pub policy: Option<&'a str>,
    pub input: &'a InputSummary,
    pub runs: &'a [ReportRun],
    /// Where each `[[accept]]` entry stands.
    pub acceptances: &'a [crate::reports::accept::Review],
    /// The KPIs' numbers (`--report summary`), when asked for.
    pub stats: Option<&'a crate::kpi::Summary>,
    /// The policy's business hours, outlined on the HTML heat map.
    pub business_hours: Option<&'a crate::policy::BusinessHours>,
}

/// Writes a report run in `format`.
pub fn write_run(out: &mut dyn Write, format: Format, run: &RunOutput<'_>) -> io::Result<()> {
    match format {
        Format::Table => write_text(out, run, false),
        Format::Markdown => write_text(out, run, true),
        Format::Json => json::write_run(out, run),
        Format::Csv => write_csv(out, run),
        Format::Html => html::write(out, run),
    }
}

/// Writes any DataFrame in `format` (query results); `csv_raw` writes CSV
/// cells as they are, formulas included.
pub fn write_frame(
    out: &mut dyn Write,
    format: Format,
    df: &DataFrame,
    csv_raw: bool,
) -> io::Result<()> {
    match format {
        Format::Table => writeln!(out, "{}", table(df, false)),
        Format::Markdown => writeln!(out, "{}", table(df, true)),
        Format::Html => writeln!(out, "{}", html::frame_page(df)),
        Format::Json => json::write_frame(out, df),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
            w.write_record(&names).map_err(csv_err)?;
            for i in 0..df.height() {
                w.write_record(
                    df.columns()
                        .iter()
                        .map(|c| csv_cell(&c.get(i).unwrap_or(AnyValue::Null), csv_raw)),
                )
                .map_err(csv_err)?;
            }
            w.flush()
        }
    }
}

/// A cell for CSV: text from the trail escaped ([`escape::csv`]); numbers,
/// booleans and times as they are (a negative count is not a formula).
fn csv_cell(v: &AnyValue<'_>, raw: bool) -> String {
    let text = cell_text(v);
    match v {
        AnyValue::String(_) | AnyValue::StringOwned(_) | AnyValue::List(_) => {
            escape::csv(&text, raw).into_owned()
        }
        _ => text,
    }
}

fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A DataFrame as a comfy-table (or its Markdown rendering).
fn table(df: &DataFrame, markdown: bool) -> Table {
    let mut t = Table::new();
    if markdown {
        t.load_preset(presets::ASCII_MARKDOWN);
    } else {
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        t.set_content_arrangement(ContentArrangement::Dynamic);
        // A pseudo-terminal without a size (`script`, some CI runners)
        // reports 0 columns: wrapping to that would put one letter per line.
        if t.width().is_some_and(|w| w < 40) {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t.set_header(df.get_column_names().iter().map(|n| n.as_str()));
    for i in 0..df.height() {
        t.add_row(df.columns().iter().map(|c| {
            let v = c.get(i).unwrap_or(AnyValue::Null);
            if markdown {
                cell_display(&v, ", ", escape::markdown)
            } else {
                cell_display(&v, "\n", |s| escape::terminal(s).into_owned())
            }
        }));
    }
    t
}

/// The input summary, findings per report and not-run reasons, as lines.
fn header_lines(run: &RunOutput<'_>) -> Vec<String> {
    let mut lines = vec![format!("window: {}", run.window.describe())];
    lines.push(format!(
        "policy: {}",
        run.policy
            .unwrap_or("none (reports that need one are not run)")
    ));
    lines.extend(run.input.describe());
    let per_report: Vec<String> = run
        .runs
        .iter()
        .map(|r| match &r.result {
            Ok(f) if f.accepted.height() > 0 => format!(
                "{} {} (+{} accepted)",
                r.report.id(),
                f.count(),
                f.accepted.height()
            ),
            Ok(f) => format!("{} {}", r.report.id(), f.count()),
            Err(_) => format!("{} not run", r.report.id()),
        })
        .collect();
    if !per_report.is_empty() {
        lines.push(format!("findings: {}", per_report.join(", ")));
    }
    lines
}

fn write_text(out: &mut dyn Write, run: &RunOutput<'_>, markdown: bool) -> io::Result<()> {
    if markdown {
        writeln!(out, "# ctaudit report\n")?;
        for line in header_lines(run) {
            match line.strip_prefix("  ") {
                Some(sub) => writeln!(out, "  - {}", escape::markdown(sub))?,
                None => writeln!(out, "- {}", escape::markdown(&line))?,
            }
        }
    } else {
        writeln!(out, "ctaudit report")?;
        for line in header_lines(run) {
            writeln!(out, "  {}", escape::terminal(&line))?;
        }
    }
    if let Some(stats) = run.stats {
        kpi::write_text(out, stats, markdown)?;
    }
    for r in run.runs {
        let (id, title) = (r.report.id(), r.report.title());
        let mut status = match &r.result {
            Err(reason) => format!("not run: {reason}"),
            Ok(f) if f.count() == 0 => "no findings".to_string(),
            Ok(f) => format!("{} findings in {} groups", f.count(), f.groups.height()),
        };
        if let Ok(f) = &r.result {
            if f.accepted.height() > 0 {
                status.push_str(&format!(
                    "; {} accepted (listed under accepted findings)",
                    f.accepted.height()
                ));
            }
            if let Some(note) = &f.note {
                status.push_str(&format!(" ({note})"));
            }
        }
        if markdown {
            writeln!(out, "\n## {id}: {title}\n\n{status}")?;
        } else {
            writeln!(out, "\n{id}: {title}: {status}")?;
        }
        if let Ok(f) = &r.result
            && f.count() > 0
        {
            if markdown {
                writeln!(out)?;
            }
            writeln!(out, "{}", table(&f.groups, markdown))?;
        }
    }
    accepted::write_text(out, run, markdown)
}

fn write_csv(out: &mut dyn Write, run: &RunOutput<'_>) -> io::Result<()> {
    // Columns: report, then the union of every report's columns in order.
    let mut columns: Vec<String> = vec!["report".into()];
    for r in run.runs {
        if let Ok(f) = &r.result {
            for name in f.events.get_column_names() {
                if !columns.iter().any(|c| c == name.as_str()) {
                    columns.push(name.to_string());
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&columns).map_err(csv_err)?;
    for r in run.runs {
        let Ok(f) = &r.result else { continue };
        let df = &f.events;
        for i in 0..df.height() {
            let record = columns.iter().map(|name| {
                if name == "report" {
                    r.report.id().to_string()
                } else {
                    df.column(name)
                        .ok()
                        .map(|c| csv_cell(&c.get(i).unwrap_or(AnyValue::Null), run.csv_raw))
                        .unwrap_or_default()
                }
            });
            w.write_record(record).map_err(csv_err)?;
        }
    }
    w.flush()
}
