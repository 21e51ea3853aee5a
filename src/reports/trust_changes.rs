//! `trust-changes`: changes to roles' trust, OIDC providers, and broad
//! permissions given to roles that trust a web-identity provider.

use std::collections::{BTreeSet, HashMap, HashSet};

use polars::prelude::*;
use serde_json::Value;

use super::{
    Context as RunContext, Needs, PolicyNeed, Report, Severity, distinct, finding_rows, group,
    string_column, strs,
};
use crate::frame::col;
use crate::ingest::TRUST_CHANGE_EVENTS;
use crate::trust::json::Json;
use crate::trust::scope::{Scope, admitted};
use crate::trust::source::embedded_policy;
use crate::trust::{Document, lint};

#[doc = include_str!("trust_changes.md")]
pub struct TrustChanges;

const CONTEXT: &[&str] = &[
    col::EVENT_NAME,
    "target",
    "change",
    "checks",
    col::IDENTITY_ARN,
    col::ACCESS_KEY_ID,
    "via_repository",
    "detail",
    col::SOURCE_IP,
    col::AWS_REGION,
    col::ACCOUNT_ID,
];

impl Report for TrustChanges {
    fn id(&self) -> &'static str {
        "trust-changes"
    }
    fn title(&self) -> &'static str {
        "Changes to OIDC trust policies, providers and roles"
    }
    fn doc(&self) -> &'static str {
        include_str!("trust_changes.md")
    }
    fn needs(&self) -> &'static [Needs] {
        // Web-identity calls too: they tell which keys workflows held, and
        // which roles are assumed by web identity.
        &[Needs::TrustChanges, Needs::WebIdentity]
    }
    fn columns(&self) -> Vec<&'static str> {
        let read = [
            col::ERROR_CODE,
            col::REQUEST_PARAMETERS,
            col::ROLE_ARN,
            col::ISSUED_ACCESS_KEY_ID,
            col::GH_REPOSITORY,
        ];
        [CONTEXT, &read].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn flag(&self, frame: &DataFrame, ctx: &RunContext<'_>) -> PolarsResult<DataFrame> {
        let names = strs(frame, col::EVENT_NAME)?;
        let errors = strs(frame, col::ERROR_CODE)?;
        let params = strs(frame, col::REQUEST_PARAMETERS)?;
        let accounts = strs(frame, col::ACCOUNT_ID)?;
        let keys = strs(frame, col::ACCESS_KEY_ID)?;
        let mut context = Context::of(frame)?;
        if let Some(earlier) = ctx.earlier_keys {
            for (key, repo) in earlier {
                context
                    .repository_by_key
                    .entry(key.clone())
                    .or_insert_with(|| repo.clone());
            }
        }
        let mut rows: Vec<(usize, Row)> = Vec::new();
        let mut last_doc: HashMap<String, Document> = HashMap::new();
        for i in 0..frame.height() {
            let Some(name) = names.get(i) else { continue };
            if errors.get(i).is_some() || !TRUST_CHANGE_EVENTS.contains(&name) {
                continue;
            }
            let p: Value = params
                .get(i)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let row = match name {
                "CreateRole" | "UpdateAssumeRolePolicy" => {
                    let role = text("roleName");
                    let target = role_arn(accounts.get(i), &role);
                    let json = new_trust(name, &p);
                    trust_document(&target, json, last_doc.get(&role)).map(|(row, doc)| {
                        last_doc.insert(role.clone(), doc);
                        row
                    })
                }
                "AttachRolePolicy" => {
                    let role = text("roleName");
                    let policy = text("policyArn");
                    let grant = ["/AdministratorAccess", "/PowerUserAccess"]
                        .iter()
                        .find(|g| policy.ends_with(*g));
                    match grant {
                        Some(g) if context.trusts_web_identity(&role) => Some(Row {
                            severity: if *g == "/AdministratorAccess" {
                                Severity::Critical
                            } else {
                                Severity::High
                            },
                            target: role_arn(accounts.get(i), &role),
                            change: format!("{} attached", &g[1..]),
                            checks: None,
                            detail: format!(
                                "{policy} on a role that trusts a web-identity provider: whoever its trust admits gets it"
                            ),
                        }),
                        _ => None,
                    }
                }
                "PutRolePolicy" => {
                    let role = text("roleName");
                    let doc = p
                        .get("policyDocument")
                        .and_then(|d| embedded_policy(&to_json(d)).ok());
                    match doc {
                        Some(d) if allows_everything(&d) && context.trusts_web_identity(&role) => {
                            Some(Row {
                                severity: Severity::Critical,
                                target: role_arn(accounts.get(i), &role),
                                change: format!(
                                    "inline policy {} allows \"Action\": \"*\"",
                                    text("policyName")
                                ),
                                checks: None,
                                detail:
                                    "every action on a role that trusts a web-identity provider"
                                        .into(),
                            })
                        }
                        _ => None,
                    }
                }
                provider_event => Some(provider_row(provider_event, &p)),
            };
            if let Some(row) = row {
                rows.push((i, row));
            }
        }
        let idx = IdxCa::from_vec(
            "idx".into(),
            rows.iter().map(|(i, _)| *i as IdxSize).collect(),
        );
        let mut df = frame.take(&idx)?;
        let via: Vec<Option<String>> = rows
            .iter()
            .map(|(i, _)| keys.get(*i).and_then(|k| context.repository_of(k)))
            .collect();
        df.with_column(string_column(
            "severity",
            rows.iter().map(|(_, r)| Some(r.severity.as_str())),
        ))?;
        df.with_column(string_column(
            "target",
            rows.iter().map(|(_, r)| Some(r.target.clone())),
        ))?;
        df.with_column(string_column(
            "change",
            rows.iter().map(|(_, r)| Some(r.change.clone())),
        ))?;
        df.with_column(string_column(
            "checks",
            rows.iter().map(|(_, r)| r.checks.clone()),
        ))?;
        df.with_column(string_column(
            "detail",
            rows.iter().map(|(_, r)| Some(r.detail.clone())),
        ))?;
        df.with_column(string_column("via_repository", via))?;
        finding_rows(df, &[CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &["target", col::EVENT_NAME, "change"],
            vec![
                distinct("checks"),
                distinct(col::IDENTITY_ARN),
                distinct("via_repository"),
                distinct("detail"),
            ],
        )
    }
}

/// One flagged change.
struct Row {
    severity: Severity,
    target: String,
    change: String,
    checks: Option<String>,
    detail: String,
}

/// What the rest of the trail says: which keys workflows held (issued by
/// `AssumeRoleWithWebIdentity`), and which roles trust a web-identity
/// provider (a trust document of them in the trail, or an assumption).
struct Context {
    repository_by_key: HashMap<String, String>,
    oidc_roles: HashSet<String>,
}

impl Context {
    fn of(frame: &DataFrame) -> PolarsResult<Context> {
        let names = strs(frame, col::EVENT_NAME)?;
        let issued = strs(frame, col::ISSUED_ACCESS_KEY_ID)?;
        let repos = strs(frame, col::GH_REPOSITORY)?;
        let roles = strs(frame, col::ROLE_ARN)?;
        let params = strs(frame, col::REQUEST_PARAMETERS)?;
        let mut c = Context {
            repository_by_key: HashMap::new(),
            oidc_roles: HashSet::new(),
        };
        for i in 0..frame.height() {
            match names.get(i) {
                Some(crate::ingest::WEB_IDENTITY) => {
                    if let (Some(k), Some(r)) = (issued.get(i), repos.get(i)) {
                        c.repository_by_key.insert(k.to_string(), r.to_string());
                    }
                    if let Some(role) = roles.get(i).and_then(|a| a.rsplit('/').next()) {
                        c.oidc_roles.insert(role.to_string());
                    }
                }
                Some(name @ ("CreateRole" | "UpdateAssumeRolePolicy")) => {
                    let Some(p) = params
                        .get(i)
                        .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    else {
                        continue;
                    };
                    let doc = new_trust(name, &p)
                        .and_then(|j| Document::new(String::new(), None, j).ok());
                    if let (Some(doc), Some(role)) =
                        (doc, p.get("roleName").and_then(Value::as_str))
                        && !doc.statements.is_empty()
                    {
                        c.oidc_roles.insert(role.to_string());
                    }
                }
                _ => {}
            }
        }
        Ok(c)
    }

    fn trusts_web_identity(&self, role: &str) -> bool {
        self.oidc_roles.contains(role)
    }

    fn repository_of(&self, key: &str) -> Option<String> {
        self.repository_by_key.get(key).cloned()
    }
}

/// `arn:aws:iam::<account>:role/<name>` (the path, unknown here, left out).
fn role_arn(account: Option<&str>, role: &str) -> String {
    format!("arn:aws:iam::{}:role/{role}", account.unwrap_or("?"))
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::Str(s.clone()),
        other => Json::parse(&other.to_string()).unwrap_or(Json::Null),
    }
}

/// The trust document a `CreateRole` (`assumeRolePolicyDocument`) or
/// `UpdateAssumeRolePolicy` (`policyDocument`) call sets.
fn new_trust(event: &str, p: &Value) -> Option<Json> {
    let field = if event == "CreateRole" {
        "assumeRolePolicyDocument"
    } else {
        "policyDocument"
    };
    embedded_policy(&to_json(p.get(field)?)).ok()
}

/// A new trust document of a role, judged against the previous one: a row
/// when it (or the previous one) trusts a web-identity provider.
fn trust_document(
    target: &str,
    json: Option<Json>,
    previous: Option<&Document>,
) -> Option<(Row, Document)> {
    let json = json?;
    let doc = Document::new(target.to_string(), Some(target.to_string()), json).ok()?;
    let was = previous.filter(|p| !p.statements.is_empty());
    if doc.statements.is_empty() && was.is_none() {
        return None;
    }
    let findings = lint(&doc);
    let ids: BTreeSet<&str> = findings.iter().map(|f| f.check).collect();
    let change = match was {
        None => "first seen".to_string(),
        Some(_) if doc.statements.is_empty() => "web-identity trust removed".to_string(),
        Some(p) => compare(p, &doc).to_string(),
    };
    let worst = findings.iter().map(|f| f.severity).min();
    let severity = match (change.as_str(), worst) {
        ("narrowed" | "web-identity trust removed", _) => Severity::Low,
        (_, Some(s)) => s,
        _ => Severity::Low,
    };
    let admitted = admits(&doc);
    let detail = if admitted.is_empty() {
        "no web-identity statement".to_string()
    } else {
        format!("admits {}", admitted.join(" | "))
    };
    let checks = (!ids.is_empty()).then(|| ids.into_iter().collect::<Vec<_>>().join(", "));
    Some((
        Row {
            severity,
            target: target.to_string(),
            change,
            checks,
            detail,
        },
        doc,
    ))
}

/// The subject patterns a document admits (`*` where a statement pins none).
fn admits(doc: &Document) -> Vec<String> {
    doc.statements
        .iter()
        .flat_map(admitted)
        .map(|s| s.condition)
        .collect()
}

/// `widened` when the new document admits a subject pattern the old one
/// does not cover or a broader scope; `narrowed` when it drops some and
/// adds none; `unchanged` otherwise.
fn compare(old: &Document, new: &Document) -> &'static str {
    let patterns = |d: &Document| -> Vec<(String, Scope)> {
        d.statements
            .iter()
            .flat_map(admitted)
            .map(|s| (s.value, s.scope))
            .collect()
    };
    let (old, new) = (patterns(old), patterns(new));
    let covered = |p: &str, by: &[(String, Scope)]| {
        by.iter()
            .any(|(q, _)| q == p || crate::policy::Pattern::new(q.as_str()).matches(p))
    };
    let broadest = |v: &[(String, Scope)]| v.iter().map(|(_, s)| *s).min();
    let added = new.iter().any(|(p, _)| !covered(p, &old));
    if added || broadest(&new) < broadest(&old) {
        "widened"
    } else if old.iter().any(|(p, _)| !covered(p, &new)) {
        "narrowed"
    } else {
        "unchanged"
    }
}

/// A policy with a statement that allows every action.
fn allows_everything(doc: &Json) -> bool {
    let statements = match doc.get_any_case("Statement") {
        Some(Json::Arr(items)) => items.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => return false,
    };
    statements.iter().any(|st| {
        st.get("Effect").and_then(Json::as_str) == Some("Allow")
            && st.get("Action").is_some_and(|a| a.strings().contains(&"*"))
    })
}

/// A change to an OIDC provider.
fn provider_row(event: &str, p: &Value) -> Row {
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let list = |k: &str| {
        p.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let target = match text("openIDConnectProviderArn") {
        arn if !arn.is_empty() => arn,
        _ => text("url"),
    };
    let (severity, change, detail) = match event {
        "CreateOpenIDConnectProvider" => (
            Severity::Medium,
            "provider created".to_string(),
            format!(
                "url {}, client IDs {}, thumbprints {}",
                text("url"),
                list("clientIDList"),
                list("thumbprintList")
            ),
        ),
        "UpdateOpenIDConnectProviderThumbprint" => (
            Severity::High,
            "thumbprints replaced".to_string(),
            format!("now {}", list("thumbprintList")),
        ),
        "AddClientIDToOpenIDConnectProvider" => (
            Severity::Medium,
            "client ID added".to_string(),
            format!("tokens for audience {} are now accepted", text("clientID")),
        ),
        "RemoveClientIDFromOpenIDConnectProvider" => (
            Severity::Low,
            "client ID removed".to_string(),
            format!("audience {}", text("clientID")),
        ),
        _ => (
            Severity::Low,
            "provider deleted".to_string(),
            "roles trusting it can no longer be assumed through it".to_string(),
        ),
    };
    Row {
        severity,
        target,
        change,
        checks: None,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(time: &str, id: &str, name: &str, params: &str) -> String {
        format!(
            r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"{name}","eventSource":"iam.amazonaws.com","recipientAccountId":"111122223333",
               "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/gha-infra/GitHubActions","accessKeyId":"ASIATEST"}},
               "requestParameters":{params}}}"#
        )
    }

    fn trust(sub: &str) -> String {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}},"StringLike":{{"token.actions.githubusercontent.com:sub":"{sub}"}}}}}}]}}"#
        );
        serde_json::to_string(&doc).unwrap()
    }

    #[test]
    fn widening_admin_and_provider_changes() {
        let assume = crate::reports::testing::web_identity(
            "2026-11-16T09:00:00Z",
            "arn:aws:iam::111122223333:role/gha-infra",
            "repo:acme/infra:ref:refs/heads/main",
            "sts.amazonaws.com",
            None,
        );
        let records = [
            assume,
            change(
                "2026-11-16T10:00:00Z",
                "c1",
                "CreateRole",
                &format!(
                    r#"{{"roleName":"deploy","assumeRolePolicyDocument":{}}}"#,
                    trust("repo:acme/api:ref:refs/heads/main")
                ),
            ),
            change(
                "2026-11-17T10:00:00Z",
                "c2",
                "UpdateAssumeRolePolicy",
                &format!(
                    r#"{{"roleName":"deploy","policyDocument":{}}}"#,
                    trust("repo:acme/*")
                ),
            ),
            change(
                "2026-11-18T10:00:00Z",
                "c3",
                "UpdateAssumeRolePolicy",
                &format!(
                    r#"{{"roleName":"deploy","policyDocument":{}}}"#,
                    trust("repo:acme/api:ref:refs/heads/main")
                ),
            ),
            change(
                "2026-11-18T11:00:00Z",
                "c4",
                "AttachRolePolicy",
                r#"{"roleName":"deploy","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            ),
            change(
                "2026-11-18T11:05:00Z",
                "c5",
                "AttachRolePolicy",
                r#"{"roleName":"lambda-role","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            ),
            change(
                "2026-11-18T12:00:00Z",
                "c6",
                "UpdateOpenIDConnectProviderThumbprint",
                r#"{"openIDConnectProviderArn":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com","thumbprintList":["0000000000000000000000000000000000000000"]}"#,
            ),
            change(
                "2026-11-18T13:00:00Z",
                "c7",
                "PutRolePolicy",
                r#"{"roleName":"gha-infra","policyName":"all","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}"#,
            ),
        ];
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let f = TrustChanges
            .run(&crate::frame::from_json(&refs, true), None)
            .unwrap();
        let ev = &f.events;
        let get = |c: &str| -> Vec<Option<String>> {
            ev.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect()
        };
        assert_eq!(
            get(col::EVENT_ID),
            ["c1", "c2", "c3", "c4", "c6", "c7"].map(|s| Some(s.to_string()))
        );
        assert_eq!(
            get("change")[..3],
            ["first seen", "widened", "narrowed"].map(|s| Some(s.to_string()))
        );
        assert_eq!(get("checks")[1].as_deref(), Some("org-wide"));
        assert_eq!(get("severity")[1].as_deref(), Some("high"));
        assert_eq!(get("severity")[3].as_deref(), Some("critical"));
        assert_eq!(get("change")[4].as_deref(), Some("thumbprints replaced"));
        // The change was made with a key a workflow of acme/infra held.
        assert_eq!(get("via_repository")[1].as_deref(), Some("acme/infra"));
    }
}
