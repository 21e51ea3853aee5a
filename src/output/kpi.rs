//! The `summary` section of table and Markdown output: the KPIs' numbers
//! ([`crate::kpi::Stats`]) as tables.

use std::io::{self, Write};

use polars::prelude::*;

use super::table;
use crate::kpi::{Stats, Summary};

fn frame(columns: Vec<Column>) -> io::Result<DataFrame> {
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns).map_err(io::Error::other)
}

fn strings<'a>(name: &str, v: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), v.collect::<Vec<_>>())
}

fn counts(name: &str, v: impl Iterator<Item = u64>) -> Column {
    Column::new(name.into(), v.collect::<Vec<_>>())
}

fn percent(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// A section's heading.
fn heading(out: &mut dyn Write, title: &str, markdown: bool) -> io::Result<()> {
    if markdown {
        writeln!(out, "\n### {title}\n")
    } else {
        writeln!(out, "\n{title}")
    }
}

pub(super) fn write_text(out: &mut dyn Write, sum: &Summary, markdown: bool) -> io::Result<()> {
    let s = &sum.stats;
    if markdown {
        writeln!(out, "\n## summary: the numbers behind the KPIs\n")?;
    } else {
        writeln!(out, "\nsummary: the numbers behind the KPIs")?;
    }
    writeln!(
        out,
        "{} role assumptions, {} failed ({}); {} long-lived keys in use",
        s.assumptions,
        s.failed,
        percent(s.failed as f64 / s.assumptions.max(1) as f64),
        s.long_lived_keys.len()
    )?;
    if markdown && s.assumptions > 0 {
        mermaid(out, s)?;
    }
    over_time(out, sum, markdown)?;
    if !s.per_day.is_empty() {
        heading(out, "Assumptions per day, by outcome", markdown)?;
        let df = frame(vec![
            strings("day", s.per_day.iter().map(|d| d.day.as_str())),
            strings("outcome", s.per_day.iter().map(|d| d.outcome.as_str())),
            counts("count", s.per_day.iter().map(|d| d.count)),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    for (title, rates) in [
        ("Success rate per repository", &s.by_repository),
        ("Success rate per workflow", &s.by_workflow),
    ] {
        if rates.is_empty() {
            continue;
        }
        heading(out, title, markdown)?;
        let rate_text: Vec<String> = rates.iter().map(|r| percent(r.success_rate)).collect();
        let df = frame(vec![
            strings("name", rates.iter().map(|r| r.name.as_str())),
            counts("success", rates.iter().map(|r| r.success)),
            counts("failed", rates.iter().map(|r| r.failed)),
            strings("success_rate", rate_text.iter().map(String::as_str)),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    if s.assumptions > 0 {
        heading(
            out,
            &format!(
                "Peak usage: assumptions by weekday and hour ({})",
                s.peak_hours.timezone
            ),
            markdown,
        )?;
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut columns = vec![strings("day", days.iter().copied())];
        for h in 0..24 {
            let cells: Vec<String> = s
                .peak_hours
                .counts
                .iter()
                .map(|d| {
                    if d[h] == 0 {
                        String::new()
                    } else {
                        d[h].to_string()
                    }
                })
                .collect();
            columns.push(strings(
                &format!("{h:02}"),
                cells.iter().map(String::as_str),
            ));
        }
        writeln!(out, "{}", table(&frame(columns)?, markdown))?;
    }
    if !s.inventory.is_empty() {
        heading(
            out,
            "Inventory: which repositories assumed which roles",
            markdown,
        )?;
        let allowed: Vec<&str> = s
            .inventory
            .iter()
            .map(|i| match i.allowed {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            })
            .collect();
        let df = frame(vec![
            strings("role_arn", s.inventory.iter().map(|i| i.role_arn.as_str())),
            strings(
                "repository",
                s.inventory.iter().map(|i| i.repository.as_str()),
            ),
            strings("kind", s.inventory.iter().map(|i| i.kind.as_str())),
            strings("context", s.inventory.iter().map(|i| i.context.as_str())),
            counts("count", s.inventory.iter().map(|i| i.count)),
            strings(
                "last_seen",
                s.inventory.iter().map(|i| i.last_seen.as_str()),
            ),
            strings("policy_allows", allowed.into_iter()),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    if !s.long_lived_keys.is_empty() {
        heading(out, "Long-lived keys in use", markdown)?;
        let k = &s.long_lived_keys;
        let df = frame(vec![
            strings("identity", k.iter().map(|k| k.identity.as_str())),
            strings("access_key_id", k.iter().map(|k| k.access_key_id.as_str())),
            counts("calls", k.iter().map(|k| k.calls)),
            strings("last_used", k.iter().map(|k| k.last_used.as_str())),
            strings("ci", k.iter().map(|k| k.ci.unwrap_or(""))),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    if !s.origins.is_empty() {
        heading(out, "Where callers came from", markdown)?;
        let o = &s.origins;
        let df = frame(vec![
            strings("network", o.iter().map(|o| o.network.as_str())),
            strings("asn", o.iter().map(|o| o.asn.as_deref().unwrap_or(""))),
            strings(
                "as_org",
                o.iter().map(|o| o.as_org.as_deref().unwrap_or("")),
            ),
            strings(
                "country",
                o.iter().map(|o| o.country.as_deref().unwrap_or("")),
            ),
            counts("calls", o.iter().map(|o| o.calls)),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    Ok(())
}

/// The headline beside the previous period's, and the keys per week.
fn over_time(out: &mut dyn Write, sum: &Summary, markdown: bool) -> io::Result<()> {
    let now = sum.headline.figures();
    match &sum.previous {
        Some(p) => {
            heading(
                out,
                &format!(
                    "Compared with the previous period ({} to {})",
                    &p.since[..10],
                    &p.until[..10]
                ),
                markdown,
            )?;
            let before = p.headline.figures();
            let shown: Vec<(String, String, String)> = now
                .iter()
                .zip(&before)
                .map(|(n, b)| (n.show(), b.show(), n.change_from(b)))
                .collect();
            let df = frame(vec![
                strings("figure", now.iter().map(|f| f.name)),
                strings("this period", shown.iter().map(|s| s.0.as_str())),
                strings("previous", shown.iter().map(|s| s.1.as_str())),
                strings("change", shown.iter().map(|s| s.2.as_str())),
            ])?;
            writeln!(out, "{}", table(&df, markdown))?;
        }
        None => {
            heading(out, "Headline figures", markdown)?;
            let shown: Vec<String> = now.iter().map(|f| f.show()).collect();
            let df = frame(vec![
                strings("figure", now.iter().map(|f| f.name)),
                strings("this period", shown.iter().map(String::as_str)),
            ])?;
            writeln!(out, "{}", table(&df, markdown))?;
        }
    }
    if let Some(note) = &sum.previous_note {
        writeln!(out, "{}", super::escape::terminal(note))?;
    }
    if !sum.key_trend.is_empty() {
        heading(out, "Long-lived keys in use per week", markdown)?;
        writeln!(out, "from {}\n", sum.key_trend_source)?;
        let t = &sum.key_trend;
        let partial: Vec<&str> = t
            .iter()
            .map(|w| if w.partial { "yes" } else { "" })
            .collect();
        let df = frame(vec![
            strings("week from", t.iter().map(|w| w.week_start.as_str())),
            counts("keys", t.iter().map(|w| w.keys)),
            counts("identities", t.iter().map(|w| w.identities)),
            counts("calls", t.iter().map(|w| w.calls)),
            strings("partial week", partial.into_iter()),
        ])?;
        writeln!(out, "{}", table(&df, markdown))?;
    }
    Ok(())
}

/// A label inside a Mermaid string: the trail's text (error codes, days)
/// reduced to characters that cannot end the string or start a directive.
fn label(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .take(60)
        .collect()
}

/// Mermaid charts, which GitHub renders in job summaries and issues:
/// assumptions per day (successes as bars, failures as a line) and the
/// outcomes as a pie.
fn mermaid(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    let mut days: Vec<&str> = s.per_day.iter().map(|d| d.day.as_str()).collect();
    days.dedup();
    let on = |day: &str, success: bool| -> u64 {
        s.per_day
            .iter()
            .filter(|d| d.day == day && (d.outcome == "success") == success)
            .map(|d| d.count)
            .sum()
    };
    let list = |v: Vec<String>| v.join(", ");
    let max = days
        .iter()
        .map(|d| on(d, true).max(on(d, false)))
        .max()
        .unwrap_or(0);
    writeln!(out, "\n```mermaid\nxychart-beta")?;
    writeln!(
        out,
        "    title \"Role assumptions per day (bars: succeeded, line: failed)\""
    )?;
    writeln!(
        out,
        "    x-axis [{}]",
        list(
            days.iter()
                .map(|d| format!("\"{}\"", label(&d[5..])))
                .collect()
        )
    )?;
    writeln!(out, "    y-axis \"assumptions\" 0 --> {}", max.max(1))?;
    writeln!(
        out,
        "    bar [{}]",
        list(days.iter().map(|d| on(d, true).to_string()).collect())
    )?;
    writeln!(
        out,
        "    line [{}]",
        list(days.iter().map(|d| on(d, false).to_string()).collect())
    )?;
    writeln!(out, "```")?;
    let mut outcomes: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for d in &s.per_day {
        *outcomes.entry(d.outcome.as_str()).or_default() += d.count;
    }
    writeln!(
        out,
        "\n```mermaid\npie title Outcomes of {} role assumptions",
        s.assumptions
    )?;
    for (outcome, n) in outcomes {
        writeln!(out, "    \"{}\" : {n}", label(outcome))?;
    }
    writeln!(out, "```")
}
