//! `--athena`: the SQL ctaudit sends is run, as sent, in DuckDB over the
//! trail loaded with ctaudit's own table schema (transpiled from Trino by
//! sqlglot: `tests/athena/duckdb_check.py`); its rows are then served by
//! moto's Athena (which runs no SQL, but answers with results configured
//! through its API) to `report --athena`, whose findings must be exactly
//! those of `report --logs` on the same trail.
//!
//! What this proves: the query selects exactly the rows the reports need,
//! and the fields it extracts rebuild records that give the same findings;
//! the client starts, polls and reads a query over the SDK. What it does
//! not: Trino's own semantics where sqlglot maps a function to DuckDB's
//! (`json_extract_scalar` to `->>`, struct field access), the Hive JSON
//! SerDe's corners (the checker reads records as the SerDe documents), and
//! Athena's partition projection (the checker fills `account`, `region`
//! and `day` from the trail's folders).

mod common;

use std::path::Path;
use std::process::Command;

use common::fake_athena::{FakeAthena, Plan};
use common::moto::Moto;
use common::{SAMPLE_WINDOW, aws_env, ctaudit, ctaudit_env, findings, json, path_str};
use serde_json::{Value, json};

/// python3 with duckdb and sqlglot, or `None` (saying so) when they are
/// missing and not required.
fn has_checker(test: &str) -> bool {
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

const TABLE: [&str; 4] = ["--database", "audit", "--table", "ct"];

/// The rows DuckDB computes for the SQL `report --athena` would send over
/// the trail at `logs`.
fn duckdb_rows(dir: &Path, logs: &str, report: &[&str]) -> Value {
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
        .current_dir(common::root())
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
fn serve(moto: &Moto, result: &Value) {
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
    let status = common::moto::block_on(async {
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
fn both_ways(test: &str, logs: &str, policy: &str) -> Option<(common::Run, common::Run, Value)> {
    if !has_checker(test) {
        return None;
    }
    let moto = Moto::start(test)?;
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
    let from_athena = ctaudit_env(
        &[&report[..], &["--athena", "--max-scan", "none"], &TABLE].concat(),
        &aws_env(&moto.url()),
    );
    let from_logs = ctaudit(&[&report[..], &["--logs", logs]].concat());
    Some((from_athena, from_logs, rows))
}

#[test]
fn report_athena_on_a_generated_trail_finds_what_report_logs_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (trail, policy) = (dir.path().join("trail"), dir.path().join("policy.toml"));
    let made = Command::new("python3")
        .args([
            "scripts/gen-trail.py",
            path_str(&trail),
            "--events",
            "6000",
            "--mix",
            "lean",
        ])
        .args(["--jobs", "1", "--policy", path_str(&policy)])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let test = "report_athena_on_a_generated_trail_finds_what_report_logs_finds";
    let Some((from_athena, from_logs, rows)) = both_ways(test, path_str(&trail), path_str(&policy))
    else {
        return;
    };
    assert_eq!(from_athena.code, from_logs.code, "{}", from_athena.stderr);
    assert_eq!(findings(&from_athena), findings(&from_logs));
    assert!(findings(&from_logs).0.as_array().unwrap().len() > 20);
    assert_eq!(
        json(&from_athena)["input"]["events_kept"],
        json(&from_logs)["input"]["events_kept"]
    );
    assert!(rows["rows"].as_array().unwrap().len() > 100);
}

#[test]
fn report_athena_finds_what_report_logs_finds() {
    let test = "report_athena_finds_what_report_logs_finds";
    let Some((from_athena, from_logs, rows)) =
        both_ways(test, "sample-logs", "sample-logs/policy.toml")
    else {
        return;
    };
    assert_eq!(
        rows["rows"].as_array().unwrap().len(),
        84,
        "the reports' rows"
    );
    assert_eq!(from_athena.code, 1, "{}", from_athena.stderr);
    assert_eq!(findings(&from_athena), findings(&from_logs));
    assert!(findings(&from_logs).0.as_array().unwrap().len() > 50);
    // The summary names the query and what it scanned.
    let doc = json(&from_athena);
    let athena = &doc["input"]["athena"];
    assert!(
        athena["query_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{athena}"
    );
    assert_eq!(athena["rows"], 84);
    assert_eq!(athena["state"], "SUCCEEDED");
    assert_eq!(doc["input"]["events_read"], 84);
}

#[test]
fn athena_flags_are_checked_before_anything_is_sent() {
    let no_since = ctaudit(&["report", "--athena", "--show-sql"]);
    assert_eq!(no_since.code, 2);
    assert!(
        no_since.stderr.contains("--athena needs --since"),
        "{}",
        no_since.stderr
    );
    let stray = ctaudit(&["report", "--logs", "sample-logs", "--database", "x"]);
    assert_eq!(stray.code, 2);
    assert!(
        stray.stderr.contains("go with --athena"),
        "{}",
        stray.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("st");
    let ingest = ctaudit(&[
        "ingest",
        "--athena",
        "--since",
        "1d",
        "--store",
        path_str(&store),
    ]);
    assert_eq!(ingest.code, 2);
    assert!(
        ingest.stderr.contains("ingest does not read from Athena"),
        "{}",
        ingest.stderr
    );
    assert!(!store.exists(), "nothing was made");
    let trace = ctaudit(&[
        "trace",
        "--athena",
        "--since",
        "1d",
        "--repo",
        "a/b",
        "--show-sql",
    ]);
    assert_eq!(trace.code, 2);
    assert!(
        trace.stderr.contains("--show-sql goes with"),
        "{}",
        trace.stderr
    );
    let bad = ctaudit(&[
        "athena",
        "table",
        "--s3",
        "s3://b/AWSLogs/",
        "--account",
        "1234",
        "--region",
        "us-east-1",
    ]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("is not an AWS account id"),
        "{}",
        bad.stderr
    );
}

/// The sample's rows as DuckDB computes them for `report`, as cells.
fn sample_rows(dir: &Path, report: &[&str]) -> (Vec<String>, Vec<Vec<Option<String>>>) {
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
fn athena_env(athena: &FakeAthena, s3: &str) -> Vec<(&'static str, String)> {
    let mut env = aws_env(s3);
    env.push(("AWS_ENDPOINT_URL_ATHENA", athena.url()));
    env.push(("AWS_ENDPOINT_URL_S3", s3.to_string()));
    env
}

/// The sample's table, as `athena table` makes it, over moto's bucket.
fn sample_table() -> Value {
    json!({
        "storage.location.template": "s3://acme-trail/AWSLogs/${account}/CloudTrail/${region}/${day}",
        "projection.account.values": "111122223333,444455556666",
        "projection.region.values": "us-east-1,eu-central-1",
    })
}

#[test]
fn pages_are_read_whole_and_the_scan_is_estimated_first() {
    let test = "pages_are_read_whole_and_the_scan_is_estimated_first";
    if !has_checker(test) {
        return;
    }
    let Some(moto) = Moto::start(test) else {
        return;
    };
    moto.upload_dir("acme-trail", &common::root().join("sample-logs"));
    let dir = tempfile::tempdir().unwrap();
    let report = [
        &[
            "report",
            "--policy",
            "sample-logs/policy.toml",
            "--format",
            "json",
        ][..],
        &SAMPLE_WINDOW,
    ]
    .concat();
    let (columns, cells) = sample_rows(dir.path(), &report);
    let plan = Plan::Succeed {
        polls: 3,
        page: 10,
        scanned: 2_500_000,
    };
    let athena = FakeAthena::start(plan, columns, cells, sample_table());
    let env = athena_env(&athena, &moto.url());
    let run = ctaudit_env(&[&report[..], &["--athena"], &TABLE].concat(), &env);
    let from_logs = ctaudit(&[&report[..], &["--logs", "sample-logs"]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(findings(&run), findings(&from_logs));
    // 84 rows and the header, ten a page.
    let calls = athena.calls();
    let pages = calls.iter().filter(|c| *c == "GetQueryResults").count();
    assert_eq!(pages, 9, "{calls:?}");
    assert_eq!(calls[0], "GetTableMetadata", "the scan is estimated first");
    // The estimate: every log object of the sample (all in the window).
    let logs: u64 = common::sample_log_files()
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let doc = json(&run);
    let source = &doc["input"]["athena"];
    assert_eq!(source["estimated_scan_bytes"], logs, "{source}");
    assert_eq!(source["data_scanned_bytes"], 2_500_000);
    assert_eq!(source["query_id"], "q-1");
    // Too much for --max-scan: refused before anything is sent.
    let refused = ctaudit_env(
        &[&report[..], &["--athena", "--max-scan", "10KB"], &TABLE].concat(),
        &env,
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("would scan about"),
        "{}",
        refused.stderr
    );
    assert_eq!(athena.queries().len(), 1, "no second query was started");
}

#[test]
fn failed_cancelled_and_overlong_queries_are_named_and_exit_2() {
    let report = [&["report", "--format", "json"][..], &SAMPLE_WINDOW].concat();
    let cols = || vec!["eventid".to_string()];
    let run = |athena: &FakeAthena, extra: &[&str]| {
        ctaudit_env(
            &[
                &report[..],
                &["--athena", "--max-scan", "none"],
                extra,
                &TABLE,
            ]
            .concat(),
            &athena_env(athena, "http://127.0.0.1:9"),
        )
    };
    let reason = "SYNTAX_ERROR: line 3:8: Column 'x' cannot be resolved";
    let failed = FakeAthena::start(Plan::Fail(reason.into()), cols(), vec![], json!({}));
    let r = run(&failed, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("Athena query q-1 failed: SYNTAX_ERROR"),
        "{}",
        r.stderr
    );
    let cancelled = FakeAthena::start(Plan::Cancel, cols(), vec![], json!({}));
    let r = run(&cancelled, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("Athena query q-1 was cancelled"),
        "{}",
        r.stderr
    );
    let running = FakeAthena::start(Plan::Run, cols(), vec![], json!({}));
    let r = run(&running, &["--timeout", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ran longer than 1 s (--timeout) and was stopped"),
        "{}",
        r.stderr
    );
    assert!(running.calls().contains(&"StopQueryExecution".to_string()));
    // A result without the columns asked for is named, not misread.
    let odd = Plan::Succeed {
        polls: 0,
        page: 100,
        scanned: 0,
    };
    let wrong = FakeAthena::start(odd, cols(), vec![vec![Some("e1".into())]], json!({}));
    let r = run(&wrong, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does not fit"), "{}", r.stderr);
}

/// An executor for the loopback Athena that runs each query's SQL in
/// DuckDB over the trail at `logs` (as `duckdb_check.py` does).
fn duckdb_executor(dir: &Path, logs: &str) -> common::fake_athena::Executor {
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
            .current_dir(common::root())
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

#[test]
fn trace_athena_gives_the_timeline_trace_logs_gives_in_two_queries() {
    let test = "trace_athena_gives_the_timeline_trace_logs_gives_in_two_queries";
    if !has_checker(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::Succeed {
        polls: 1,
        page: 1000,
        scanned: 1_000_000,
    };
    for selector in [
        vec!["--repo", "acme/api"],
        vec!["--subject", "repo:acme/*:pull_request"],
        vec!["--role", "*gha-prod-deploy"],
    ] {
        let athena = FakeAthena::executing(
            plan.clone(),
            duckdb_executor(dir.path(), "sample-logs"),
            json!({}),
        );
        let trace = [
            &["trace", "--format", "json"][..],
            &selector,
            &SAMPLE_WINDOW,
        ]
        .concat();
        let from_logs = ctaudit(&[&trace[..], &["--logs", "sample-logs"]].concat());
        let from_athena = ctaudit_env(
            &[&trace[..], &["--athena", "--max-scan", "none"], &TABLE].concat(),
            &athena_env(&athena, "http://127.0.0.1:9"),
        );
        assert_eq!(from_athena.code, from_logs.code, "{}", from_athena.stderr);
        assert_eq!(json(&from_athena), json(&from_logs), "{selector:?}");
        // The sessions, then the calls made with their keys.
        let queries = athena.queries();
        assert_eq!(queries.len(), 2, "{selector:?}");
        assert!(queries[0].contains("eventname IN ('AssumeRoleWithWebIdentity')"));
        assert!(queries[1].contains("useridentity.accesskeyid IN ('ASIA"));
        assert!(
            from_athena.stderr.contains("Athena: 2 queries: query q-1"),
            "{}",
            from_athena.stderr
        );
    }
}

/// Every named query, run by `query --athena` on the rows Athena selects
/// (the audit's: web-identity calls, the calls made with their keys,
/// long-lived-key calls, trust changes), answers as `query --logs` does.
#[test]
fn every_named_query_answers_on_athena_as_on_logs() {
    let test = "every_named_query_answers_on_athena_as_on_logs";
    if !has_checker(test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::Succeed {
        polls: 0,
        page: 1000,
        scanned: 0,
    };
    let athena = FakeAthena::executing(plan, duckdb_executor(dir.path(), "sample-logs"), json!({}));
    let list = ctaudit(&["query", "--list"]);
    let names: Vec<&str> = list
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    let params = [
        "--param",
        "since=2026-11-19 00:00:00",
        "--param",
        "repo=acme/api",
        "--param",
        "prefix=20.",
        "--format",
        "csv",
    ];
    for name in names {
        let q = [&["query", name][..], &params, &SAMPLE_WINDOW].concat();
        let from_logs = ctaudit(&[&q[..], &["--logs", "sample-logs"]].concat());
        let from_athena = ctaudit_env(
            &[&q[..], &["--athena", "--max-scan", "none"], &TABLE].concat(),
            &athena_env(&athena, "http://127.0.0.1:9"),
        );
        assert_eq!(from_athena.code, 0, "{name}: {}", from_athena.stderr);
        assert!(from_logs.stdout.lines().count() > 1, "{name} returns rows");
        assert_eq!(from_athena.stdout, from_logs.stdout, "{name}");
    }
    // One query each, with the sessions' calls asked for inside it.
    let queries = athena.queries();
    assert!(
        queries
            .iter()
            .all(|q| q.contains("IN (\n         SELECT json_extract_scalar(responseelements"))
    );
}
