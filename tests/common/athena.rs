//! Helpers of the Athena tests (`tests/athena.rs`, `tests/athena_client.rs`):
//! the DuckDB checker of ctaudit's SQL (`tests/athena/duckdb_check.py`),
//! results served by moto's Athena or the loopback one, and the
//! environments that point the SDK at them.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::fake_athena::FakeAthena;
use super::moto::Moto;
use super::{SAMPLE_WINDOW, aws_env, ctaudit, ctaudit_env, path_str};

/// python3 with duckdb and sqlglot, or `None` (saying so) when they are
/// missing and not required.
pub fn has_checker(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb, sqlglot"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CTAUDIT_REQUIRE_PYDATA").is_none(),
            "CTAUDIT_REQUIRE_PYDATA is set but python3 cannot import duckdb and sqlglot"
        );
        eprintln!(
            "SKIPPED {test}: python3 with duckdb and sqlglot is not installed (.ci/run installs them)"
        );
    }
    ok
}

pub const TABLE: [&str; 4] = ["--database", "audit", "--table", "ct"];

/// The rows DuckDB computes for the SQL `report --athena` would send over
/// the trail at `logs`.
pub fn duckdb_rows(dir: &Path, logs: &str, report: &[&str]) -> Value {
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
    let sql = ctaudit(&[report, &["--athena", "--show-sql"], &TABLE].concat());
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    let (ddl_file, sql_file) = (dir.join("ddl.sql"), dir.join("query.sql"));
    std::fs::write(&ddl_file, &ddl.stdout).unwrap();
    std::fs::write(&sql_file, &sql.stdout).unwrap();
    let out = Command::new("python3")
        .args([
            "tests/athena/duckdb_check.py",
            path_str(&ddl_file),
            path_str(&sql_file),
            logs,
        ])
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
    let report = [
        &["report", "--policy", policy, "--format", "json"][..],
        &SAMPLE_WINDOW,
    ]
    .concat();
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

/// The sample's rows as DuckDB computes them for `report`, as cells.
pub fn sample_rows(dir: &Path, report: &[&str]) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let rows = duckdb_rows(dir, "sample-logs", report);
    let columns = rows["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let cells = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .collect();
    (columns, cells)
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
    let ddl = ctaudit(&[
        "athena",
        "table",
        "--s3",
        "s3://trail/AWSLogs/",
        "--account",
        "111122223333",
        "--region",
        "us-east-1",
        "--database",
        "audit",
        "--table",
        "ct",
    ]);
    let ddl_file = dir.join("ddl.sql");
    std::fs::write(&ddl_file, &ddl.stdout).unwrap();
    let (dir, logs) = (dir.to_owned(), logs.to_string());
    Box::new(move |sql: &str| {
        let sql_file = dir.join("query.sql");
        std::fs::write(&sql_file, sql).unwrap();
        let out = Command::new("python3")
            .args(["tests/athena/duckdb_check.py"])
            .args([&ddl_file, &sql_file])
            .arg(&logs)
            .current_dir(super::root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = |v: &Value| v.as_str().map(str::to_string);
        (
            v["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| text(c).unwrap())
                .collect(),
            v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().iter().map(text).collect())
                .collect(),
        )
    })
}
