//! The record scanner (`src/ingest/scan`) against serde_json, the reader it
//! replaces for `Records` files: on generated, mutated and real files, a
//! text the scanner accepts is one serde_json accepts with the same
//! elements, a text serde_json rejects the scanner rejects, and the usual
//! CloudTrail file is accepted (every file of the benchmark's generator,
//! both mixes). Then whole runs with the scanner (`CTAUDIT_SCAN=simd`) and
//! with serde alone (`CTAUDIT_SCAN=serde`) give the same findings and
//! counts, on the sample, the real corpus and generated trails.

use crate::common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{ctaudit_env, json, path_str, real_corpus};
use ctaudit::ingest::scan::{self, Mark, MarkSet};
use proptest::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;

/// What serde_json makes of a lone `{"Records":[…]}` object: its elements'
/// texts, or an error.
fn serde_records(text: &str) -> Result<Vec<&str>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Top<'a> {
        #[serde(rename = "Records", borrow)]
        records: Vec<&'a RawValue>,
    }
    serde_json::from_str::<Top>(text).map(|t| t.records.into_iter().map(RawValue::get).collect())
}

/// Whether well-formed JSON text holds a `\u` escape, read a byte at a
/// time: a backslash and the byte it escapes go together.
fn has_unicode_escape(text: &str) -> bool {
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\' && bytes.next() == Some(b'u') {
            return true;
        }
    }
    false
}

/// Whether a well-formed element holds, as a key or a string value, one
/// that starts `AKIA` and one that is `AssumeRoleWithWebIdentity` as
/// written (what the skim must never miss when nothing is escaped), read a
/// byte at a time: a quote outside a string opens one, a backslash and the
/// byte it escapes go together.
fn names_kept(element: &str) -> (bool, bool) {
    let bytes = element.as_bytes();
    let (mut found, mut in_string, mut i) = ((false, false), false, 0);
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1,
            (true, b'"') => in_string = false,
            (false, b'"') => {
                in_string = true;
                let rest = &bytes[i + 1..];
                found.0 |= rest.starts_with(b"AKIA");
                found.1 |= rest.starts_with(b"AssumeRoleWithWebIdentity\"");
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The scanner's verdict must never contradict serde's, and every
/// implementation this processor has gives the same answer.
fn agree(text: &str) -> Result<(), TestCaseError> {
    let scanned = scan::records(text);
    for kind in scan::Kind::available() {
        prop_assert_eq!(
            &scan::records_by(kind, text),
            &scanned,
            "{:?} differs on {:?}",
            kind,
            text
        );
    }
    let reference = serde_records(text);
    match (&scanned, &reference) {
        (Ok(scanned), Ok(elements)) => {
            let got: Vec<&str> = scanned.elements.iter().map(|r| &text[r.clone()]).collect();
            prop_assert_eq!(&got, elements, "different elements in {:?}", text);
            // The skim trusts these marks: every record that may spell a
            // name in `\u` escapes, and every one holding a name a report
            // keeps, goes to the parser.
            let marks: Vec<MarkSet> = scanned.elements_with_marks().map(|(_, m)| m).collect();
            for (element, marks) in elements.iter().zip(marks) {
                let escaped = has_unicode_escape(element);
                prop_assert_eq!(
                    marks.contains(Mark::UnicodeEscape),
                    escaped,
                    "`\\u` escapes misplaced in {:?}",
                    text
                );
                let (key, web_identity) = names_kept(element);
                // Without escapes the raw text is the decoded text; with
                // them, the escape mark alone sends the record to the parser.
                if !escaped {
                    prop_assert_eq!(
                        (
                            marks.contains(Mark::LongLivedKey),
                            marks.contains(Mark::WebIdentity)
                        ),
                        (key, web_identity),
                        "names misplaced in {:?} of {:?}",
                        element,
                        text
                    );
                }
            }
        }
        (Ok(_), Err(e)) => {
            prop_assert!(false, "scanner accepted what serde rejects ({e}): {text:?}")
        }
        (Err(scan::Refused::Invalid), Ok(_)) => {
            prop_assert!(false, "scanner rejected what serde accepts: {text:?}")
        }
        _ => {}
    }
    Ok(())
}

/// A JSON value with the strings an attacker or a damaged trail brings:
/// quotes, backslashes, control characters, escapes, non-ASCII.
fn value() -> impl Strategy<Value = Value> {
    let text = proptest::string::string_regex(
        r#"(AKIA|AssumeRoleWithWebIdentity|[a-z0-9 A]|["\\/]|\\u00e9|\\u0041|[\x00-\x1f]|é|\u{1F600}){0,24}"#,
    )
    .unwrap();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        text.prop_map(Value::String),
        Just(Value::from("AssumeRoleWithWebIdentity")),
    ];
    leaf.prop_recursive(6, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("(AKIA|[a-zA-Z\"\\\\]){1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A `Records` file of object records, compact or pretty-printed.
fn records_file() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop::collection::btree_map("[a-zA-Z]{1,10}", value(), 0..8),
            0..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(records, pretty)| {
            let records: Vec<Value> = records
                .into_iter()
                .map(|m| Value::Object(m.into_iter().collect()))
                .collect();
            let doc = serde_json::json!({ "Records": records });
            if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            }
        })
}

/// Damage: bytes cut off, inserted, deleted or replaced.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop::sample::select(b"\"\\{}[]:, \n\t\x01ae0-.+E/u".to_vec());
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Replace(at, b)),
    ]
}

fn mutate(text: &str, m: &Mutation) -> String {
    let mut b = text.as_bytes().to_vec();
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *m {
        Mutation::Truncate(i) => b.truncate(at(i, b.len())),
        Mutation::Insert(i, c) => b.insert(at(i, b.len() + 1), c),
        Mutation::Delete(i) if !b.is_empty() => {
            b.remove(at(i, b.len()));
        }
        Mutation::Replace(i, c) if !b.is_empty() => {
            let i = at(i, b.len());
            b[i] = c;
        }
        _ => {}
    }
    // A mutation inside a multi-byte character is invalid UTF-8, which
    // never reaches the scanner (the UTF-8 check sends it to serde).
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(512)))]

    #[test]
    fn generated_files_are_read_alike(text in records_file()) {
        agree(&text)?;
        // The usual file is the scanner's, not left to serde.
        prop_assert!(scan::records(&text).is_ok(), "refused {:?}", text);
    }

    #[test]
    fn damaged_files_are_judged_alike(text in records_file(), ms in prop::collection::vec(mutation(), 1..4)) {
        let mut t = text;
        for m in &ms {
            t = mutate(&t, m);
        }
        agree(&t)?;
    }

    /// Backslash and quote runs placed at every offset around the 64-byte
    /// blocks, and deep nesting.
    #[test]
    fn escapes_at_block_edges_and_deep_nesting(pad in 0usize..200, run in 0usize..7, depth in 0usize..300) {
        let text = format!(
            r#"{{"Records":[{{"k":"{}{}\"","n":{}1{}}}]}}"#,
            "x".repeat(pad), "\\".repeat(run), "[".repeat(depth), "]".repeat(depth)
        );
        agree(&text)?;
    }
}

/// Every file of a folder, decoded.
fn texts(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let Ok(raw) = std::fs::read(&p) else { continue };
            let mut bytes = Vec::new();
            if raw.starts_with(&[0x1f, 0x8b]) {
                if flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut bytes)
                    .is_err()
                {
                    continue;
                }
            } else {
                bytes = raw;
            }
            if let Ok(text) = String::from_utf8(bytes) {
                out.push((p, text));
            }
        }
    }
    out
}

#[test]
fn real_and_bundled_files_are_read_alike() {
    let mut dirs = vec![
        common::root().join("sample-logs"),
        common::root().join("tests/fixtures"),
    ];
    dirs.extend(real_corpus("real_and_bundled_files_are_read_alike"));
    let mut scanned = 0;
    for dir in dirs {
        for (path, text) in texts(&dir) {
            if let Err(e) = agree(&text) {
                panic!("{}: {e}", path.display());
            }
            scanned += usize::from(scan::records(&text).is_ok());
        }
    }
    assert!(scanned > 100, "only {scanned} files were the scanner's");
}

/// A report with the scanner and with serde alone.
fn both(args: &[&str]) -> (Value, Value) {
    let with = ctaudit_env(args, &[("CTAUDIT_SCAN", "simd".to_string())]);
    let without = ctaudit_env(args, &[("CTAUDIT_SCAN", "serde".to_string())]);
    assert_eq!(
        with.code, without.code,
        "{}\n{}",
        with.stderr, without.stderr
    );
    (json(&with), json(&without))
}

/// Whole runs over `trail` with the scanner and with serde alone: the
/// same input counts, summary and findings, read whole and cut into runs.
/// Returns how many findings both had.
fn runs_agree(trail: &Path, extra: &[&str]) -> usize {
    let args = |more: &[&'static str]| {
        let mut a = vec!["report", "--logs", path_str(trail)];
        a.extend_from_slice(extra);
        a.extend_from_slice(more);
        a.extend(["--format", "json"]);
        a
    };
    let (a, b) = both(&args(&["--report", "all"]));
    assert_eq!(a["input"], b["input"], "{}", trail.display());
    assert_eq!(a["summary"], b["summary"]);
    assert_eq!(a["findings"], b["findings"]);
    // Large files are cut and read on several threads: the scanner checks
    // each run there.
    let split = |scan: &str| {
        json(&ctaudit_env(
            &args(&[]),
            &[
                ("CTAUDIT_SPLIT_MIN_BYTES", "0".to_string()),
                ("CTAUDIT_SCAN", scan.to_string()),
            ],
        ))
    };
    let (c, d) = (split("simd"), split("serde"));
    assert_eq!(c["input"], d["input"], "split: {}", trail.display());
    assert_eq!(c["findings"], d["findings"]);
    // A processor with AVX-512 scans with it; `avx2` keeps it to AVX2's
    // classification (elsewhere it changes nothing).
    let e = split("avx2");
    assert_eq!(c["input"], e["input"], "avx2: {}", trail.display());
    assert_eq!(c["findings"], e["findings"]);
    a["findings"].as_array().map_or(0, Vec::len)
}

#[test]
fn whole_runs_agree_with_serde_alone() {
    let mut trails = vec![common::root().join("sample-logs")];
    trails.extend(real_corpus("whole_runs_agree_with_serde_alone"));
    for trail in trails {
        runs_agree(&trail, &[]);
    }
}

/// The benchmark's generator (both mixes: 5-minute files of 500 events and
/// hourly files of 6,000): every file is the scanner's, with serde's
/// records, and whole runs with its policy find the same.
#[test]
fn generated_trails_are_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    for mix in ["heavy", "lean"] {
        let (trail, policy) = (dir.path().join(mix), dir.path().join(format!("{mix}.toml")));
        common::gen_trail(&trail, 8000, mix, Some(&policy));
        let files = texts(&trail);
        assert!(files.len() > 10, "{mix}: {} files", files.len());
        for (path, text) in &files {
            if let Err(e) = agree(text) {
                panic!("{}: {e}", path.display());
            }
            assert!(
                scan::records(text).is_ok(),
                "the scanner refused a generated file: {}",
                path.display()
            );
        }
        let found = runs_agree(&trail, &["--policy", path_str(&policy)]);
        assert!(found > 50, "{mix}: {found} findings");
    }
}
