//! `ctaudit trust` on a fixture library of trust documents (one or more per
//! check, good ones beside bad ones, in every input format): each document
//! gets exactly the check ids `tests/fixtures/trust-verdicts.json` lists for
//! it, nothing more.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{ctaudit, json};
use serde_json::Value;

/// file → (role or "") → check ids.
type Verdicts = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn expected() -> Verdicts {
    let text =
        std::fs::read_to_string(common::root().join("tests/fixtures/trust-verdicts.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn verdicts(doc: &Value) -> Verdicts {
    let mut got = Verdicts::new();
    for f in doc["findings"].as_array().unwrap() {
        let file = f["source"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let role = f["role"].as_str().unwrap_or("").to_string();
        got.entry(file)
            .or_default()
            .entry(role)
            .or_default()
            .insert(f["check"].as_str().unwrap().to_string());
    }
    got
}

#[test]
fn every_fixture_gets_exactly_its_verdicts() {
    let run = ctaudit(&["trust", "tests/fixtures/trust", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let doc = json(&run);
    let got = verdicts(&doc);
    for (file, roles) in expected() {
        for (role, checks) in roles {
            let found = got
                .get(&file)
                .and_then(|r| r.get(&role))
                .cloned()
                .unwrap_or_default();
            assert_eq!(found, checks, "{file} {role}");
        }
    }
    // Nothing was found where nothing was expected.
    let expected = expected();
    for (file, roles) in &got {
        for role in roles.keys() {
            assert!(
                expected.get(file).is_some_and(|r| r.contains_key(role)),
                "unexpected findings for {file} {role}"
            );
        }
    }
    assert_eq!(doc["documents"], 46);
}

#[test]
fn findings_name_the_statement_the_condition_and_the_fix() {
    let run = ctaudit(&[
        "trust",
        "tests/fixtures/trust/org-wide.json",
        "--format",
        "json",
    ]);
    let f = &json(&run)["findings"][0];
    assert_eq!(f["check"], "org-wide");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["statement"], "#0");
    assert_eq!(
        f["condition"],
        "StringLike token.actions.githubusercontent.com:sub = repo:acme/*"
    );
    let fix: Value = serde_json::from_str(f["fix"].as_str().unwrap()).unwrap();
    assert_eq!(
        fix["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:acme/REPO:environment:production"
    );
    let dup = ctaudit(&[
        "trust",
        "tests/fixtures/trust/duplicate-key.json",
        "--format",
        "json",
    ]);
    let d = json(&dup)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "duplicate-key")
        .unwrap()
        .clone();
    assert_eq!(
        d["condition"],
        "`StringEquals` 2 times (at 9:9, 10:9); IAM keeps the last"
    );
}

#[test]
fn a_bad_file_is_named_and_the_others_are_still_linted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"Statement\": [\n    {,\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("not-a-policy.json"), "{\"name\": \"pkg\"}").unwrap();
    std::fs::copy(
        common::root().join("tests/fixtures/trust/org-wide.json"),
        dir.path().join("org-wide.json"),
    )
    .unwrap();
    let run = ctaudit(&["trust", common::path_str(dir.path()), "--format", "json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.json: not valid JSON: line 3 column 6"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("not-a-policy.json: no trust policy found"),
        "{}",
        run.stderr
    );
    assert_eq!(json(&run)["findings"][0]["check"], "org-wide");
}

#[test]
fn clean_documents_exit_0_and_every_format_prints() {
    let good = "tests/fixtures/trust/github-environment.json";
    let run = ctaudit(&["trust", good]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("1 documents, 1 web-identity statements, 0 findings")
    );
    for format in ["table", "markdown", "csv", "json"] {
        let run = ctaudit(&[
            "trust",
            "tests/fixtures/trust/any-context.json",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 1, "{format}");
        assert!(
            run.stdout.contains("any-context"),
            "{format}: {}",
            run.stdout
        );
    }
    let list = ctaudit(&["trust", "--list", "--long"]);
    for id in [
        "any-subject",
        "wildcard-owner",
        "duplicate-key",
        "org-wide",
        "audience-not-pinned",
        "if-exists",
        "for-all-values",
        "any-context",
    ] {
        assert!(list.stdout.contains(id), "{id}");
    }
    assert!(list.stdout.contains("What an attacker can do"));
}

/// `--api` against moto's IAM on loopback: the fixture documents, created
/// as roles, get the same verdicts by role ARN as from their files, and the
/// OIDC provider is listed with its client IDs and thumbprints.
#[test]
fn api_reads_roles_and_providers_from_iam() {
    let Some(moto) = common::moto::Moto::start("api_reads_roles_and_providers_from_iam") else {
        return;
    };
    let expected = expected();
    let files: Vec<String> = expected
        .iter()
        .filter(|(_, roles)| roles.contains_key(""))
        .map(|(f, _)| f.clone())
        .collect();
    common::moto::block_on(async {
        let iam = moto.iam();
        iam.create_open_id_connect_provider()
            .url("https://token.actions.githubusercontent.com")
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
            .send()
            .await
            .expect("create provider");
        for f in &files {
            let text = std::fs::read_to_string(common::root().join("tests/fixtures/trust").join(f))
                .unwrap();
            iam.create_role()
                .role_name(f.trim_end_matches(".json"))
                .assume_role_policy_document(text)
                .send()
                .await
                .expect("create role");
        }
    });
    let mut env = common::aws_env(&moto.url());
    env.push(("AWS_ENDPOINT_URL_IAM", moto.url()));
    let run = common::ctaudit_env(&["trust", "--api", "--format", "json"], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = json(&run);
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in doc["findings"].as_array().unwrap() {
        let role = f["role"].as_str().unwrap();
        let name = role.rsplit('/').next().unwrap().to_string();
        got.entry(name)
            .or_default()
            .insert(f["check"].as_str().unwrap().to_string());
    }
    for f in &files {
        let name = f.trim_end_matches(".json");
        assert_eq!(
            got.get(name).cloned().unwrap_or_default(),
            expected[f][""],
            "role {name}"
        );
    }
    let providers = doc["oidc_providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0]["client_ids"][0], "sts.amazonaws.com");
    assert_eq!(providers[0]["thumbprints"].as_array().unwrap().len(), 1);
}

/// Trust policies held against the sample trail: the broad role is told
/// what to tighten to (exactly the subjects seen), the unused role is
/// named, a subject refused although admitted is explained, and a subject
/// that assumed a role its given document does not admit is flagged.
#[test]
fn trust_against_traffic() {
    let run = ctaudit(&[
        "trust",
        "tests/fixtures/trust-sample",
        "--logs",
        "sample-logs",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = json(&run);
    let rows = doc["traffic"].as_array().unwrap();
    let verdict = |role: &str, verdict: &str| -> Vec<Value> {
        rows.iter()
            .filter(|r| r["role"].as_str().unwrap().ends_with(role) && r["verdict"] == verdict)
            .cloned()
            .collect()
    };
    let tighten = &verdict("/gha-prod-deploy", "tighten")[0];
    assert!(
        tighten["admits"]
            .as_str()
            .unwrap()
            .contains("every repository of acme")
    );
    let fix: Value = serde_json::from_str(tighten["suggestion"].as_str().unwrap()).unwrap();
    let subs = fix["StringEquals"]["token.actions.githubusercontent.com:sub"]
        .as_array()
        .unwrap();
    assert_eq!(subs.len(), 6);
    assert!(
        subs.iter()
            .any(|s| s == "repo:acme/api:environment:production")
    );
    assert_eq!(verdict("/gha-unused", "unused").len(), 1);
    let denied = verdict("/gha-staging-deploy", "admitted-but-denied");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["seen"], "repo:acme/api:environment:staging");
    let unexplained = verdict("/gha-staging-deploy", "seen-not-admitted");
    assert_eq!(unexplained[0]["seen"], "repo:acme/web:pull_request");
    assert_eq!(verdict("/gha-nightly-sync", "ok").len(), 1);
}

/// `policy suggest` round trip: the drafted policy passes `report --policy`
/// unchanged and, on the trail it came from, flags no unexpected subject.
#[test]
fn suggested_policy_expects_everything_it_was_drafted_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let run = ctaudit(&[
        "policy",
        "suggest",
        "--logs",
        "sample-logs",
        "--trust",
        "tests/fixtures/trust-sample",
        "--output",
        common::path_str(&file),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# trust policy: #0 admits every repository of acme"),
        "{text}"
    );
    assert!(text.contains("allowed_users = []"));
    let report = ctaudit(&[
        "report",
        "--logs",
        "sample-logs",
        "--policy",
        common::path_str(&file),
        "--format",
        "json",
    ]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let v = json(&report);
    assert_eq!(v["summary"]["unexpected-subjects"], 0);
    // Nobody may keep keys: every AKIA use stays a finding.
    assert_eq!(v["summary"]["iam-user-keys"], 13);
}
