//! Helpers of the Athena tests (`tests/athena.rs`, `tests/athena_client.rs`):
//! the DuckDB checker of ctaudit's SQL (`tests/athena/duckdb_check.py`),
//! results served by moto's Athena or the loopback one, and the
//! environments that point the SDK at them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::fake_athena::FakeAthena;
use super::moto::Moto;
use super::{SAMPLE_WINDOW, aws_env, ctaudit, ctaudit_env};

/// python3 with duckdb and sqlglot (see [`super::python_has`]).
pub fn has_checker(test: &str) -> bool {
    super::python_has(test, "duckdb, sqlglot")
}

pub const TABLE: [&str; 4] = ["--database", "audit", "--table", "ct"];

/// ctaudit's table DDL (`athena table`) for the sample's accounts and
/// regions, written in `dir` for the checker.
fn write_ddl(dir: &Path) -> PathBuf {
    let ddl = ctaudit(
        &[
            &["athena", "table", "--s3", "s3://trail/AWSLogs/"][..],
            &[
                "--account",
                "111122223333",
                "--account",
                "444455556666",
                "--region",
                "us-east-1",
                "--region",
                "eu-central-1",
            ],
            &TABLE,
        ]
        .concat(),
    );
    assert_eq!(ddl.code, 0, "{}", ddl.stderr);
    let file = dir.join("ddl.sql");
    std::fs::write(&file, &ddl.stdout).unwrap();
    file
}

/// What `tests/athena/duckdb_check.py` makes of `sql` over the trail at
/// `logs`, with the table `ddl` declares: `{"columns", "rows"}`.
fn run_checker(ddl: &Path, sql: &str, dir: &Path, logs: &str) -> Value {
    let sql_file = dir.join("query.sql");
    std::fs::write(&sql_file, sql).unwrap();
    let out = Command::new("python3")
        .arg("tests/athena/duckdb_check.py")
        .args([ddl, &sql_file])
        .arg(logs)
        .current_dir(super::root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The checker's result as column names and rows of cells.
fn cells(result: &Value) -> super::fake_athena::Result {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let columns = result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| text(c).unwrap())
        .collect();
    let rows = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(text).collect())
        .collect();
    (columns, rows)
}

/// The rows DuckDB computes for the SQL `report --athena` would send over
/// the trail at `logs`.
pub fn duckdb_rows(dir: &Path, logs: &str, report: &[&str]) -> Value {
    let sql = ctaudit(&[report, &["--athena", "--show-sql"], &TABLE].concat());
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    run_checker(&write_ddl(dir), &sql.stdout, dir, logs)
}

/// Queues `result` (columns and rows of text) as moto's answer to the next
/// query, in GetQueryResults' shape: the header row first, as Athena
/// gives it.
pub fn serve(moto: &Moto, result: &Value) {
    let cell = |v: &Value| match v.as_str() {
        Some(s) => json!({ "VarCharValue": s }),
        None => json!({}),
    };
    let columns: Vec<Value> = result["columns"].as_array().unwrap().clone();
    let mut rows = vec![json!({ "Data": columns.iter().map(cell).collect::<Vec<_>>() })];
    for r in result["rows"].as_array().unwrap() {
        rows.push(json!({ "Data": r.as_array().unwrap().iter().map(cell).collect::<Vec<_>>() }));
    }
    let info: Vec<Value> = columns
        .iter()
        .map(|c| json!({ "Name": c, "Label": c, "Type": "varchar", "Nullable": "UNKNOWN" }))
        .collect();
    let body = json!({
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{ "rows": rows, "column_info": info }],
    });
    let url = format!("{}/moto-api/static/athena/query-results", moto.url());
    let status = super::moto::block_on(async {
        reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 201);
}

/// `report --athena` (the SQL run by DuckDB, the rows served by moto) and
/// `report --logs` on the trail at `logs`, with `policy`.
pub fn both_ways(test: &str, logs: &str, policy: &str) -> Option<(super::Run, super::Run, Value)> {
    both_ways_with(test, logs, policy, &[])
}

/// [`both_ways`], with more flags for `report --athena`; a results bucket
/// `athena-results` exists in moto.
pub fn both_ways_with(
    test: &str,
    logs: &str,
    policy: &str,
    extra: &[&str],
) -> Option<(super::Run, super::Run, Value)> {
    if !has_checker(test) {
        return None;
    }
    let moto = Moto::start(test)?;
    moto.put("athena-results", &[]);
    let dir = tempfile::tempdir().unwrap();
    let report = report_json(policy);
    let rows = duckdb_rows(dir.path(), logs, &report);
    serve(&moto, &rows);
    // moto's Athena has no GetTableMetadata: the scan is estimated in
    // the tests against the loopback Athena below.
    let mut env = aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    let from_athena = ctaudit_env(
        &[
            &report[..],
            &["--athena", "--max-scan", "none"],
            extra,
            &TABLE,
        ]
        .concat(),
        &env,
    );
    let from_logs = ctaudit(&[&report[..], &["--logs", logs]].concat());
    Some((from_athena, from_logs, rows))
}

/// `report` with `policy`, as JSON, over the sample's window (the source
/// follows).
pub fn report_json(policy: &str) -> Vec<&str> {
    [
        &["report", "--policy", policy, "--format", "json"][..],
        &SAMPLE_WINDOW,
    ]
    .concat()
}

/// The sample's rows as DuckDB computes them for `report`, as cells.
pub fn sample_rows(dir: &Path, report: &[&str]) -> super::fake_athena::Result {
    cells(&duckdb_rows(dir, "sample-logs", report))
}

/// The environment for a loopback Athena, and S3 (moto) for the listing.
pub fn athena_env(athena: &FakeAthena, s3: &str) -> Vec<(&'static str, String)> {
    let mut env = aws_env(s3);
    env.push(("AWS_ENDPOINT_URL_ATHENA", athena.url()));
    env.push(("AWS_ENDPOINT_URL_S3", s3.to_string()));
    env
}

/// The sample's table, as `athena table` makes it, over moto's bucket.
pub fn sample_table() -> Value {
    json!({
        "storage.location.template": "s3://acme-trail/AWSLogs/${account}/CloudTrail/${region}/${day}",
        "projection.account.values": "111122223333,444455556666",
        "projection.region.values": "us-east-1,eu-central-1",
    })
}

/// An executor for the loopback Athena that runs each query's SQL in
/// DuckDB over the trail at `logs` (as `duckdb_check.py` does).
pub fn duckdb_executor(dir: &Path, logs: &str) -> super::fake_athena::Executor {
    let ddl = write_ddl(dir);
    let (dir, logs) = (dir.to_owned(), logs.to_string());
    Box::new(move |sql: &str| cells(&run_checker(&ddl, sql, &dir, &logs)))
}
