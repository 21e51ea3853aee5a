//! `--s3`: the real S3 client against moto's S3 server on loopback, with
//! the requests it saw recorded. The same trail read from disk, from S3 and
//! from the (fake, loopback) CloudTrail API must give the same findings.

use crate::common;

use std::collections::BTreeSet;

use common::fake_aws::FakeAws;
use common::moto::Moto;
use common::{SAMPLE_WINDOW, aws_env, ctaudit_env, findings, json, load_trail, root};

const BUCKET: &str = "acme-trail";

fn s3_env(moto: &Moto) -> Vec<(&'static str, String)> {
    let mut env = aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    env
}

/// A moto with the sample trail in a bucket, or `None` (skipped).
fn moto_with_sample(test: &str) -> Option<Moto> {
    let moto = Moto::start(test)?;
    moto.upload_dir(BUCKET, &root().join("sample-logs"));
    moto.reset_recording();
    Some(moto)
}

#[test]
fn disk_s3_and_api_give_identical_findings() {
    let Some(moto) = moto_with_sample("disk_s3_and_api_give_identical_findings") else {
        return;
    };
    let fake = FakeAws::start(&load_trail(&root().join("sample-logs")), &[], &[]);
    let window = SAMPLE_WINDOW;
    let report = [
        &[
            "report",
            "--policy",
            "sample-logs/policy.toml",
            "--format",
            "json",
        ][..],
        &window,
    ]
    .concat();

    let disk = ctaudit_env(&[&report[..], &["--logs", "sample-logs"]].concat(), &[]);
    let s3 = ctaudit_env(
        &[&report[..], &["--s3", "s3://acme-trail/"]].concat(),
        &s3_env(&moto),
    );
    let mut api_env = aws_env(&fake.url());
    api_env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    let api = ctaudit_env(
        &[&report[..], &["--api", "--all-regions"]].concat(),
        &api_env,
    );

    assert_eq!(disk.code, 1, "{}", disk.stderr);
    assert_eq!(s3.code, 1, "{}", s3.stderr);
    assert_eq!(api.code, 1, "{}", api.stderr);
    assert_eq!(findings(&s3), findings(&disk));
    assert_eq!(findings(&api), findings(&disk));

    // From S3 every record was read, as from disk.
    let (d, s) = (json(&disk), json(&s3));
    for field in ["events_read", "events_kept", "events_skipped", "files_read"] {
        assert_eq!(s["input"][field], d["input"][field], "{field}");
    }
    let listing = &s["input"]["s3"][0];
    assert_eq!(listing["objects"], d["input"]["files_read"]);
    assert_eq!(
        listing["accounts"],
        serde_json::json!(["111122223333", "444455556666"])
    );
    assert_eq!(
        listing["regions"],
        serde_json::json!(["eu-central-1", "us-east-1"])
    );
    // Digests are never listed, let alone fetched.
    assert!(
        moto.seen()
            .iter()
            .all(|r| !r.path.contains("CloudTrail-Digest")
                && !r.listed_prefix().is_some_and(|p| p.contains("Digest")))
    );
}

/// The prefixes ctaudit listed.
fn listed(moto: &Moto) -> BTreeSet<String> {
    moto.seen()
        .iter()
        .filter_map(|r| r.listed_prefix().map(str::to_string))
        .collect()
}

#[test]
fn listing_follows_the_window_day_by_day() {
    let Some(moto) = moto_with_sample("listing_follows_the_window_day_by_day") else {
        return;
    };
    let env = s3_env(&moto);
    let one_day = [
        "--since",
        "2026-11-17",
        "--until",
        "2026-11-17",
        "--now",
        "2026-11-23T00:00:00Z",
    ];
    let run = ctaudit_env(
        &[
            &["report", "--s3", "s3://acme-trail", "--format", "json"][..],
            &one_day,
        ]
        .concat(),
        &env,
    );
    assert!(run.code <= 1, "{}", run.stderr);
    let a = "AWSLogs/111122223333/CloudTrail";
    let b = "AWSLogs/444455556666/CloudTrail";
    let expected: BTreeSet<String> = [
        "".to_string(),
        "AWSLogs/".to_string(),
        format!("{a}/"),
        format!("{b}/"),
        // The day, and the next for files delivered after midnight.
        format!("{a}/us-east-1/2026/11/17/"),
        format!("{a}/us-east-1/2026/11/18/"),
        format!("{a}/eu-central-1/2026/11/17/"),
        format!("{a}/eu-central-1/2026/11/18/"),
        format!("{b}/us-east-1/2026/11/17/"),
        format!("{b}/us-east-1/2026/11/18/"),
    ]
    .into_iter()
    .collect();
    assert_eq!(listed(&moto), expected);
    // Only objects of those days were fetched.
    let fetched: Vec<String> = moto
        .seen()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.listed_prefix().is_none() && r.path.ends_with(".json.gz")
        })
        .map(|r| r.path.clone())
        .collect();
    assert!(!fetched.is_empty());
    assert!(
        fetched
            .iter()
            .all(|p| p.contains("/2026/11/17/") || p.contains("/2026/11/18/")),
        "{fetched:?}"
    );
    // And the findings are those of the same window on disk.
    let disk = ctaudit_env(
        &[
            &["report", "--logs", "sample-logs", "--format", "json"][..],
            &one_day,
        ]
        .concat(),
        &[],
    );
    assert_eq!(findings(&run), findings(&disk));

    // --account and --region narrow the walk; a deeper prefix starts there.
    moto.reset_recording();
    let run = ctaudit_env(
        &[
            &[
                "report",
                "--s3",
                "s3://acme-trail/AWSLogs/",
                "--account",
                "111122223333",
                "--region",
                "eu-central-1",
            ][..],
            &one_day,
        ]
        .concat(),
        &env,
    );
    assert!(run.code <= 1, "{}", run.stderr);
    let expected: BTreeSet<String> = [
        "AWSLogs/".to_string(),
        format!("{a}/"),
        format!("{a}/eu-central-1/2026/11/17/"),
        format!("{a}/eu-central-1/2026/11/18/"),
    ]
    .into_iter()
    .collect();
    assert_eq!(listed(&moto), expected);
}

#[test]
fn without_a_start_the_date_folders_are_walked_and_pruned() {
    let Some(moto) = moto_with_sample("without_a_start_the_date_folders_are_walked_and_pruned")
    else {
        return;
    };
    let run = ctaudit_env(
        &[
            "report",
            "--s3",
            "s3://acme-trail/AWSLogs/111122223333/CloudTrail/us-east-1/",
            "--until",
            "2026-11-17",
        ],
        &s3_env(&moto),
    );
    assert!(run.code <= 1, "{}", run.stderr);
    let listed = listed(&moto);
    let days: Vec<&String> = listed
        .iter()
        .filter(|p| p.matches('/').count() == 7)
        .collect();
    assert!(!days.is_empty(), "{listed:?}");
    for day in days {
        let date = &day["AWSLogs/111122223333/CloudTrail/us-east-1/".len()..];
        assert!(
            date <= "2026/11/18/",
            "{day} is after the window and its delivery lag"
        );
    }
}

#[test]
fn a_missing_bucket_and_a_damaged_object_are_named_and_the_rest_goes_on() {
    let Some(moto) =
        moto_with_sample("a_missing_bucket_and_a_damaged_object_are_named_and_the_rest_goes_on")
    else {
        return;
    };
    let env = s3_env(&moto);
    let run = ctaudit_env(
        &["report", "--s3", "s3://no-such-bucket/", "--since", "2d"],
        &env,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bucket no-such-bucket does not exist"),
        "{}",
        run.stderr
    );

    // A truncated gzip among the good files of a day.
    let good = std::fs::read(
        root().join("sample-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/17/111122223333_CloudTrail_us-east-1_20261117T0915Z_865ca12c628d0903.json.gz"),
    )
    .unwrap();
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/17/111122223333_CloudTrail_us-east-1_20261117T2359Z_broken.json.gz";
    moto.put(
        BUCKET,
        &[(key.to_string(), good[..good.len() / 2].to_vec())],
    );
    let window = SAMPLE_WINDOW;
    let run = ctaudit_env(
        &[
            &[
                "report",
                "--s3",
                "s3://acme-trail/",
                "--s3",
                "s3://no-such-bucket/",
                "--format",
                "json",
            ][..],
            &window,
        ]
        .concat(),
        &env,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("s3://acme-trail/{key}: truncated gzip")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no-such-bucket"), "{}", run.stderr);
    let disk = ctaudit_env(
        &[
            &["report", "--logs", "sample-logs", "--format", "json"][..],
            &window,
        ]
        .concat(),
        &[],
    );
    assert_eq!(
        findings(&run),
        findings(&disk),
        "the good objects are all reported"
    );
}

#[test]
fn ingest_from_s3_fills_the_store_like_ingest_from_disk() {
    let Some(moto) = moto_with_sample("ingest_from_s3_fills_the_store_like_ingest_from_disk")
    else {
        return;
    };
    let (from_s3, from_disk) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s3_store = from_s3.path().to_str().unwrap();
    let disk_store = from_disk.path().to_str().unwrap();
    let run = ctaudit_env(
        &["ingest", "--s3", "s3://acme-trail/", "--store", s3_store],
        &s3_env(&moto),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = ctaudit_env(
        &["ingest", "--logs", "sample-logs", "--store", disk_store],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let q = "SELECT event_id, event_name, aws_region FROM events ORDER BY event_id";
    let a = ctaudit_env(&["query", "--store", s3_store, q, "--format", "csv"], &[]);
    let b = ctaudit_env(&["query", "--store", disk_store, q, "--format", "csv"], &[]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout.lines().count(), 216, "215 events and a header");
}

#[test]
fn with_a_state_only_new_day_folders_are_listed_and_new_objects_fetched() {
    let Some(moto) =
        Moto::start("with_a_state_only_new_day_folders_are_listed_and_new_objects_fetched")
    else {
        return;
    };
    let sample = root().join("sample-logs");
    let day_of = |key: &str| -> Option<u32> {
        let i = key.find("/2026/11/")?;
        key[i + 9..i + 11].parse().ok()
    };
    let objects = |keep: &dyn Fn(Option<u32>) -> bool| {
        let mut files = Vec::new();
        let mut stack = vec![sample.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let key = p
                    .strip_prefix(&sample)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                if keep(day_of(&key)) {
                    files.push((key, std::fs::read(&p).unwrap()));
                }
            }
        }
        files
    };
    moto.put(BUCKET, &objects(&|d| d.is_none_or(|d| d <= 19)));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let env = s3_env(&moto);
    let run = |now: &str| {
        ctaudit_env(
            &[
                "report",
                "--s3",
                "s3://acme-trail/",
                "--state",
                common::path_str(&state),
                "--format",
                "json",
                "--now",
                now,
            ],
            &env,
        )
    };
    let first = run("2026-11-20T06:00:00Z");
    assert!(first.code <= 1, "{}", first.stderr);

    moto.put(BUCKET, &objects(&|d| d == Some(20)));
    moto.reset_recording();
    let second = run("2026-11-21T06:00:00Z");
    assert!(second.code <= 1, "{}", second.stderr);
    let doc = json(&second);
    // Listed: from the day before the last listing on, nothing older.
    let days: BTreeSet<u32> = listed(&moto).iter().filter_map(|p| day_of(p)).collect();
    assert_eq!(
        days,
        [19, 20, 21].into_iter().collect(),
        "{:?}",
        listed(&moto)
    );
    // Fetched: the new day's objects only; the 19th's were read already.
    let fetched: Vec<String> = moto
        .seen()
        .iter()
        .filter(|r| r.method == "GET" && r.listed_prefix().is_none())
        .map(|r| r.path.clone())
        .collect();
    assert!(!fetched.is_empty());
    assert!(
        fetched.iter().all(|p| p.contains("/2026/11/20/")),
        "{fetched:?}"
    );
    assert_eq!(doc["input"]["files_read"], fetched.len() as u64);
    assert!(
        doc["input"]["files_skipped"]["already-read"]
            .as_u64()
            .unwrap()
            > 0
    );
    // And the new day's new subjects are reported, as from disk.
    let disk_dir = tempfile::tempdir().unwrap();
    let disk_state = disk_dir.path().join("state.json");
    let trail = disk_dir.path().join("trail");
    for (key, body) in objects(&|d| d.is_none_or(|d| d <= 19)) {
        let p = trail.join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let disk = |logs: &std::path::Path| {
        ctaudit_env(
            &[
                "report",
                "--logs",
                common::path_str(logs),
                "--state",
                common::path_str(&disk_state),
                "--format",
                "json",
            ],
            &[],
        )
    };
    disk(&trail);
    for (key, body) in objects(&|d| d == Some(20)) {
        let p = trail.join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let from_disk = json(&disk(&trail));
    let new_subjects = |d: &serde_json::Value| -> Vec<serde_json::Value> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["report"] == "new-subjects")
            .cloned()
            .collect()
    };
    assert!(!new_subjects(&doc).is_empty());
    assert_eq!(new_subjects(&doc), new_subjects(&from_disk));
}
