//! Judging one change: a role's new trust document against its previous
//! one, and an OIDC provider's new audiences or thumbprints.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Row;
use crate::reports::Severity;
use crate::trust::json::Json;
use crate::trust::scope::{Scope, admitted};
use crate::trust::source::embedded_policy;
use crate::trust::{Document, lint};

/// `arn:aws:iam::<account>:role/<name>` (the path, unknown here, left out).
pub(super) fn role_arn(account: Option<&str>, role: &str) -> String {
    format!("arn:aws:iam::{}:role/{role}", account.unwrap_or("?"))
}

pub(super) fn to_json(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::Str(s.clone()),
        other => Json::parse(&other.to_string()).unwrap_or(Json::Null),
    }
}

/// The trust document a `CreateRole` (`assumeRolePolicyDocument`) or
/// `UpdateAssumeRolePolicy` (`policyDocument`) call sets.
pub(super) fn new_trust(event: &str, p: &Value) -> Option<Json> {
    let field = if event == "CreateRole" {
        "assumeRolePolicyDocument"
    } else {
        "policyDocument"
    };
    embedded_policy(&to_json(p.get(field)?)).ok()
}

/// A new trust document of a role, judged against the previous one: a row
/// when it (or the previous one) trusts a web-identity provider.
pub(super) fn trust_document(
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
pub(super) fn admits(doc: &Document) -> Vec<String> {
    doc.statements
        .iter()
        .flat_map(admitted)
        .map(|s| s.condition)
        .collect()
}

/// `widened` when the new document admits a subject pattern the old one
/// does not cover or a broader scope; `narrowed` when it drops some and
/// adds none; `unchanged` otherwise.
pub(super) fn compare(old: &Document, new: &Document) -> &'static str {
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
pub(super) fn allows_everything(doc: &Json) -> bool {
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
pub(super) fn provider_row(event: &str, p: &Value) -> Row {
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
