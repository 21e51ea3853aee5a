//! The "accepted findings" section of table and Markdown output: every
//! `[[accept]]` entry of a report that ran, where it stands (active,
//! expiring, expired, unused), and what it covered, so that an acceptance
//! never hides a finding without a trace.

use std::io::{self, Write};

use polars::prelude::*;

use super::{RunOutput, table};
use crate::reports::accept::Standing;

pub(super) fn write_text(
    out: &mut dyn Write,
    run: &RunOutput<'_>,
    markdown: bool,
) -> io::Result<()> {
    if run.acceptances.is_empty() {
        return Ok(());
    }
    let covered: usize = run
        .runs
        .iter()
        .filter_map(|r| r.result.as_ref().ok())
        .map(|f| f.accepted.height())
        .sum();
    let expired = run
        .acceptances
        .iter()
        .filter(|a| a.standing == Standing::Expired)
        .count();
    let mut status = format!(
        "{covered} findings accepted by {} entries of the policy",
        run.acceptances.len()
    );
    if expired > 0 {
        status.push_str(&format!(
            "; {expired} expired (what they covered is reported above again)"
        ));
    }
    if markdown {
        writeln!(out, "\n## accepted findings\n\n{status}\n")?;
    } else {
        writeln!(out, "\naccepted findings: {status}")?;
    }
    let column = |name: &str, values: Vec<String>| Column::new(name.into(), values);
    let a = run.acceptances;
    let df = DataFrame::new(
        a.len(),
        vec![
            Column::new(
                "entry".into(),
                a.iter().map(|r| r.entry as u32).collect::<Vec<_>>(),
            ),
            column(
                "standing",
                a.iter().map(|r| r.standing.as_str().to_string()).collect(),
            ),
            column("report", a.iter().map(|r| r.report.clone()).collect()),
            column("matches", a.iter().map(|r| r.matches.clone()).collect()),
            Column::new(
                "findings".into(),
                a.iter().map(|r| r.findings as u32).collect::<Vec<_>>(),
            ),
            column("until", a.iter().map(|r| r.until.to_string()).collect()),
            column("reason", a.iter().map(|r| r.reason.clone()).collect()),
        ],
    )
    .map_err(io::Error::other)?;
    writeln!(out, "{}", table(&df, markdown))
}
