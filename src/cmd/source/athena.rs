//! `--athena`: the reports' rows, selected on Athena from the CloudTrail
//! table, put back into records and read like any other source.

use super::{HandOver, Wanted};
use crate::athena::rows::RowShape;
use crate::athena::{AthenaArgs, sql};
use crate::aws::AwsArgs;
use crate::ingest::Collector;
use crate::ingest::summary::InputSummary;

/// The SQL a read asks with: the given lookups (`trace`), the rows the
/// reports need, or for a read of everything (`query`; `ingest` refuses
/// Athena) the audit's rows ([`sql::Rows::Audit`]).
pub fn report_sql(athena: &AthenaArgs, wanted: &Wanted<'_>) -> anyhow::Result<String> {
    anyhow::ensure!(
        wanted.opts.window.since.is_some(),
        "--athena needs --since: without it the query would read every day the table projects"
    );
    let rows = match &wanted.lookups {
        Some(lookups) => sql::Rows::Lookups(lookups),
        None if wanted.opts.filter.all => sql::Rows::Audit,
        None => sql::Rows::Filter(&wanted.opts.filter),
    };
    Ok(sql::query(
        &athena.place.database,
        &athena.place.table,
        &wanted.opts.window,
        rows,
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
    let estimate = match athena.max_scan.0 {
        Some(limit) => Some(check_scan(&rt, &sdk, athena, wanted, limit)?),
        None => None,
    };
    let source = format!("athena:{}.{}", athena.place.database, athena.place.table);
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
        athena.place.database,
        athena.place.table,
        outcome.rows,
        scanned as f64 / 1e6,
        outcome.estimated_cost_usd(),
        crate::aws::athena::USD_PER_TB,
        outcome.requests,
    );
    let mut lines = vec![line];
    if let Some(e) = &estimate {
        lines.push(format!(
            "  estimated before the query from S3: {:.1} MB in {} objects (--max-scan {:.1} GB)",
            e.bytes as f64 / 1e6,
            e.objects,
            athena.max_scan.0.unwrap_or(0) as f64 / 1e9
        ));
    }
    let mut json = serde_json::to_value(&outcome)?;
    if let Some(e) = &estimate {
        json["estimated_scan_bytes"] = serde_json::json!(e.bytes);
        json["estimated_scan_objects"] = serde_json::json!(e.objects);
    }
    json["estimated_cost_usd"] = serde_json::json!(outcome.estimated_cost_usd());
    json["database"] = serde_json::json!(athena.place.database);
    json["table"] = serde_json::json!(athena.place.table);
    summary.set_source("athena", json, lines);
    Ok(())
}

/// What the S3 listing of the query's partitions found.
struct Estimate {
    bytes: u64,
    objects: u64,
}

/// Lists the S3 folders of the query's partitions (from the table's
/// projection) and refuses the query when they hold more than `limit`.
fn check_scan(
    rt: &tokio::runtime::Runtime,
    sdk: &aws_config::SdkConfig,
    athena: &AthenaArgs,
    wanted: &Wanted<'_>,
    limit: u64,
) -> anyhow::Result<Estimate> {
    use crate::athena::scan::Layout;
    use crate::aws::s3;
    let params = rt.block_on(crate::aws::athena::table_parameters(
        sdk,
        &athena.place.database,
        &athena.place.table,
    ))?;
    let layout = Layout::of(&params).map_err(|e| {
        anyhow::anyhow!(
            "--max-scan: cannot tell where {}.{} reads from: {e}; make the table with `ctaudit athena table`, or pass --max-scan none",
            athena.place.database,
            athena.place.table
        )
    })?;
    let client = rt
        .block_on(s3::bucket_client(sdk, &layout.base))
        .map_err(|e| anyhow::anyhow!("--max-scan: listing {}: {e}", layout.base))?;
    let mut listed = InputSummary::default();
    let scope = layout.scope(&wanted.opts.window, wanted.now);
    let listing = rt.block_on(s3::list(&client, &layout.base, &scope, &mut listed));
    if let Some(f) = listed.files_failed.first() {
        anyhow::bail!(
            "--max-scan: the query's partitions could not all be listed ({f}); pass --max-scan none to send it anyway"
        );
    }
    anyhow::ensure!(
        listing.bytes <= limit,
        "the query would scan about {:.2} GB ({} objects in {} day folders of {}), more than --max-scan {:.2} GB: narrow --since/--until, or raise --max-scan",
        listing.bytes as f64 / 1e9,
        listing.objects,
        listing.days_listed,
        layout.base,
        limit as f64 / 1e9
    );
    Ok(Estimate {
        bytes: listing.bytes,
        objects: listing.objects,
    })
}
