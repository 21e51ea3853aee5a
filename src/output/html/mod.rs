//! `--format html`: one self-contained page for the weekly compliance
//! report. The window and sources, a verdict per report, the KPIs with
//! their charts ([`kpis`], [`charts`]), then every report's grouped findings
//! and flagged events in sortable tables.
//!
//! Self-contained: the only style and script are inline, allowed by their
//! hashes in the page's Content-Security-Policy, which allows nothing else
//! (no requests of any kind). Every string from the trail goes through
//! maud's escaping, after [`escape::terminal`] has made control characters
//! visible.

mod charts;
mod kpis;

use std::io::{self, Write};

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::{RunOutput, cell_display, escape};
use crate::reports::{ReportRun, Severity};

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("sort.js");

/// `s` from the trail, with control and invisible characters shown
/// (maud escapes the HTML).
fn text(s: &str) -> String {
    escape::terminal(s).into_owned()
}

/// The CSP source for an inline element's exact text.
fn hash(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The policy: nothing but this page's own style and script, and no
/// requests (no fonts, images, frames, forms or connections).
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        hash(STYLE),
        hash(SCRIPT)
    )
}

/// Writes the page.
pub(super) fn write(out: &mut dyn Write, run: &RunOutput<'_>) -> io::Result<()> {
    let page = page(run)?;
    out.write_all(page.into_string().as_bytes())?;
    writeln!(out)
}

/// The `<head>`: the policy, the viewport, both colour schemes, the style.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta http-equiv="Content-Security-Policy" content=(content_security_policy());
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            meta name="generator" content={ "ctaudit " (env!("CARGO_PKG_VERSION")) };
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

fn page(run: &RunOutput<'_>) -> io::Result<Markup> {
    let window = run.window.describe();
    let kpis = match run.stats {
        Some(s) => kpis::sections(s, run.business_hours)?,
        None => html! {
            p.note { "The KPIs were not computed: run with the summary report (it is included by default in html; with --report, add --report summary)." }
        },
    };
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("CI access to AWS: compliance report, {window}")))
            body {
                header {
                    h1 { "CI access to AWS: compliance report" }
                    p.window { "Window: " b { (window) } }
                    p { "Policy: " (text(run.policy.unwrap_or("none (reports that need one were not run)"))) }
                    details {
                        summary { "Sources read" }
                        ul.sources {
                            @for line in run.input.describe() {
                                li { (text(line.trim_start())) }
                            }
                        }
                    }
                }
                section #verdicts {
                    h2 { "Verdict" }
                    (verdicts(run.runs))
                }
                (kpis)
                section #findings {
                    h2 { "Findings, report by report" }
                    p.note { "Click a column's heading to sort by it. Each report's flagged events, with their event ids, are under its table." }
                    @for r in run.runs {
                        (report_section(r))
                    }
                }
                (accepted(run))
                footer {
                    "Made by ctaudit " (env!("CARGO_PKG_VERSION")) " from CloudTrail records. "
                    "Every value from the trail is shown as text."
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    })
}

/// green: nothing found; amber: findings below high; red: high or
/// critical; grey: not run.
fn verdict_class(r: &ReportRun, worst: Option<Severity>) -> &'static str {
    match &r.result {
        Err(_) => "grey",
        Ok(f) if f.count() == 0 => "green",
        Ok(_) if worst.is_some_and(|w| w <= Severity::High) => "red",
        Ok(_) => "amber",
    }
}

fn verdicts(runs: &[ReportRun]) -> Markup {
    html! {
        ul.verdicts {
            @for r in runs {
                @let worst = r.worst();
                @let class = verdict_class(r, worst);
                li class=(class) data-report=(r.report.id()) data-verdict=(class) {
                    b { (r.report.id()) } ": " (r.report.title()) ". "
                    @match &r.result {
                        Err(reason) => { "Not run: " (text(reason)) }
                        Ok(f) if f.count() == 0 => { "No findings." }
                        Ok(f) => {
                            (f.count()) " findings in " (f.groups.height()) " groups"
                            @if let Some(w) = worst { ", the worst " (w.as_str()) }
                            "."
                        }
                    }
                    @if let Ok(f) = &r.result {
                        @if f.accepted.height() > 0 { " " (f.accepted.height()) " accepted." }
                        @if let Some(note) = &f.note { " (" (text(note)) ")" }
                    }
                }
            }
        }
    }
}

fn is_number(v: &AnyValue<'_>) -> bool {
    v.is_integer() || v.is_float()
}

/// Any frame as a sortable table, every cell escaped.
pub(super) fn frame_table(df: &DataFrame, name: &str) -> Markup {
    html! {
        div.scroll {
            table.sortable data-table=(name) {
                thead { tr {
                    @for c in df.get_column_names() { th { (c.as_str()) } }
                } }
                tbody {
                    @for i in 0..df.height() {
                        tr {
                            @for c in df.columns() {
                                @let v = c.get(i).unwrap_or(AnyValue::Null);
                                @if is_number(&v) {
                                    td.num { (cell_display(&v, ", ", text)) }
                                } @else {
                                    td { (cell_display(&v, ", ", text)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn report_section(r: &ReportRun) -> Markup {
    let id = r.report.id();
    html! {
        section.report #{ "report-" (id) } data-report=(id) {
            h3 { (id) ": " (r.report.title()) }
            @match &r.result {
                Err(reason) => { p.note { "Not run: " (text(reason)) } }
                Ok(f) if f.count() == 0 => {
                    p { "No findings." @if let Some(n) = &f.note { " (" (text(n)) ")" } }
                }
                Ok(f) => {
                    p {
                        (f.count()) " findings in " (f.groups.height()) " groups."
                        @if let Some(n) = &f.note { " (" (text(n)) ")" }
                    }
                    (frame_table(&f.groups, &format!("{id}-groups")))
                    details.events {
                        summary { "The " (f.count()) " flagged events" }
                        (frame_table(&f.events, &format!("{id}-events")))
                    }
                }
            }
        }
    }
}

fn accepted(run: &RunOutput<'_>) -> Markup {
    let any = run
        .runs
        .iter()
        .any(|r| r.result.as_ref().is_ok_and(|f| f.accepted.height() > 0));
    if !any && run.acceptances.is_empty() {
        return html! {};
    }
    html! {
        section #accepted {
            h2 { "Accepted findings" }
            p.note { "Flagged events an [[accept]] entry in the policy covers, with its reason and end date. They do not count as findings until the entry expires." }
            @if !run.acceptances.is_empty() {
                div.scroll { table.sortable data-table="acceptances" {
                    thead { tr { th { "entry" } th { "report" } th { "matches" } th { "reason" } th { "until" } th { "standing" } th { "findings" } } }
                    tbody { @for a in run.acceptances {
                        tr {
                            td.num { (a.entry) } td { (a.report) } td { (text(&a.matches)) }
                            td { (text(&a.reason)) } td { (a.until) } td { (a.standing.as_str()) }
                            td.num { (a.findings) }
                        }
                    } }
                } }
            }
            @for r in run.runs {
                @if let Ok(f) = &r.result {
                    @if f.accepted.height() > 0 {
                        h3 { (r.report.id()) }
                        (frame_table(&f.accepted, &format!("{}-accepted", r.report.id())))
                    }
                }
            }
        }
    }
}

/// A query's result as a page of its own: one sortable table.
pub(super) fn frame_page(df: &DataFrame) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("ctaudit query"))
            body {
                p.note { (df.height()) " rows" }
                (frame_table(df, "rows"))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}
