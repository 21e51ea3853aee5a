//! `--geoip`: ASN, AS organisation and country for every distinct public
//! caller address of the sample and the real corpus, from real databases
//! installed from the npm registry by `.ci/run` (ip-location-db's CC0
//! country mmdb, and its ASN data), checked against independent lookups:
//! MaxMind's Python reader for the country, a plain scan of the ASN CSV
//! for the ASN (`tests/geoip/lookup.py`).
//!
//! Without the databases the tests say they skipped and why; with
//! `CTAUDIT_REQUIRE_GEOIP=1` (as `.ci/run` sets) that is a failure.

use crate::common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ctaudit, json, path_str, real_corpus, root};
use serde_json::Value;

/// Where `.ci/run` installs the npm packages.
fn npm_dir() -> PathBuf {
    std::env::var_os("CTAUDIT_GEOIP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/test-data/npm/node_modules/@ip-location-db"))
}

fn found(path: PathBuf, test: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "SKIPPED {test}: {} is not installed (.ci/run installs it from npm)",
        path.display()
    );
    assert!(std::env::var("CTAUDIT_REQUIRE_GEOIP").is_err(), "{why}");
    eprintln!("{why}");
    None
}

/// Distinct public addresses and what ctaudit says of them.
fn enriched(inputs: &[PathBuf], geoip: &[&Path]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for input in inputs {
        let mut args = vec![
            "query".to_string(),
            "--logs".into(),
            path_str(input).into(),
            "SELECT DISTINCT source_ip, source_asn, source_as_org, source_country FROM events WHERE source_network IN ('other', 'aws', 'github-actions')".into(),
            "--format".into(),
            "json".into(),
        ];
        for g in geoip {
            args.push("--geoip".into());
            args.push(path_str(g).into());
        }
        let run = ctaudit(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(run.code <= 2, "{}", run.stderr);
        for row in json(&run).as_array().unwrap() {
            let ip = row["source_ip"].as_str().unwrap();
            // Not an address (`08.1.250.216` is in the corpus): nothing to look up.
            if ip.parse::<IpAddr>().is_err() {
                assert!(
                    row["source_country"].is_null() && row["source_asn"].is_null(),
                    "{row}"
                );
                continue;
            }
            out.insert(ip.to_string(), row.clone());
        }
    }
    out
}

fn python(args: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg(root().join("tests/geoip/lookup.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "tests/geoip/lookup.py: {} (.ci/run pip-installs maxminddb and mmdb-writer)",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inputs(test: &str) -> Vec<PathBuf> {
    let mut v = vec![root().join("sample-logs")];
    v.extend(real_corpus(test));
    v
}

#[test]
fn countries_are_those_maxminds_reader_finds() {
    let test = "countries_are_those_maxminds_reader_finds";
    let Some(db) = found(
        npm_dir().join("geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"),
        test,
    ) else {
        return;
    };
    let inputs = inputs(test);
    // The sample alone has 8 public addresses; with the corpus, many more.
    let least = if inputs.len() > 1 { 20 } else { 3 };
    let rows = enriched(&inputs, &[&db]);
    assert!(rows.len() > least, "{rows:?}");
    let ips: Vec<&str> = rows.keys().map(String::as_str).collect();
    let expected = python(&[&["country", path_str(&db)][..], &ips].concat());
    let mut with_country = 0;
    for (ip, row) in &rows {
        assert_eq!(row["source_country"], expected[ip], "{ip}");
        with_country += row["source_country"].is_string() as usize;
        // A country database has no ASN.
        assert!(row["source_asn"].is_null(), "{row}");
    }
    assert!(with_country > least, "{with_country}");
    // The header names the database and its build date.
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--report",
        "iam-user-keys",
        "--geoip",
        path_str(&db),
    ]);
    assert!(
        run.stdout.contains("GeoIP: geo-whois-asn-country.mmdb ("),
        "{}",
        run.stdout
    );
}

#[test]
fn asns_are_those_the_published_asn_table_gives() {
    let test = "asns_are_those_the_published_asn_table_gives";
    let (Some(csv), Some(country)) = (
        found(npm_dir().join("asn/asn-ipv4.csv"), test),
        found(
            npm_dir().join("geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"),
            test,
        ),
    ) else {
        return;
    };
    let inputs = inputs(test);
    let least = if inputs.len() > 1 { 20 } else { 3 };
    let addresses = enriched(&inputs, &[]);
    let v4: Vec<&str> = addresses
        .keys()
        .map(String::as_str)
        .filter(|ip| ip.parse::<IpAddr>().is_ok_and(|a| a.is_ipv4()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let asn_db = dir.path().join("asn.mmdb");
    let expected = python(&[&["asn", path_str(&csv), path_str(&asn_db)][..], &v4].concat());
    // Both databases at once: each field from the one that has it.
    let rows = enriched(&inputs, &[&country, &asn_db]);
    let mut with_asn = 0;
    for ip in &v4 {
        let row = &rows[*ip];
        match &expected[*ip] {
            Value::Null => assert!(row["source_asn"].is_null(), "{ip}: {row}"),
            e => {
                with_asn += 1;
                assert_eq!(row["source_asn"], e["asn"].to_string(), "{ip}");
                assert_eq!(row["source_as_org"], e["org"], "{ip}");
            }
        }
        assert!(
            row["source_country"].is_string() || row["source_country"].is_null(),
            "{row}"
        );
    }
    assert!(with_asn > least, "{with_asn} of {}", v4.len());
}
