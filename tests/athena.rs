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

use crate::common;

use common::athena::{TABLE, athena_env, both_ways, duckdb_executor, has_checker};
use common::fake_athena::{FakeAthena, Plan};
use common::{SAMPLE_WINDOW, ctaudit, ctaudit_env, findings, json, path_str};
use serde_json::json;

#[test]
fn report_athena_on_a_generated_trail_finds_what_report_logs_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (trail, policy) = (dir.path().join("trail"), dir.path().join("policy.toml"));
    common::gen_trail(&trail, 6000, "lean", Some(&policy));
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
    assert_eq!(
        athena["read_via"], "GetQueryResults",
        "no result location: the API"
    );
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
    let names = common::named_queries(&list);
    for name in names {
        let q = [
            &["query", name, "--format", "csv"][..],
            &common::QUERY_PARAMS,
            &SAMPLE_WINDOW,
        ]
        .concat();
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
