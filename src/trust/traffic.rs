//! Trust against traffic: for each role, the subjects its trust policy
//! admits next to the subjects that actually assumed it in the window, the
//! exact condition to paste that admits only those, the roles nobody
//! assumed, and the subjects refused with `AccessDenied` although the trust
//! policy admits them (then the cause is elsewhere: the audience, the
//! provider, a session policy, a deny).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Document;
use super::provider::Kind;
use super::scope::{Scope, admitted, subjects};
use super::statement::{Condition, Statement};
use crate::policy::Pattern;
use crate::policy::suggest::Observed;

/// One line about one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleTraffic {
    pub role: String,
    /// `tighten`, `unused`, `admitted-but-denied`, `seen-not-admitted` or `ok`.
    pub verdict: &'static str,
    /// What the trust policy admits, in words.
    pub admits: String,
    /// The subjects seen, with how often.
    pub seen: String,
    /// The condition to paste, or what to look at.
    pub suggestion: String,
}

/// What each web-identity statement of `doc` admits, in words.
pub fn admits(doc: &Document) -> Vec<String> {
    let mut out = Vec::new();
    for st in &doc.statements {
        let subs = subjects(st);
        if subs.is_empty() {
            out.push(format!(
                "{} admits any subject of {} (no subject condition)",
                st.label(),
                st.provider.host
            ));
        }
        for s in subs {
            let what = match s.scope {
                Scope::AnyOwner => "subjects of any owner".to_string(),
                Scope::AnyRepo => format!(
                    "every repository of {}",
                    s.pins.owner_name.as_deref().unwrap_or("one owner")
                ),
                Scope::AnyContext => "every context of one repository".to_string(),
                Scope::Pinned => "one subject".to_string(),
            };
            out.push(format!("{} admits {what} ({})", st.label(), s.condition));
        }
    }
    out
}

/// Every role of `docs` that names a role ARN, against what was seen.
/// `denied` holds the subjects refused with `AccessDenied`, by role.
pub fn compare(
    docs: &[Document],
    seen: &Observed,
    denied: &BTreeMap<String, Vec<String>>,
) -> Vec<RoleTraffic> {
    let mut out = Vec::new();
    for doc in docs {
        let Some(role) = doc.role.as_deref().filter(|r| r.starts_with("arn:")) else {
            continue;
        };
        if doc.statements.is_empty() {
            continue;
        }
        let admits_text = admits(doc).join("; ");
        let subjects = seen.roles.get(role);
        let seen_text = subjects
            .map(|s| {
                s.iter()
                    .map(|(sub, v)| format!("{sub} ({}×)", v.count))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let broad = doc
            .statements
            .iter()
            .any(|st| admitted(st).iter().any(|s| s.scope != Scope::Pinned));
        let (verdict, suggestion) = match subjects {
            None => (
                "unused",
                "nobody assumed it in the window: remove the web-identity trust if it is not needed".to_string(),
            ),
            Some(s) if broad => {
                let st = &doc.statements[0];
                let list: Vec<&str> = s.keys().map(String::as_str).collect();
                let key = st.provider.key("sub");
                let cond = serde_json::json!({ "StringEquals": {
                    key: if list.len() == 1 { serde_json::json!(list[0]) } else { serde_json::json!(list) },
                    st.provider.key("aud"): st.provider.audience_hint(),
                }});
                ("tighten", cond.to_string())
            }
            Some(_) => ("ok", String::new()),
        };
        out.push(RoleTraffic {
            role: role.to_string(),
            verdict,
            admits: admits_text.clone(),
            seen: seen_text,
            suggestion,
        });
        for subject in subjects.into_iter().flat_map(|s| s.keys()) {
            if doc
                .statements
                .iter()
                .all(|st| admits_subject(st, subject) == Some(false))
            {
                out.push(RoleTraffic {
                    role: role.to_string(),
                    verdict: "seen-not-admitted",
                    admits: admits_text.clone(),
                    seen: subject.clone(),
                    suggestion: "this subject assumed the role although the trust policy given does not admit it: the policy in force differed in the window (see the trust-changes report), or this is not the document in force".to_string(),
                });
            }
        }
        for subject in denied.get(role).into_iter().flatten() {
            if doc
                .statements
                .iter()
                .any(|st| admits_subject(st, subject) == Some(true))
            {
                out.push(RoleTraffic {
                    role: role.to_string(),
                    verdict: "admitted-but-denied",
                    admits: admits_text.clone(),
                    seen: subject.clone(),
                    suggestion: "the trust policy admits this subject, so STS refused it for another reason: the token's audience, the provider (registered? its client IDs?), a session policy, or an explicit deny".to_string(),
                });
            }
        }
    }
    out
}

/// Whether the statement's conditions admit a GitHub token with this
/// subject (and the audience `sts.amazonaws.com`); `None` where a
/// condition tests a claim that cannot be told from the subject.
pub fn admits_subject(st: &Statement, subject: &str) -> Option<bool> {
    let claims = claims_of(st.provider.kind, subject);
    let mut all = true;
    for c in &st.conditions {
        let Some(claim) = st.provider.claim_of(&c.key) else {
            continue;
        };
        let value = match claim {
            "aud" => Some("sts.amazonaws.com".to_string()),
            other => claims.get(other).cloned(),
        };
        match value {
            Some(v) => all &= holds(c, &v)?,
            None if c.if_exists() => {}
            None => return None,
        }
    }
    Some(all)
}

/// Whether one condition holds for one claim value.
fn holds(c: &Condition, value: &str) -> Option<bool> {
    let matches = |p: &String| match c.base() {
        "StringEquals" | "StringNotEquals" => p == value,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => p.eq_ignore_ascii_case(value),
        "StringLike" | "StringNotLike" => Pattern::new(p.as_str()).matches(value),
        _ => false,
    };
    let any = c.values.iter().any(matches);
    match c.base() {
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" => Some(any),
        "StringNotEquals" | "StringNotEqualsIgnoreCase" | "StringNotLike" => Some(!any),
        _ => None,
    }
}

/// The claims a GitHub subject tells: `sub`, `repository`,
/// `repository_owner`, `environment`, `ref`.
fn claims_of(kind: Kind, subject: &str) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    out.insert("sub", subject.to_string());
    if kind != Kind::GitHub {
        return out;
    }
    if let Some(rest) = subject.strip_prefix("repo:") {
        let (repo, ctx) = rest.split_once(':').unwrap_or((rest, ""));
        out.insert("repository", repo.to_string());
        if let Some((owner, _)) = repo.split_once('/') {
            out.insert("repository_owner", owner.to_string());
        }
        if let Some(env) = ctx.strip_prefix("environment:") {
            out.insert("environment", env.to_string());
        }
        if let Some(r) = ctx.strip_prefix("ref:") {
            out.insert("ref", r.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::json::Json;
    use super::*;
    use crate::policy::suggest::Seen;

    fn doc(sub_op: &str, sub: &str) -> Document {
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}},"{sub_op}":{{"token.actions.githubusercontent.com:sub":"{sub}"}}}}}}]}}"#
        );
        Document::new(
            "t.json".into(),
            Some("arn:aws:iam::1:role/deploy".into()),
            Json::parse(&text).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn broad_trust_with_narrow_traffic_is_tightened() {
        let mut seen = Observed::default();
        seen.roles
            .entry("arn:aws:iam::1:role/deploy".into())
            .or_default()
            .insert(
                "repo:acme/api:ref:refs/heads/main".into(),
                Seen {
                    count: 3,
                    ..Seen::default()
                },
            );
        let denied = BTreeMap::from([(
            "arn:aws:iam::1:role/deploy".to_string(),
            vec![
                "repo:acme/web:pull_request".to_string(),
                "repo:evil/x:pull_request".to_string(),
            ],
        )]);
        let rows = compare(&[doc("StringLike", "repo:acme/*")], &seen, &denied);
        assert_eq!(rows[0].verdict, "tighten");
        assert!(
            rows[0].admits.contains("every repository of acme"),
            "{}",
            rows[0].admits
        );
        let fix: serde_json::Value = serde_json::from_str(&rows[0].suggestion).unwrap();
        assert_eq!(
            fix["StringEquals"]["token.actions.githubusercontent.com:sub"],
            "repo:acme/api:ref:refs/heads/main"
        );
        // Denied although admitted: acme/web; not admitted: evil/x.
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].verdict, "admitted-but-denied");
        assert_eq!(rows[1].seen, "repo:acme/web:pull_request");
        let unused = compare(
            &[doc("StringEquals", "repo:acme/api:ref:refs/heads/main")],
            &Observed::default(),
            &BTreeMap::new(),
        );
        assert_eq!(unused[0].verdict, "unused");
        // Seen although the document does not admit it.
        let mut other = Observed::default();
        other
            .roles
            .entry("arn:aws:iam::1:role/deploy".into())
            .or_default()
            .insert("repo:evil/x:pull_request".into(), Seen::default());
        let rows = compare(
            &[doc("StringEquals", "repo:acme/api:ref:refs/heads/main")],
            &other,
            &BTreeMap::new(),
        );
        assert_eq!(rows[1].verdict, "seen-not-admitted");
    }
}
