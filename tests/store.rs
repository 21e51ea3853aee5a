//! The store as other tools see it: the `sessions` table beside `events`
//! (attribution that travels with the files: DuckDB alone joins them into
//! what `trace` and `query` give), and its upkeep across ingests
//! (compaction: `tests/compact.rs`).

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ctaudit, ingest_logs, json, path_str, sample_records};
use serde_json::Value;

/// The README's DuckDB join: events with their session's attribution.
const DUCKDB_ATTRIBUTION: &str = "\
SELECT e.event_id, e.event_name,
       CASE WHEN e.event_name = 'AssumeRoleWithWebIdentity' THEN e.issued_access_key_id
            ELSE e.access_key_id END AS access_key_id,
       s.gh_repository AS via_repository, s.gh_ref AS via_ref, s.role_arn AS via_role_arn,
       s.gh_run_id AS via_run_id
FROM read_parquet('STORE/events/*/*.parquet') e
JOIN read_parquet('STORE/sessions/*/*.parquet') s
  ON s.kind = 'web-identity'
 AND s.issued_access_key_id IN (e.access_key_id, e.issued_access_key_id)
WHERE s.gh_repository = 'acme/api'
ORDER BY e.event_time, e.event_id";

/// Runs a Python script that prints JSON (`argv[1]` is `arg`), with
/// `module` importable; `None` (saying so) when it is not installed and
/// CTAUDIT_REQUIRE_PYDATA is not set (.ci/run sets it).
fn python(test: &str, module: &str, script: &str, arg: &str) -> Option<Value> {
    if !common::python_has(test, module) {
        return None;
    }
    let out = Command::new("python3")
        .args(["-c", script, arg])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{module}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Runs `sql` in DuckDB and returns its rows as arrays of text.
fn duckdb(test: &str, sql: &str) -> Option<Vec<Value>> {
    let script = "import duckdb, json, sys\n\
        rows = duckdb.execute(sys.argv[1]).fetchall()\n\
        print(json.dumps([[None if v is None else str(v) for v in r] for r in rows]))";
    python(test, "duckdb", script, sql).map(|v| v.as_array().unwrap().clone())
}

/// The README's polars (Python) join, `ct-store` replaced by the store.
const POLARS_ATTRIBUTION: &str = r#"import polars as pl
s = (pl.scan_parquet("ct-store/sessions/*/*.parquet", hive_partitioning=False)
     .filter(pl.col("kind") == "web-identity")
     .select("issued_access_key_id", via_subject="subject", via_repository="gh_repository",
             via_ref="gh_ref", via_environment="gh_environment", via_role_arn="role_arn",
             via_run_id="gh_run_id", via_session_start="session_start",
             via_session_event_id="event_id"))
events = (pl.scan_parquet("ct-store/events/*/*.parquet", hive_partitioning=False)
          .join(s, left_on="access_key_id", right_on="issued_access_key_id", how="left"))
"#;

/// The README shows `text` as it is tested (in a list item's code block).
fn assert_in_readme(text: &str) {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let shown: String = text.lines().map(|l| format!("  {l}\n")).collect();
    assert!(readme.contains(&shown), "the README shows:\n{shown}");
}

fn rows(run: &common::Run, columns: &[&str]) -> Vec<Vec<Value>> {
    assert!(run.code <= 1, "{}", run.stderr);
    json(run)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| columns.iter().map(|c| r[*c].clone()).collect())
        .collect()
}

#[test]
fn duckdb_alone_gives_what_trace_gives() {
    let dir = tempfile::tempdir().unwrap();
    ingest_logs(&["sample-logs"], dir.path());
    assert_in_readme(&DUCKDB_ATTRIBUTION.replace("STORE", "ct-store"));
    let sql = DUCKDB_ATTRIBUTION.replace("STORE", &dir.path().display().to_string());
    let Some(duck) = duckdb("duckdb_alone_gives_what_trace_gives", &sql) else {
        return;
    };
    let trace = ctaudit(&[
        "trace",
        "--store",
        path_str(dir.path()),
        "--repo",
        "acme/api",
        "--format",
        "json",
    ]);
    let cols = [
        "event_id",
        "event_name",
        "access_key_id",
        "via_repository",
        "via_role_arn",
        "via_run_id",
    ];
    let ours = rows(&trace, &cols);
    let theirs: Vec<Vec<Value>> = duck
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            // DuckDB's columns: event_id, event_name, access_key_id,
            // via_repository, via_ref, via_role_arn, via_run_id.
            [0, 1, 2, 3, 5, 6].iter().map(|&i| r[i].clone()).collect()
        })
        .collect();
    assert!(ours.len() > 20, "the sample has acme/api activity");
    assert_eq!(ours, theirs);
}

/// The attribution columns the joins outside ctaudit are held to.
const VIA: [&str; 7] = [
    "via_repository",
    "via_ref",
    "via_environment",
    "via_role_arn",
    "via_run_id",
    "via_subject",
    "via_session_event_id",
];

/// `query`'s attribution of every event: its id, then the `via` columns.
fn query_attribution(store: &Path, via: &[&str]) -> Vec<Vec<Value>> {
    let sql = format!(
        "SELECT event_id, {} FROM events ORDER BY event_id",
        via.join(", ")
    );
    let run = ctaudit(&[
        "query",
        "--store",
        path_str(store),
        &sql,
        "--format",
        "json",
    ]);
    rows(&run, &[&["event_id"], via].concat())
}

#[test]
fn polars_attribution_is_query_attribution() {
    let dir = tempfile::tempdir().unwrap();
    ingest_logs(&["sample-logs"], dir.path());
    assert_in_readme(POLARS_ATTRIBUTION);
    let script = POLARS_ATTRIBUTION.replace("ct-store", &dir.path().display().to_string())
        + r#"
import json
df = (events.select("event_id", "via_repository", "via_ref", "via_environment", "via_role_arn",
                    "via_run_id", "via_subject", "via_session_event_id")
      .sort("event_id").collect())
print(json.dumps(df.rows()))
"#;
    let Some(theirs) = python(
        "polars_attribution_is_query_attribution",
        "polars",
        &script,
        "",
    ) else {
        return;
    };
    let ours = query_attribution(dir.path(), &VIA);
    let theirs: Vec<Vec<Value>> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().clone())
        .collect();
    assert_eq!(ours.len(), 215);
    assert_eq!(ours, theirs);
}

#[test]
fn duckdb_attribution_is_query_attribution() {
    let dir = tempfile::tempdir().unwrap();
    ingest_logs(&["sample-logs"], dir.path());
    let store = dir.path().display().to_string();
    let sql = format!(
        "SELECT e.event_id, s.gh_repository, s.gh_ref, s.gh_environment, s.role_arn, s.gh_run_id, s.subject
         FROM read_parquet('{store}/events/*/*.parquet') e
         LEFT JOIN read_parquet('{store}/sessions/*/*.parquet') s
           ON s.kind = 'web-identity' AND e.access_key_id = s.issued_access_key_id
         ORDER BY e.event_id"
    );
    let Some(duck) = duckdb("duckdb_attribution_is_query_attribution", &sql) else {
        return;
    };
    let ours = query_attribution(dir.path(), &VIA[..6]);
    let theirs: Vec<Vec<Value>> = duck.iter().map(|r| r.as_array().unwrap().clone()).collect();
    assert_eq!(ours.len(), 215);
    assert!(ours.iter().filter(|r| !r[1].is_null()).count() > 50);
    assert_eq!(ours, theirs);
}

/// The oracle, from the raw records: one web-identity session per
/// successful assumption, with its key, subject and role.
#[test]
fn the_sessions_table_holds_each_successful_assumption_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = ingest_logs(&["sample-logs"], dir.path());
    let records = sample_records();
    let expected: BTreeSet<(String, String, String)> = records
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity" && r["errorCode"].is_null())
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap().to_string();
            (
                s(&r["responseElements"]["credentials"]["accessKeyId"]),
                s(&r["responseElements"]["subjectFromWebIdentityToken"]),
                s(&r["requestParameters"]["roleArn"]),
            )
        })
        .collect();
    let akia: BTreeSet<(String, String)> = records
        .iter()
        .filter_map(|r| {
            let key = r["userIdentity"]["accessKeyId"].as_str()?;
            let day = r["eventTime"].as_str()?.get(..10)?;
            key.starts_with("AKIA")
                .then(|| (key.to_string(), day.to_string()))
        })
        .collect();
    assert!(
        run.stdout
            .contains(&format!("{} sessions added", expected.len() + akia.len())),
        "{}",
        run.stdout
    );
    let q = ctaudit(&[
        "query",
        "--store",
        path_str(dir.path()),
        "SELECT kind, issued_access_key_id, subject, role_arn, session_start, session_expiry FROM sessions",
        "--format",
        "json",
    ]);
    let all = json(&q);
    let all = all.as_array().unwrap();
    let web: BTreeSet<(String, String, String)> = all
        .iter()
        .filter(|r| r["kind"] == "web-identity")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("issued_access_key_id"), s("subject"), s("role_arn"))
        })
        .collect();
    assert_eq!(web, expected);
    assert_eq!(
        all.iter().filter(|r| r["kind"] == "web-identity").count(),
        expected.len(),
        "one row per key"
    );
    let long: BTreeSet<(String, String)> = all
        .iter()
        .filter(|r| r["kind"] == "iam-user-key")
        .map(|r| {
            assert!(r["session_expiry"].is_null());
            (
                r["issued_access_key_id"].as_str().unwrap().to_string(),
                r["session_start"].as_str().unwrap()[..10].to_string(),
            )
        })
        .collect();
    assert_eq!(long, akia, "one row per long-lived key per day of use");
    // From the logs, `query` computes the same table.
    let sql = "SELECT * FROM sessions ORDER BY issued_access_key_id, session_start";
    let table = |source: &[&str]| {
        let run = ctaudit(&[&["query", sql, "--format", "csv"][..], source].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    assert_eq!(
        table(&["--logs", "sample-logs"]),
        table(&["--store", path_str(dir.path())])
    );
    // Expiry: the start plus an hour unless a duration was asked for.
    assert!(
        all.iter().filter(|r| r["kind"] == "web-identity").all(|r| {
            r["session_expiry"].as_str().unwrap() > r["session_start"].as_str().unwrap()
        })
    );
}

/// Two log files, a day apart: an assumption late on the 16th, and calls
/// with its key early on the 17th.
fn two_days(dir: &Path) -> (PathBuf, PathBuf) {
    let day1 = r#"{"Records":[{"eventID":"a0","eventTime":"2026-11-16T23:50:00Z","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com",
        "userIdentity":{"type":"WebIdentityUser","userName":"repo:acme/api:ref:refs/heads/main"},
        "requestParameters":{"roleArn":"arn:aws:iam::1:role/deploy","durationSeconds":7200},
        "responseElements":{"credentials":{"accessKeyId":"ASIALATE","sessionToken":"T"},
        "subjectFromWebIdentityToken":"repo:acme/api:ref:refs/heads/main","audience":"sts.amazonaws.com"}}]}"#;
    let day2 = r#"{"Records":[{"eventID":"a1","eventTime":"2026-11-17T00:10:00Z","eventName":"PutObject","eventSource":"s3.amazonaws.com",
        "userIdentity":{"type":"AssumedRole","accessKeyId":"ASIALATE"}},
        {"eventID":"x1","eventTime":"2026-11-17T00:11:00Z","eventName":"PutObject","eventSource":"s3.amazonaws.com",
        "userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAOTHER"}},
        {"eventID":"t1","eventTime":"2026-11-17T00:12:00Z","eventName":"UpdateAssumeRolePolicy","eventSource":"iam.amazonaws.com",
        "recipientAccountId":"1","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIALATE"},
        "requestParameters":{"roleName":"deploy","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringLike\":{\"token.actions.githubusercontent.com:sub\":\"repo:acme/*\"}}}]}"}}]}"#;
    let (a, b) = (dir.join("day1.json"), dir.join("day2.json"));
    std::fs::write(&a, day1).unwrap();
    std::fs::write(&b, day2).unwrap();
    (a, b)
}

#[test]
fn a_key_issued_in_one_ingest_is_attributed_in_the_next() {
    let logs = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    let (a, b) = two_days(logs.path());
    ingest_logs(&[path_str(&a)], store.path());
    ingest_logs(&[path_str(&b)], store.path());
    let st = path_str(store.path());
    // The window holds only the calls: the session comes from the table.
    let q = ctaudit(&[
        "query",
        "--store",
        st,
        "--since",
        "2026-11-17T00:00:00Z",
        "SELECT event_id, via_repository, via_session_event_id FROM events ORDER BY event_id",
        "--format",
        "csv",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert_eq!(
        q.stdout,
        "event_id,via_repository,via_session_event_id\na1,acme/api,a0\nt1,acme/api,a0\nx1,,\n"
    );
    // A report over the window says whose workflow changed a trust policy.
    let r = ctaudit(&[
        "report",
        "--store",
        st,
        "--since",
        "2026-11-17",
        "--report",
        "trust-changes",
        "--format",
        "json",
    ]);
    let found = json(&r)["findings"].clone();
    assert_eq!(found[0]["event_id"], "t1", "{}", r.stdout);
    assert_eq!(found[0]["via_repository"], "acme/api", "{}", r.stdout);
    let t = ctaudit(&[
        "trace",
        "--store",
        st,
        "--since",
        "2026-11-17",
        "--repo",
        "acme/api",
        "--format",
        "csv",
    ]);
    assert_eq!(t.code, 1, "{}", t.stderr);
    let ids: Vec<&str> = t
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["a1", "t1"], "{}", t.stdout);
    // The expiry follows the duration asked for.
    let s = ctaudit(&[
        "query",
        "--store",
        st,
        "SELECT session_start, session_expiry FROM sessions",
        "--format",
        "csv",
    ]);
    assert_eq!(
        s.stdout,
        "session_start,session_expiry\n2026-11-16T23:50:00Z,2026-11-17T01:50:00Z\n"
    );
}

#[test]
fn a_store_from_before_the_sessions_table_gets_it_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    ingest_logs(&["sample-logs"], dir.path());
    let table = |store: &Path| {
        ctaudit(&[
            "query",
            "--store",
            path_str(store),
            "SELECT * FROM sessions ORDER BY issued_access_key_id, session_start",
            "--format",
            "csv",
        ])
        .stdout
    };
    let before = table(dir.path());
    std::fs::remove_dir_all(dir.path().join("sessions")).unwrap();
    // Without the table, attribution comes from the events, as before it.
    let q = ctaudit(&[
        "query",
        "--store",
        path_str(dir.path()),
        "SELECT count(via_repository) AS n FROM events",
        "--format",
        "csv",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert_ne!(q.stdout, "n\n0\n");
    // The next writer fills it in, whole.
    let run = ingest_logs(&["sample-logs", "--reread"], dir.path());
    assert!(
        run.stdout.contains("0 events added, 215 already stored"),
        "{}",
        run.stdout
    );
    assert_eq!(table(dir.path()), before);
}
