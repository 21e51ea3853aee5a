//! `trust-changes`: changes to roles' trust, OIDC providers, and broad
//! permissions given to roles that trust a web-identity provider.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;
use serde_json::Value;

use super::{
    Context as RunContext, Needs, PolicyNeed, Report, Severity, distinct, finding_rows, group,
    string_column, strs,
};
mod judge;

use judge::{allows_everything, new_trust, provider_row, role_arn, to_json, trust_document};

use crate::frame::col;
use crate::ingest::TRUST_CHANGE_EVENTS;
use crate::trust::Document;
use crate::trust::source::embedded_policy;

#[doc = include_str!("../trust_changes.md")]
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
        include_str!("../trust_changes.md")
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

#[cfg(test)]
mod tests;
