//! Where callers come from: `source_network` checked, for every distinct
//! address of the sample and of the real corpus (trails nobody on the team
//! wrote), against an independent lookup (a plain scan of the unmerged
//! published lists, and std's own private-address tests); and
//! `unexpected-network` on the real corpus against the same computed from
//! the raw records.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::{ctaudit, json, path_str, real_corpus, root};
use ipnet::IpNet;
use serde_json::Value;

/// The published lists as CIDRs: the unmerged ones in `../shared/data`
/// when they are beside the clone, else the copies built into ctaudit.
fn published() -> (Vec<IpNet>, Vec<IpNet>) {
    let shared = root().join("../shared/data");
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let parse = |text: String| -> Vec<IpNet> {
        text.split_whitespace()
            .map(|n| n.parse().expect("a CIDR"))
            .collect()
    };
    let github = if shared.join("github-actions/ipv4.txt").exists() {
        let mut v = parse(read(shared.join("github-actions/ipv4.txt")));
        v.extend(parse(read(shared.join("github-actions/ipv6.txt"))));
        v
    } else {
        eprintln!(
            "(../shared/data is not beside the clone: checking against the built-in merged lists)"
        );
        let mut v = parse(read(root().join("src/network/data/ipv4_mini.txt")));
        v.extend(parse(read(root().join("src/network/data/ipv6_mini.txt"))));
        v
    };
    let aws_text = if shared.join("aws/ip-ranges.json").exists() {
        read(shared.join("aws/ip-ranges.json"))
    } else {
        let mut s = String::new();
        let gz = std::fs::read(root().join("src/network/data/aws-ip-ranges.json.gz")).unwrap();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut s).unwrap();
        s
    };
    let doc: Value = serde_json::from_str(&aws_text).unwrap();
    let aws = ["prefixes", "ipv6_prefixes"]
        .iter()
        .flat_map(|k| doc[*k].as_array().unwrap().iter())
        .filter(|p| p["service"] == "AMAZON")
        .map(|p| {
            p["ip_prefix"]
                .as_str()
                .or(p["ipv6_prefix"].as_str())
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    (github, aws)
}

/// The class of an address, the slow and obvious way.
fn expected_class(source: &str, github: &[IpNet], aws: &[IpNet]) -> &'static str {
    let Ok(ip) = source.trim().parse::<IpAddr>() else {
        let s = source.trim().to_ascii_lowercase();
        return if s == "aws internal" || s.ends_with(".amazonaws.com") {
            "aws-service"
        } else {
            "other"
        };
    };
    let private = match ip {
        IpAddr::V4(a) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    };
    if private {
        "private"
    } else if github.iter().any(|n| n.contains(&ip)) {
        "github-actions"
    } else if aws.iter().any(|n| n.contains(&ip)) {
        "aws"
    } else {
        "other"
    }
}

fn distinct_classes(logs: &Path) -> BTreeMap<String, String> {
    let run = ctaudit(&[
        "query",
        "--logs",
        path_str(logs),
        "SELECT DISTINCT source_ip, source_network FROM events WHERE source_ip IS NOT NULL",
        "--format",
        "json",
    ]);
    // The corpus holds two deliberately broken files: exit 2, the rest read.
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    json(&run)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source_ip"].as_str().unwrap().to_string(),
                r["source_network"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_distinct_address_is_classed_as_an_independent_lookup_says() {
    let (github, aws) = published();
    let mut inputs = vec![root().join("sample-logs")];
    inputs.extend(real_corpus(
        "every_distinct_address_is_classed_as_an_independent_lookup_says",
    ));
    let mut seen = BTreeSet::new();
    for input in inputs {
        for (ip, class) in distinct_classes(&input) {
            assert_eq!(
                class,
                expected_class(&ip, &github, &aws),
                "{ip} in {}",
                input.display()
            );
            seen.insert(class);
        }
    }
    // The sample alone has every class.
    let all: BTreeSet<String> = ["aws", "aws-service", "github-actions", "other", "private"]
        .map(String::from)
        .into();
    assert_eq!(seen, all);
}

#[test]
fn fresh_lists_replace_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let github = dir.path().join("github.txt");
    // The sample's own runner addresses are not in this "fresh" list.
    std::fs::write(&github, "# a tiny list\n192.0.2.0/24\n").unwrap();
    let aws = dir.path().join("aws.json");
    std::fs::write(
        &aws,
        r#"{"syncToken":"1","createDate":"x","prefixes":[{"ip_prefix":"20.42.0.0/16","region":"x","service":"AMAZON","network_border_group":"x"}],"ipv6_prefixes":[]}"#,
    )
    .unwrap();
    let run = ctaudit(&[
        "query",
        "--logs",
        "sample-logs",
        "--github-meta",
        path_str(&github),
        "--aws-ranges",
        path_str(&aws),
        "SELECT DISTINCT source_network FROM events WHERE source_ip = '20.42.11.7'",
        "--format",
        "csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "source_network\naws\n");
    let report = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--report",
        "unexpected-network",
        "--github-meta",
        path_str(&github),
    ]);
    assert!(
        report
            .stdout
            .contains(&format!("GitHub Actions ranges {}", github.display())),
        "{}",
        report.stdout
    );
    // Or named by the policy, relative to it.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[network]\ngithub_meta = \"github.txt\"\n").unwrap();
    let report = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--report",
        "unexpected-network",
        "--policy",
        path_str(&policy),
        "--format",
        "json",
    ]);
    let doc = json(&report);
    assert_eq!(
        doc["input"]["networks"]["github_actions"]["name"],
        path_str(&github),
        "{}",
        report.stderr
    );
    // Every GitHub-hosted call is now outside "GitHub's" ranges.
    assert!(doc["summary"]["unexpected-network"].as_u64().unwrap() > 20);
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "10.0.0.0/8\nnot-a-network\n").unwrap();
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--github-meta",
        path_str(&bad),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.txt: line 2"), "{}", run.stderr);
}

#[test]
fn unexpected_network_on_the_sample() {
    let run = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        "sample-logs/policy.toml",
        "--report",
        "unexpected-network",
        "--format",
        "json",
    ]);
    let doc = json(&run);
    let got: BTreeSet<(String, String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (
                s("kind"),
                s("severity"),
                s("source_ip"),
                s("source_network"),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        got,
        [
            // A contractor's repository, from outside GitHub's ranges.
            row("outside-github-actions", "high", "198.18.7.14", "other"),
            // The self-hosted fleet's role, from an EC2 address outside its VPC
            // (its call from 10.40.3.7, inside, is not flagged).
            row(
                "outside-self-hosted-networks",
                "medium",
                "3.120.181.40",
                "aws"
            ),
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn key_uses_outside_their_networks_on_the_real_corpus() {
    let Some(corpus) = real_corpus("key_uses_outside_their_networks_on_the_real_corpus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let allowed: IpNet = "10.0.0.0/8".parse().unwrap();
    std::fs::write(&policy, "[iam_user_keys]\nnetworks = [\"10.0.0.0/8\"]\n").unwrap();
    let run = ctaudit(&[
        "report",
        "--logs",
        path_str(&corpus),
        "--policy",
        path_str(&policy),
        "--report",
        "unexpected-network",
        "--format",
        "json",
    ]);
    assert!(run.code <= 2, "{}", run.stderr);
    let found: BTreeSet<String> = json(&run)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "key-outside-networks", "{f}");
            f["event_id"].as_str().unwrap().to_string()
        })
        .collect();
    // The same from the raw records: AKIA keys used from an address (not a
    // service name) outside 10.0.0.0/8.
    // Records without an eventID get a derived id: counted, not named.
    let mut expected = BTreeSet::new();
    let mut without_id = 0;
    for r in records(&corpus) {
        let key = r["userIdentity"]["accessKeyId"].as_str().unwrap_or("");
        let ip = r["sourceIPAddress"]
            .as_str()
            .and_then(|s| s.parse::<IpAddr>().ok());
        if let (true, Some(ip)) = (key.starts_with("AKIA"), ip)
            && !allowed.contains(&ip)
        {
            match r["eventID"].as_str() {
                Some(id) => {
                    expected.insert(id.to_string());
                }
                None => without_id += 1,
            }
        }
    }
    let derived = found.iter().filter(|id| id.starts_with("derived-")).count();
    assert_eq!(derived, without_id);
    let found: BTreeSet<String> = found
        .into_iter()
        .filter(|id| !id.starts_with("derived-"))
        .collect();
    assert!(
        expected.len() > 100,
        "the corpus has many key uses: {}",
        expected.len()
    );
    let missing: Vec<&String> = expected.difference(&found).collect();
    let extra: Vec<&String> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, not expected {extra:?}"
    );
}

/// Every record under `dir` that plain serde_json reads: `{"Records":[…]}`,
/// a bare array, or JSON lines; gzip or not. Files it cannot read are left
/// out (the corpus's two deliberately broken ones hold no key uses).
fn records(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let text = if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut s = String::new();
                if std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut s,
                )
                .is_err()
                {
                    continue;
                }
                s
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(o)) if o.contains_key("Records") => {
                    out.extend(o["Records"].as_array().cloned().unwrap_or_default())
                }
                Ok(Value::Array(a)) => out.extend(a),
                Ok(v @ Value::Object(_)) => out.push(v),
                _ => out.extend(
                    text.lines()
                        .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
                ),
            }
        }
    }
    out
}

#[test]
fn role_assumptions_outside_their_runners_on_the_real_corpus() {
    let Some(corpus) = real_corpus("role_assumptions_outside_their_runners_on_the_real_corpus")
    else {
        return;
    };
    let (github, _) = published();
    // From the raw records: successful GitHub web-identity assumptions, and
    // which of them came from outside GitHub's ranges.
    let calls: Vec<(String, String, bool)> = records(&corpus)
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity" && r["errorCode"].is_null())
        .filter(|r| {
            r.to_string()
                .contains("token.actions.githubusercontent.com")
        })
        .filter_map(|r| {
            let ip: IpAddr = r["sourceIPAddress"].as_str()?.parse().ok()?;
            Some((
                r["eventID"].as_str()?.to_string(),
                r["requestParameters"]["roleArn"].as_str()?.to_string(),
                !github.iter().any(|n| n.contains(&ip)),
            ))
        })
        .collect();
    assert!(!calls.is_empty(), "the corpus has a GitHub OIDC assumption");
    let flagged = |policy: Option<&Path>| -> BTreeSet<String> {
        let mut args = vec![
            "report",
            "--logs",
            path_str(&corpus),
            "--report",
            "unexpected-network",
            "--format",
            "json",
        ];
        if let Some(p) = policy {
            args.extend(["--policy", path_str(p)]);
        }
        let run = ctaudit(&args);
        json(&run)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["event_id"].as_str().unwrap().to_string())
            .collect()
    };
    // GitHub subjects are expected on GitHub's ranges by default.
    let outside: BTreeSet<String> = calls.iter().filter(|c| c.2).map(|c| c.0.clone()).collect();
    assert_eq!(flagged(None), outside);
    // Said to run on a self-hosted fleet elsewhere, every call of the role is outside.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let role = &calls[0].1;
    std::fs::write(
        &policy,
        format!("[[roles]]\narn = \"{role}\"\nsubjects = [\"*\"]\nrunners = \"self-hosted\"\nnetworks = [\"10.0.0.0/8\"]\n"),
    )
    .unwrap();
    let of_role: BTreeSet<String> = calls
        .iter()
        .filter(|c| &c.1 == role)
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(flagged(Some(&policy)), of_role);
    // And with runners = "any", nothing.
    std::fs::write(
        &policy,
        format!("[[roles]]\narn = \"{role}\"\nrunners = \"any\"\n"),
    )
    .unwrap();
    assert!(flagged(Some(&policy)).is_empty());
}
