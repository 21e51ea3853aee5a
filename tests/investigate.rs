//! Investigation end to end: `ingest` into a store, `query` (from the store
//! and straight from logs), and `trace` following sessions to what they did.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ctaudit, json, path_str, sample_records};

fn ingest(store: &Path) -> common::Run {
    ctaudit(&[
        "ingest",
        "--logs",
        "sample-logs",
        "--store",
        path_str(store),
    ])
}

fn ids(run: &common::Run) -> BTreeSet<String> {
    json(run)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ingest_in_small_batches_gives_the_same_store() {
    // Batches of 4 KiB of input: one or two files each, spanning the
    // week, so the per-day key sets are evicted and read back.
    let (small, whole) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = |store: &Path, kib: &str| {
        ctaudit(&[
            "ingest",
            "--logs",
            "sample-logs",
            "--store",
            path_str(store),
            "--batch-kib",
            kib,
        ])
    };
    let run = args(small.path(), "4");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("215 events added, 0 already stored"),
        "{}",
        run.stdout
    );
    let files = |store: &Path| {
        std::fs::read_dir(store.join("events/date=2026-11-17"))
            .unwrap()
            .count()
    };
    // Several batches wrote this day: one part, a row group from each.
    assert_eq!(files(small.path()), 1);
    let part = small
        .path()
        .join("events/date=2026-11-17/part-00000.parquet");
    use polars::prelude::SerReader;
    let mut reader = polars::prelude::ParquetReader::new(std::fs::File::open(part).unwrap());
    let groups = reader.get_metadata().unwrap().row_groups.len();
    assert!(groups > 1, "{groups} row groups");
    let again = ctaudit(&[
        "ingest",
        "--logs",
        "sample-logs",
        "--store",
        path_str(small.path()),
        "--batch-kib",
        "4",
        "--reread",
    ]);
    assert!(
        again.stdout.contains("0 events added, 215 already stored"),
        "{}",
        again.stdout
    );
    args(whole.path(), "1048576");
    assert_eq!(files(whole.path()), 1);
    let q = "SELECT * FROM events ORDER BY event_id";
    let a = ctaudit(&[
        "query",
        "--store",
        path_str(small.path()),
        q,
        "--format",
        "csv",
    ]);
    let b = ctaudit(&[
        "query",
        "--store",
        path_str(whole.path()),
        q,
        "--format",
        "csv",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn ingest_is_idempotent_and_keeps_every_event() {
    let dir = tempfile::tempdir().unwrap();
    let run = ingest(dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("215 events added, 0 already stored"),
        "{}",
        run.stdout
    );
    // The store's state: the files are not read again.
    let again = ingest(dir.path());
    assert!(
        again.stdout.contains("0 events added, 0 already stored")
            && again
                .stdout
                .contains("skipped, already read by an earlier run (--state): 103"),
        "{}",
        again.stdout
    );
    // Read again on request, nothing is added twice.
    let reread = ctaudit(&[
        "ingest",
        "--logs",
        "sample-logs",
        "--store",
        path_str(dir.path()),
        "--reread",
    ]);
    assert!(
        reread.stdout.contains("0 events added, 215 already stored"),
        "{}",
        reread.stdout
    );
    // Partitioned by day, as Parquet.
    assert!(dir.path().join("events/date=2026-11-16").is_dir());
    let q = ctaudit(&[
        "query",
        "--store",
        path_str(dir.path()),
        "SELECT COUNT(*) AS n FROM events",
        "--format",
        "json",
    ]);
    assert_eq!(json(&q)[0]["n"], 215, "{}", q.stderr);
}

#[test]
fn reports_read_the_store_like_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    let policy = "sample-logs/policy.toml";
    let from_logs = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        policy,
        "--format",
        "csv",
        "-q",
    ]);
    let from_store = ctaudit(&[
        "report",
        "--store",
        path_str(dir.path()),
        "--policy",
        policy,
        "--format",
        "csv",
        "-q",
    ]);
    assert_eq!(from_store.code, 1, "{}", from_store.stderr);
    // The same findings; only the source file column differs in kind (none here).
    assert_eq!(from_store.stdout, from_logs.stdout);
    let v = json(&ctaudit(&[
        "report",
        "--store",
        path_str(dir.path()),
        "--format",
        "json",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-20",
    ]));
    assert_eq!(v["input"]["events_read"], 215);
    let skipped = v["input"]["events_skipped"].as_object().unwrap();
    let kept = v["input"]["events_kept"].as_u64().unwrap();
    assert_eq!(
        kept + skipped.values().map(|n| n.as_u64().unwrap()).sum::<u64>(),
        215
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["event_time"].as_str().unwrap().starts_with("2026-11-20"))
    );
}

#[test]
fn the_store_holds_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    let q = ctaudit(&[
        "query",
        "--store",
        path_str(dir.path()),
        "SELECT response_elements FROM events WHERE response_elements IS NOT NULL",
        "--format",
        "csv",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert!(q.stdout.contains("REDACTED"));
    assert!(
        !q.stdout.contains("IQoJb3JpZ2lu") && !q.stdout.contains("SECRET"),
        "{}",
        q.stdout
    );
    // The raw Parquet bytes do not carry them either.
    for day in std::fs::read_dir(dir.path().join("events")).unwrap() {
        for part in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let bytes = std::fs::read(part.unwrap().path()).unwrap();
            assert!(!bytes.windows(12).any(|w| w == b"IQoJb3JpZ2lu"));
        }
    }
}

#[test]
fn every_named_query_answers_the_same_from_the_store_and_from_logs() {
    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    let list = ctaudit(&["query", "--list"]);
    let names = common::named_queries(&list);
    assert!(
        list.stdout.contains("    Athena:"),
        "every header says whether Athena runs it"
    );
    for name in names {
        let params = common::QUERY_PARAMS;
        let mut from_store = vec![
            "query",
            "--store",
            path_str(dir.path()),
            name,
            "--format",
            "csv",
        ];
        from_store.extend(params);
        let mut from_logs = vec!["query", "--logs", "sample-logs", name, "--format", "csv"];
        from_logs.extend(params);
        let a = ctaudit(&from_store);
        let b = ctaudit(&from_logs);
        assert_eq!(a.code, 0, "{name}: {}", a.stderr);
        assert_eq!(b.code, 0, "{name}: {}", b.stderr);
        assert!(
            a.stdout.lines().count() > 1,
            "{name} returns rows on the sample:\n{}",
            a.stdout
        );
        assert_eq!(a.stdout, b.stdout, "{name}");
    }
}

#[test]
fn trace_repo_lists_exactly_the_calls_made_with_its_credentials() {
    // The oracle: keys issued to acme/api's subjects, from the raw records.
    let records = sample_records();
    let keys: BTreeSet<&str> = records
        .iter()
        .filter(|r| {
            r["eventName"] == "AssumeRoleWithWebIdentity"
                && r["errorCode"].is_null()
                && r["responseElements"]["subjectFromWebIdentityToken"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("repo:acme/api:"))
        })
        .map(|r| {
            r["responseElements"]["credentials"]["accessKeyId"]
                .as_str()
                .unwrap()
        })
        .collect();
    let expected: BTreeSet<String> = records
        .iter()
        .filter(|r| {
            let used = r["userIdentity"]["accessKeyId"]
                .as_str()
                .is_some_and(|k| keys.contains(k));
            let issued = r["responseElements"]["credentials"]["accessKeyId"]
                .as_str()
                .is_some_and(|k| keys.contains(k));
            used || issued
        })
        .map(|r| r["eventID"].as_str().unwrap().to_string())
        .collect();
    assert!(
        expected.len() > keys.len(),
        "the sample has calls made with acme/api's sessions"
    );

    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    for source in [
        vec!["--store", path_str(dir.path())],
        vec!["--logs", "sample-logs"],
    ] {
        let mut args = vec!["trace", "--repo", "acme/api", "--format", "json"];
        args.extend(&source);
        let run = ctaudit(&args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(ids(&run), expected, "{source:?}");
        // Oldest first.
        let rows = json(&run);
        let times: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["event_time"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .all(|r| r["via_repository"] == "acme/api")
        );
    }
}

#[test]
fn trace_by_key_and_by_event() {
    let root = ctaudit(&[
        "trace",
        "--logs",
        "sample-logs",
        "--access-key",
        "AKIA88491B7D8BEB7D8B",
        "--format",
        "json",
    ]);
    let rows = json(&root);
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["event_name"], "ListUsers");

    // A follow-up call leads to its whole session.
    let records = sample_records();
    let follow_up = records
        .iter()
        .find(|r| r["eventName"] == "UpdateFunctionCode20150331v2")
        .expect("the sample has deploy steps");
    let key = follow_up["userIdentity"]["accessKeyId"].as_str().unwrap();
    let run = ctaudit(&[
        "trace",
        "--logs",
        "sample-logs",
        "--event-id",
        follow_up["eventID"].as_str().unwrap(),
        "--format",
        "json",
    ]);
    let rows = json(&run);
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "AssumeRoleWithWebIdentity",
            "GetCallerIdentity",
            "PutObject",
            "UpdateFunctionCode20150331v2"
        ]
    );
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["access_key_id"] == key)
    );

    let none = ctaudit(&["trace", "--logs", "sample-logs", "--repo", "nobody/nothing"]);
    assert_eq!(none.code, 0);
    assert!(none.stderr.contains("no session or key matches"));
}

/// Two repositories' sessions on one role, at the same moment, with their
/// calls interleaved; and the same repository on another role.
#[test]
fn overlapping_sessions_on_a_shared_role_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let role = "arn:aws:iam::1:role/shared";
    let assume = |id: &str, t: &str, repo: &str, key: &str, role: &str| {
        format!(
            r#"{{"eventID":"{id}","eventTime":"{t}","eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com",
            "userIdentity":{{"type":"WebIdentityUser","userName":"repo:{repo}:ref:refs/heads/main"}},
            "requestParameters":{{"roleArn":"{role}"}},
            "responseElements":{{"credentials":{{"accessKeyId":"{key}","sessionToken":"T"}},
            "subjectFromWebIdentityToken":"repo:{repo}:ref:refs/heads/main","audience":"sts.amazonaws.com"}}}}"#
        )
    };
    let call = |id: &str, t: &str, key: &str| {
        format!(
            r#"{{"eventID":"{id}","eventTime":"{t}","eventName":"PutObject","eventSource":"s3.amazonaws.com",
            "userIdentity":{{"type":"AssumedRole","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"arn":"{role}"}}}}}}}}"#
        )
    };
    let lines = [
        assume("a0", "2026-11-16T10:00:00Z", "acme/api", "ASIAAAA", role),
        assume("b0", "2026-11-16T10:00:00Z", "acme/web", "ASIABBB", role),
        call("a1", "2026-11-16T10:00:01Z", "ASIAAAA"),
        call("b1", "2026-11-16T10:00:01Z", "ASIABBB"),
        call("a2", "2026-11-16T10:00:02Z", "ASIAAAA"),
        call("b2", "2026-11-16T10:00:03Z", "ASIABBB"),
        assume(
            "c0",
            "2026-11-16T10:00:04Z",
            "acme/api",
            "ASIACCC",
            "arn:aws:iam::1:role/other",
        ),
        call("c1", "2026-11-16T10:00:05Z", "ASIACCC"),
        call("x1", "2026-11-16T10:00:05Z", "ASIAUNKNOWN"),
    ];
    let file = dir.path().join("trail.jsonl");
    std::fs::write(
        &file,
        lines
            .iter()
            .map(|l| l.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["trace", "--logs", path_str(&file), "--format", "json"];
        all.extend(args);
        ids(&ctaudit(&all))
    };
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        run(&["--repo", "acme/api"]),
        set(&["a0", "a1", "a2", "c0", "c1"])
    );
    assert_eq!(run(&["--repo", "acme/web"]), set(&["b0", "b1", "b2"]));
    assert_eq!(
        run(&["--role", role]),
        set(&["a0", "a1", "a2", "b0", "b1", "b2"])
    );
    assert_eq!(
        run(&["--subject", "repo:acme/*:ref:refs/heads/main"]).len(),
        8
    );
    assert_eq!(
        run(&["--subject", "repo:acme/w*"]),
        set(&["b0", "b1", "b2"])
    );

    // The attribution columns are there for queries too.
    let q = ctaudit(&[
        "query",
        "--logs",
        path_str(&file),
        "SELECT event_id, via_repository FROM events WHERE event_name = 'PutObject' ORDER BY event_id",
        "--format",
        "csv",
    ]);
    assert_eq!(
        q.stdout,
        "event_id,via_repository\na1,acme/api\na2,acme/api\nb1,acme/web\nb2,acme/web\nc1,acme/api\nx1,\n"
    );
}

#[test]
fn duckdb_opens_the_store_as_it_is() {
    if !common::python_has("duckdb_opens_the_store_as_it_is", "duckdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    ingest(dir.path());
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "import duckdb; print(duckdb.execute(\"SELECT count(*), count(DISTINCT event_id) FROM read_parquet('{}/events/*/*.parquet')\").fetchone())",
                dir.path().display()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "(215, 215)",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Regression: `query --store` with a window dropped events without a usable
/// time, while `--logs` (and `report --store`) kept them.
#[test]
fn a_window_keeps_untimed_events_from_the_store_as_from_logs() {
    let dir = tempfile::tempdir().unwrap();
    let trail = "tests/fixtures/second_trail";
    let run = ctaudit(&["ingest", "--logs", trail, "--store", path_str(dir.path())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sql = "SELECT COUNT(*) AS n FROM events WHERE event_time IS NULL";
    for source in [vec!["--store", path_str(dir.path())], vec!["--logs", trail]] {
        let mut args = vec!["query", sql, "--since", "2026-11-01", "--format", "json"];
        args.extend(&source);
        let q = ctaudit(&args);
        assert_eq!(json(&q)[0]["n"], 2, "{source:?}: {}", q.stderr);
    }
}
