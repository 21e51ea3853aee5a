//! `--athena`: the reports' rows, selected on Athena from the CloudTrail
//! table, put back into records and read like any other source.

use super::{HandOver, Wanted};
use crate::athena::rows::RowShape;
use crate::athena::{AthenaArgs, sql};
use crate::aws::AwsArgs;
use crate::ingest::Collector;
use crate::ingest::summary::InputSummary;

/// The SQL the reports' rows are asked with.
pub fn report_sql(athena: &AthenaArgs, wanted: &Wanted<'_>) -> anyhow::Result<String> {
    anyhow::ensure!(
        !wanted.opts.filter.all,
        "--athena reads what the reports need; `query`, `trace` and `ingest` do not read from Athena yet"
    );
    anyhow::ensure!(
        wanted.opts.window.since.is_some(),
        "--athena needs --since: without it the query would read every day the table projects"
    );
    Ok(sql::report_query(
        &athena.database,
        &athena.table,
        &wanted.opts.window,
        &wanted.opts.filter,
    ))
}

pub(super) fn read_athena(
    athena: &AthenaArgs,
    aws: &AwsArgs,
    wanted: &Wanted<'_>,
    batch_bytes: u64,
    summary: &mut InputSummary,
    hand_over: &mut HandOver<'_>,
) -> anyhow::Result<()> {
    let query = report_sql(athena, wanted)?;
    let (rt, sdk) = aws.connect()?;
    let source = format!("athena:{}.{}", athena.database, athena.table);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<String>, crate::aws::athena::Rows)>(2);
    let target = athena.target();
    let run = rt.spawn(async move {
        let mut send = |names: &[String], rows| {
            tx.send((names.to_vec(), rows))
                .map_err(|_| anyhow::anyhow!("the reader stopped"))
        };
        crate::aws::athena::run(&sdk, &target, &query, &mut send).await
    });
    let mut collector = Collector::new(wanted.opts);
    let mut shape: Option<RowShape> = None;
    let mut failure = None;
    for (names, rows) in rx {
        if shape.is_none() {
            match RowShape::new(&names) {
                Ok(s) => shape = Some(s),
                Err(e) => {
                    failure = Some(anyhow::anyhow!("the Athena result does not fit: {e}"));
                    break;
                }
            }
        }
        let shape = shape.as_ref().expect("set above");
        for row in rows {
            let cells: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
            collector.push(&source, &shape.record(&cells));
        }
        if collector.pending_bytes() >= batch_bytes {
            hand_over(collector.take()?, summary)?;
        }
    }
    let outcome = rt.block_on(run)??;
    if let Some(e) = failure {
        return Err(e);
    }
    hand_over(collector.take()?, summary)?;
    let scanned = outcome.data_scanned_bytes.unwrap_or(0);
    let line = format!(
        "Athena: query {} on {}.{}: {} rows, {:.1} MB scanned (about ${:.4} at ${}/TB), {} requests",
        outcome.query_id,
        athena.database,
        athena.table,
        outcome.rows,
        scanned as f64 / 1e6,
        outcome.estimated_cost_usd(),
        crate::aws::athena::USD_PER_TB,
        outcome.requests,
    );
    let mut json = serde_json::to_value(&outcome)?;
    json["estimated_cost_usd"] = serde_json::json!(outcome.estimated_cost_usd());
    json["database"] = serde_json::json!(athena.database);
    json["table"] = serde_json::json!(athena.table);
    summary.set_source("athena", json, vec![line]);
    Ok(())
}
