//! `--athena`'s client against the loopback Athena
//! (`tests/common/fake_athena.rs`) and moto: results in pages or as the
//! result file in S3, a query that fails, is cancelled or runs past
//! `--timeout`, the scan estimated before a query is sent, and `athena
//! table` listing the trail and applying its statements.

use crate::common;

use common::athena::{
    TABLE, athena_env, both_ways_with, has_checker, report_json, sample_rows, sample_table,
};
use common::fake_athena::{FakeAthena, Plan};
use common::moto::Moto;
use common::{SAMPLE_WINDOW, aws_env, ctaudit, ctaudit_env, findings, json};
use serde_json::json;

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
    let report = report_json("sample-logs/policy.toml");
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

/// `athena table` finds the accounts and regions in the trail's S3
/// folders, and `--apply` sends the database's and the table's statements.
#[test]
fn athena_table_lists_the_trail_and_applies_the_ddl() {
    let Some(moto) = Moto::start("athena_table_lists_the_trail_and_applies_the_ddl") else {
        return;
    };
    moto.upload_dir("acme-trail", &common::root().join("sample-logs"));
    let mut env = aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    let run = ctaudit_env(
        &[
            "athena",
            "table",
            "--s3",
            "s3://acme-trail/AWSLogs/",
            "--database",
            "audit",
            "--table",
            "ct",
            "--first-day",
            "2026-11-01",
            "--apply",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for want in [
        "'projection.account.values'='111122223333,444455556666'",
        "'projection.region.values'='eu-central-1,us-east-1'",
        "'projection.day.range'='2026/11/01,NOW'",
        "'storage.location.template'='s3://acme-trail/AWSLogs/${account}/CloudTrail/${region}/${day}'",
    ] {
        assert!(run.stdout.contains(want), "{want}\n{}", run.stdout);
    }
    // Both statements went to Athena, each named with its query id.
    let started: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Athena query"))
        .collect();
    assert_eq!(started.len(), 2, "{}", run.stderr);
    assert!(started[0].contains("CREATE DATABASE IF NOT EXISTS `audit`"));
    assert!(started[1].contains("CREATE EXTERNAL TABLE IF NOT EXISTS `audit`.`ct`"));
}

/// A result file that cannot be read (moto writes its CSV without
/// escaping the quotes inside values) is said, and the result is read with
/// GetQueryResults instead.
#[test]
fn an_unreadable_result_file_falls_back_to_the_api() {
    let test = "an_unreadable_result_file_falls_back_to_the_api";
    let extra = ["--output-location", "s3://athena-results/result.csv"];
    let Some((from_athena, from_logs, _)) =
        both_ways_with(test, "sample-logs", "sample-logs/policy.toml", &extra)
    else {
        return;
    };
    assert_eq!(from_athena.code, 1, "{}", from_athena.stderr);
    assert_eq!(findings(&from_athena), findings(&from_logs));
    let source = &json(&from_athena)["input"]["athena"];
    assert_eq!(source["read_via"], "GetQueryResults", "{source}");
    assert!(
        source["result_file_error"]
            .as_str()
            .unwrap()
            .contains("CSV error"),
        "{source}"
    );
}

/// With a result file, the result is read from S3 in one GET: the rows of
/// a CSV as Athena writes it (every value quoted, quotes doubled, nulls
/// empty).
#[test]
fn the_result_file_is_read_from_s3_in_one_get() {
    let test = "the_result_file_is_read_from_s3_in_one_get";
    if !has_checker(test) {
        return;
    }
    let Some(moto) = Moto::start(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = report_json("sample-logs/policy.toml");
    let (columns, cells) = sample_rows(dir.path(), &report);
    let mut csv = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    csv.write_record(&columns).unwrap();
    for row in &cells {
        csv.write_record(row.iter().map(|c| c.as_deref().unwrap_or("")))
            .unwrap();
    }
    moto.put(
        "athena-results",
        &[("q-1.csv".to_string(), csv.into_inner().unwrap())],
    );
    let plan = Plan::Succeed {
        polls: 1,
        page: 5,
        scanned: 0,
    };
    let athena = FakeAthena::start(plan, columns, cells, json!({}))
        .with_result_location("s3://athena-results/q-1.csv");
    let run = ctaudit_env(
        &[&report[..], &["--athena", "--max-scan", "none"], &TABLE].concat(),
        &athena_env(&athena, &moto.url()),
    );
    let from_logs = ctaudit(&[&report[..], &["--logs", "sample-logs"]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(findings(&run), findings(&from_logs));
    assert_eq!(json(&run)["input"]["athena"]["read_via"], "s3");
    assert!(!athena.calls().contains(&"GetQueryResults".to_string()));
}
