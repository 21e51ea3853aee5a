//! Compaction: the part files that many small ingests leave, merged into
//! one a day, atomically, without changing any answer the store gives.

use crate::common;

use std::path::Path;

use common::{QUERY_PARAMS, ctaudit, ingest_logs, json, path_str};

/// Every day's parts in ten ingests of a tenth of the files each.
fn ingest_in_tenths(store: &Path) -> common::Run {
    let files = common::sample_log_files();
    let mut last = None;
    for k in 0..10 {
        let mine: Vec<&str> = files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 10 == k)
            .map(|(_, p)| path_str(p))
            .collect();
        last = Some(ingest_logs(&mine, store));
    }
    last.unwrap()
}

fn part_count(table: &Path) -> usize {
    let mut n = 0;
    for day in std::fs::read_dir(table).unwrap() {
        let day = day.unwrap().path();
        n += std::fs::read_dir(day)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "parquet")
            })
            .count();
    }
    n
}

/// What an investigator asks of a store: every named query, a trace, the
/// reports, and the sessions table.
fn answers(store: &Path) -> Vec<String> {
    let st = path_str(store);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(common::root().join("queries")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let query = ["query", "--store", st, &name, "--format", "csv"];
        let run = ctaudit(&[&query[..], &QUERY_PARAMS].concat());
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        out.push(format!("{name}\n{}", run.stdout));
    }
    // The findings (the input section counts part files read).
    let mut report = json(&ctaudit(&["report", "--store", st, "--format", "json"]));
    report.as_object_mut().unwrap().remove("input");
    out.push(serde_json::to_string_pretty(&report).unwrap());
    for args in [
        vec![
            "trace", "--store", st, "--repo", "acme/api", "--format", "csv",
        ],
        vec![
            "query",
            "--store",
            st,
            "SELECT * FROM sessions ORDER BY issued_access_key_id, session_start",
            "--format",
            "csv",
        ],
        vec![
            "query",
            "--store",
            st,
            "SELECT * EXCLUDE (source_file) FROM events ORDER BY event_time, event_id",
            "--format",
            "csv",
        ],
    ] {
        let run = ctaudit(&args);
        assert!(run.code <= 1, "{args:?}: {}", run.stderr);
        out.push(run.stdout);
    }
    out
}

#[test]
fn compaction_merges_each_day_and_changes_no_answer() {
    let (many, one) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let last = ingest_in_tenths(many.path());
    ingest_logs(&["sample-logs"], one.path());
    let days = std::fs::read_dir(many.path().join("events"))
        .unwrap()
        .count();
    assert!(part_count(&many.path().join("events")) > 8 * days / 2);
    // Ingest says when days hold many parts.
    assert!(
        last.stderr.contains("ctaudit compact --store"),
        "{}",
        last.stderr
    );
    let before = answers(many.path());
    let run = ctaudit(&["compact", "--store", path_str(many.path())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("215 events"), "{}", run.stdout);
    assert_eq!(part_count(&many.path().join("events")), days);
    assert_eq!(part_count(&many.path().join("sessions")), days);
    let after = answers(many.path());
    same(&before, &after, "before and after compaction");
    // The same as one ingest of everything.
    same(
        &after,
        &answers(one.path()),
        "ten ingests compacted, and one",
    );
    // Nothing to merge the second time; the next ingest adds nothing and
    // no longer suggests compacting.
    let again = ctaudit(&["compact", "--store", path_str(many.path())]);
    assert!(
        again.stdout.contains("0 days compacted"),
        "{}",
        again.stdout
    );
    let next = ingest_logs(&["sample-logs", "--reread"], many.path());
    assert!(next.stdout.contains("0 events added, 215 already stored"));
    assert!(!next.stderr.contains("compact"), "{}", next.stderr);
}

/// Fails naming the first line where two lists of answers differ.
fn same(a: &[String], b: &[String], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        for (n, (l, r)) in x.lines().zip(y.lines()).enumerate() {
            assert_eq!(l, r, "{what}: line {n} of\n{}", &x[..x.len().min(300)]);
        }
        assert_eq!(x.lines().count(), y.lines().count(), "{what}");
    }
}

/// A compaction that stopped half way left a day's merged copy in a hidden
/// folder: readers never count it, and the next writer removes it.
#[test]
fn an_interrupted_compaction_is_invisible_and_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    ingest_logs(&["sample-logs"], dir.path());
    let day = dir.path().join("events/date=2026-11-17");
    let leftover = dir.path().join("events/.date=2026-11-17.tmp");
    std::fs::create_dir(&leftover).unwrap();
    std::fs::copy(
        day.join("part-00000.parquet"),
        leftover.join("part-00001.parquet"),
    )
    .unwrap();
    let count = || {
        ctaudit(&[
            "query",
            "--store",
            path_str(dir.path()),
            "SELECT count(*) AS n FROM events",
            "--format",
            "csv",
        ])
        .stdout
    };
    assert_eq!(count(), "n\n215\n");
    let run = ctaudit(&["compact", "--store", path_str(dir.path())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!leftover.exists());
    assert_eq!(count(), "n\n215\n");
}

#[test]
fn compact_names_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let run = ctaudit(&["compact", "--store", path_str(&dir.path().join("nope"))]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a ctaudit store"),
        "{}",
        run.stderr
    );
}
