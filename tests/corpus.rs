//! Every file of the real CloudTrail corpus (../shared/corpus/real, see its
//! PROVENANCE.md) ingests: the event count per folder is exact, the two
//! deliberately malformed files are named, and the few real OIDC and AKIA
//! shapes come out right.

use crate::common;

use std::collections::BTreeMap;

use ctaudit::frame::col;
use ctaudit::ingest::summary::{FailReason, SkipRecord};
use ctaudit::ingest::{IngestOptions, ingest_paths};
use ctaudit::time::Window;
use polars::prelude::*;

fn ingest_all(path: std::path::PathBuf) -> ctaudit::ingest::Ingested {
    ingest_paths(&[path], &IngestOptions::everything(Window::default())).expect("ingest")
}

#[test]
fn every_folder_ingests_with_its_event_count() {
    let Some(corpus) = common::real_corpus("every_folder_ingests_with_its_event_count") else {
        return;
    };
    // PROVENANCE.md's counts; cloudtrail2sightings adds the one record read
    // before the damage in its malformed file.
    let expected: BTreeMap<&str, u64> = [
        ("aws-cloudtrail-processing-library", 41),
        ("awsdocs-cloudtrail-user-guide", 25),
        ("awsdocs-iam-user-guide", 7),
        ("cloud-snitch", 24),
        ("cloudtrail2sightings", 12 + 1),
        ("cribl-aws-cloudtrail-logs", 205),
        ("elastic-beats", 1),
        ("elastic-integrations", 6),
        ("invictus-aws-dataset", 2900),
        ("panther-analysis", 463),
        ("stratus-red-team", 310),
    ]
    .into_iter()
    .collect();
    let mut total = 0;
    for (folder, events) in &expected {
        let got = ingest_all(corpus.join(folder));
        let s = &got.summary;
        assert_eq!(s.events_read, *events, "{folder}: events read");
        // Every record read is kept or skipped with a reason.
        let skipped: u64 = s.events_skipped.values().sum();
        assert_eq!(s.events_kept + skipped, s.events_read, "{folder}: {s:?}");
        assert_eq!(got.frame.height() as u64, s.events_kept, "{folder}");
        total += s.events_read;
        // Repeats only in hand-made folders: AWS's fixture set holds copies
        // of one file, the docs repeat examples, Panther repeats test events.
        // The real captures have none.
        let dups = match *folder {
            "aws-cloudtrail-processing-library" => 29,
            "awsdocs-cloudtrail-user-guide" => 2,
            "panther-analysis" => 60,
            _ => 0,
        };
        assert_eq!(
            s.events_skipped
                .get(&SkipRecord::Duplicate)
                .copied()
                .unwrap_or(0),
            dups,
            "{folder}"
        );
    }
    assert_eq!(total, 3994 + 1);
}

#[test]
fn the_two_malformed_files_are_named_and_the_rest_counted() {
    let Some(corpus) =
        common::real_corpus("the_two_malformed_files_are_named_and_the_rest_counted")
    else {
        return;
    };
    let got = ingest_all(corpus.clone());
    let s = &got.summary;
    let failed: Vec<(String, FailReason)> = s
        .files_failed
        .iter()
        .map(|f| {
            (
                f.path
                    .strip_prefix(corpus.to_str().unwrap())
                    .unwrap()
                    .to_string(),
                f.reason,
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "/aws-cloudtrail-processing-library/SerializerTestFileBadJsonFormat.json"
                    .to_string(),
                FailReason::InvalidJson
            ),
            (
                "/cloudtrail2sightings/aws.execution.ec2-user-data.json".to_string(),
                FailReason::InvalidJson
            ),
        ]
    );
    assert!(
        s.files_failed[1]
            .detail
            .starts_with("record 1, line 112 column 1"),
        "{}",
        s.files_failed[1].detail
    );
    assert_eq!(s.files_failed[1].events_before_damage, 1);
    assert_eq!(s.files_read, 122);
    assert_eq!(
        s.files_skipped.values().sum::<u64>(),
        3 + 1,
        "3 digest files and PROVENANCE.md: {s:?}"
    );
    // "ThisIsAWrongEventTime", null times and the missing ones are kept without a time.
    assert!(s.events_without_time >= 20, "{}", s.events_without_time);
}

#[test]
fn long_lived_keys_and_the_real_oidc_event() {
    let Some(corpus) = common::real_corpus("long_lived_keys_and_the_real_oidc_event") else {
        return;
    };
    let got = ingest_all(corpus);
    let df = got.frame;
    let akia = df
        .column(col::ACCESS_KEY_ID)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|k| k.is_some_and(|k| k.starts_with("AKIA")))
        .count();
    // PROVENANCE: 2,487 with `accessKeyId`, plus one spelled `accesKeyId`,
    // less 3 Panther test variants that repeat an event's id, time, name,
    // identity, key, source IP and user agent (they differ only in payloads).
    assert_eq!(akia, 2487 + 1 - 3);
    // The per-folder repeats, and 3 events that two folders both carry.
    assert_eq!(
        got.summary.events_skipped.get(&SkipRecord::Duplicate),
        Some(&(29 + 2 + 60 + 3))
    );
    let oidc = df
        .clone()
        .lazy()
        .filter(col(col::EVENT_NAME).eq(lit("AssumeRoleWithWebIdentity")))
        .collect()
        .unwrap();
    assert_eq!(oidc.height(), 1);
    let get = |c: &str| {
        oidc.column(c)
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::to_string)
    };
    assert_eq!(
        get(col::SUBJECT).as_deref(),
        Some("repo:ccbrown/cloud-snitch:ref:refs/heads/main")
    );
    assert_eq!(
        get(col::GH_REPOSITORY).as_deref(),
        Some("ccbrown/cloud-snitch")
    );
    assert_eq!(get(col::GH_REF_TYPE).as_deref(), Some("branch"));
    assert_eq!(get(col::AUDIENCE).as_deref(), Some("sts.amazonaws.com"));
    assert_eq!(
        get(col::ISSUED_ACCESS_KEY_ID).as_deref(),
        Some("ASIA3ISBVQKHJOCMRQJH")
    );
    assert!(
        get(col::ROLE_ARN)
            .unwrap()
            .starts_with("arn:aws:iam::774305579662:role/cloud-snitch-github-actio")
    );
}

#[test]
fn the_cli_reports_the_corpus_and_exits_2() {
    let Some(corpus) = common::real_corpus("the_cli_reports_the_corpus_and_exits_2") else {
        return;
    };
    let run = common::ctaudit(&[
        "report",
        "--logs",
        common::path_str(&corpus),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 2, "damaged files make the status 2");
    assert!(
        run.stderr
            .contains("SerializerTestFileBadJsonFormat.json: invalid JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("aws.execution.ec2-user-data.json: invalid JSON"),
        "{}",
        run.stderr
    );
    let v = common::json(&run);
    assert_eq!(v["summary"]["failures"], 0);
    assert_eq!(v["summary"]["iam-user-keys"], 2485);
}
