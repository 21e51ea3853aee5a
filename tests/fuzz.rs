//! Bounded fuzzing on stable Rust (proptest), run by `cargo test` in CI:
//! the container and record reader, the policy parser, the subject parser,
//! the wildcard matcher and the redactor, on inputs mutated from the
//! bundled sample trail and the real corpus (where it sits beside the
//! clone). Nothing may panic or abort, every record must be counted, and
//! `report`'s reading (skimming) must keep exactly what a full parse keeps.
//!
//! `PROPTEST_CASES=20000 cargo test --test integration fuzz::` runs
//! longer (CI runs 256 cases); a failure prints the shrunk input and is
//! saved for replay by proptest in `tests/fuzz.proptest-regressions`.

use crate::common;

use std::io::Read;
use std::sync::LazyLock;

use ctaudit::frame::col;
use ctaudit::ingest::summary::InputSummary;
use ctaudit::ingest::{Blob, IngestOptions, RowFilter, ingest_blobs};
use ctaudit::policy::{Pattern, Policy};
use ctaudit::redact::{REDACTED, redact_json};
use ctaudit::time::Window;
use polars::prelude::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Seed files, decompressed: the sample trail and up to 40 files of the
/// real corpus.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut seeds = Vec::new();
    let mut dirs = vec![common::root().join("sample-logs/AWSLogs")];
    if let Some(real) = common::real_corpus("fuzz seeds from the real corpus") {
        dirs.push(real);
    }
    for dir in dirs {
        let mut stack = vec![dir];
        let mut taken = 0;
        while let Some(d) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    stack.push(p);
                } else if taken < 40 {
                    let name = p.to_string_lossy().to_string();
                    let raw = std::fs::read(&p).unwrap();
                    let bytes = if name.ends_with(".gz") {
                        let mut out = Vec::new();
                        flate2::read::MultiGzDecoder::new(&raw[..])
                            .read_to_end(&mut out)
                            .map(|_| out)
                            .unwrap_or(raw)
                    } else if name.ends_with(".json") || name.ends_with(".jsonl") {
                        raw
                    } else {
                        continue;
                    };
                    if bytes.len() < 200_000 {
                        seeds.push(bytes);
                        taken += 1;
                    }
                }
            }
        }
    }
    assert!(!seeds.is_empty());
    seeds
});

/// One change to a seed. Inserted bytes favour what breaks JSON readers:
/// quotes, backslashes, escapes, surrogates, BOMs, controls, brackets.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let piece = prop_oneof![
        Just(b"\\udc00".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(b"\\u0041".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
        Just(b"\x1b[2J".to_vec()),
        Just(b"{\"Records\":[".to_vec()),
        Just(b"]}".to_vec()),
        Just(b"[[[[[[[[".to_vec()),
        Just(b"\"AKIA".to_vec()),
        Just(b"AssumeRoleWithWebIdentity".to_vec()),
        Just(b"\"eventTime\":\"2026-11-17T10:00:00Z\",".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), piece).prop_map(|(i, p)| Mutation::Insert(i, p)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..512).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(i, x) if !b.is_empty() => b[i % len] ^= x | 1,
            Mutation::Insert(i, p) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, p.iter().copied());
            }
            Mutation::Delete(i, n) if !b.is_empty() => {
                let at = i % len;
                b.drain(at..(at + n).min(b.len()));
            }
            Mutation::Duplicate(i, n) if !b.is_empty() => {
                let at = i % len;
                let piece = b[at..(at + n).min(b.len())].to_vec();
                b.splice(at..at, piece);
            }
            Mutation::Truncate(i) => b.truncate(i % len),
            _ => {}
        }
    }
    b
}

fn read(bytes: Vec<u8>, gzip: bool, opts: &IngestOptions) -> (DataFrame, InputSummary) {
    let bytes = if gzip {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&bytes).unwrap();
        e.finish().unwrap()
    } else {
        bytes
    };
    let blob = Blob {
        name: "fuzz.json".into(),
        size: bytes.len() as u64,
        bytes: Ok(bytes),
    };
    let got = ingest_blobs(std::iter::once(blob), opts).expect("a frame, whatever the input");
    (got.frame, got.summary)
}

/// Every record read is kept or skipped with a reason.
fn counted(s: &InputSummary, frame: &DataFrame) {
    let skipped: u64 = s.events_skipped.values().sum();
    assert_eq!(s.events_kept + skipped, s.events_read, "{s:?}");
    assert_eq!(frame.height() as u64, s.events_kept);
}

/// Rows of a full parse that `report`'s filter keeps.
fn wanted_rows(frame: &DataFrame) -> usize {
    let names = frame.column(col::EVENT_NAME).unwrap().str().unwrap();
    let keys = frame.column(col::ACCESS_KEY_ID).unwrap().str().unwrap();
    names
        .iter()
        .zip(keys.iter())
        .filter(|(n, k)| {
            *n == Some("AssumeRoleWithWebIdentity")
                || k.is_some_and(|k| k.starts_with("AKIA"))
                || n.is_some_and(|n| ctaudit::ingest::TRUST_CHANGE_EVENTS.contains(&n))
        })
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(256)))]

    #[test]
    fn the_reader_counts_every_record_and_report_agrees_with_ingest(
        seed in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 0..6),
        gzip in any::<bool>(),
    ) {
        let seed = seed.get(&SEEDS);
        let bytes = apply(seed, &mutations);
        let everything = IngestOptions::everything(Window::default());
        let report = IngestOptions {
            filter: RowFilter { web_identity: true, long_lived_keys: true, trust_changes: true, all: false },
            payloads: false,
            ..everything
        };
        let (full, s_full) = read(bytes.clone(), gzip, &everything);
        let (kept, s_kept) = read(bytes, gzip, &report);
        counted(&s_full, &full);
        counted(&s_kept, &kept);
        prop_assert_eq!(s_full.events_read, s_kept.events_read);
        prop_assert_eq!(s_full.files_failed.len(), s_kept.files_failed.len());
        prop_assert_eq!(wanted_rows(&full), kept.height());
    }

    #[test]
    fn the_policy_parser_never_panics(
        mutations in proptest::collection::vec(mutation(), 0..8),
        text in "\\PC{0,200}",
    ) {
        let sample = std::fs::read(common::root().join("sample-logs/policy.toml")).unwrap();
        let mutated = apply(&sample, &mutations);
        let _ = Policy::parse(&String::from_utf8_lossy(&mutated));
        let _ = Policy::parse(&text);
    }

    #[test]
    fn the_subject_parser_never_panics(subject in "\\PC{0,120}", provider in "\\PC{0,60}") {
        for s in [subject.as_str(), &format!("repo:{subject}"), &format!("repo:a/b:{subject}")] {
            let _ = ctaudit::frame::subject::parse_github_subject(s, None);
            let _ = ctaudit::frame::subject::parse_github_subject(s, Some(&provider));
            let _ = ctaudit::frame::subject::split_web_identity_principal(s);
        }
    }

    /// The wildcard matcher agrees with a plain dynamic-programming one.
    #[test]
    fn wildcards_match_like_the_reference(pattern in "[ab*?]{0,12}", text in "[abé]{0,16}") {
        prop_assert_eq!(Pattern::new(pattern.clone()).matches(&text), reference_match(&pattern, &text));
    }

    /// Secrets planted anywhere in arbitrary JSON never survive; the
    /// output is JSON; other strings are kept.
    #[test]
    fn the_redactor_removes_every_planted_secret(value in json_value(), depth in 0usize..200) {
        let mut v = value;
        for _ in 0..depth {
            v = json!({ "n": v });
        }
        let text = serde_json::to_string(&json!({"payload": v, "password": "PLANTED-1",
            "x": [{"name": "api_key", "value": "PLANTED-2"}],
            "s": serde_json::to_string(&json!({"sessionToken": "PLANTED-3"})).unwrap()})).unwrap();
        let out = redact_json(&text).expect("well-formed JSON is redacted");
        prop_assert!(!out.contains("PLANTED"), "{}", out);
        prop_assert!(out.contains(REDACTED));
        // Redacting is idempotent, and (where serde_json's depth allows)
        // the output is JSON.
        let again = redact_json(&out);
        prop_assert_eq!(again.as_ref(), Ok(&out));
        if depth < 100 {
            let _: Value = serde_json::from_str(&out).expect("the output is JSON");
        }
    }

    #[test]
    fn the_redactor_never_panics_on_text(text in "\\PC{0,300}") {
        if let Ok(out) = redact_json(&text) {
            let _: Value = serde_json::from_str(&out).expect("the output is JSON");
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `*` any run, `?` one character, by dynamic programming over characters.
fn reference_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let mut dp = vec![vec![false; t.len() + 1]; p.len() + 1];
    dp[0][0] = true;
    for i in 1..=p.len() {
        dp[i][0] = dp[i - 1][0] && p[i - 1] == '*';
        for j in 1..=t.len() {
            dp[i][j] = match p[i - 1] {
                '*' => dp[i - 1][j] || dp[i][j - 1],
                '?' => dp[i - 1][j - 1],
                c => dp[i - 1][j - 1] && c == t[j - 1],
            };
        }
    }
    dp[p.len()][t.len()]
}
