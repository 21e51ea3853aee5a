//! `shared-roles`: roles assumed by several repositories, or by production
//! and anything else.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, WEB_IDENTITY_CONTEXT, distinct, finding_rows,
    group, keep, string_column, strs, web_identity_calls,
};
use crate::frame::col;

#[doc = include_str!("shared_roles.md")]
pub struct SharedRoles;

const CONTEXT: &[&str] = &[col::ROLE_ARN, col::SUBJECT, "kind", "reason"];

impl Report for SharedRoles {
    fn id(&self) -> &'static str {
        "shared-roles"
    }
    fn title(&self) -> &'static str {
        "Roles shared by repositories, or by production and other contexts"
    }
    fn doc(&self) -> &'static str {
        include_str!("shared_roles.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::WebIdentity]
    }
    fn columns(&self) -> Vec<&'static str> {
        [CONTEXT, WEB_IDENTITY_CONTEXT, &[col::GH_OWNER]].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn flag(&self, frame: &DataFrame, _ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let mut df = web_identity_calls(frame, false)?;
        let roles = strs(&df, col::ROLE_ARN)?;
        let (repos, owners) = (strs(&df, col::GH_REPOSITORY)?, strs(&df, col::GH_OWNER)?);
        let (types, envs) = (
            strs(&df, col::GH_REF_TYPE)?,
            strs(&df, col::GH_ENVIRONMENT)?,
        );
        let mut seen: BTreeMap<&str, Shared> = BTreeMap::new();
        for i in 0..df.height() {
            let (Some(role), Some(repo)) = (roles.get(i), repos.get(i)) else {
                continue;
            };
            let s = seen.entry(role).or_default();
            s.repositories.insert(repo);
            s.owners.extend(owners.get(i));
            let context = match (types.get(i), envs.get(i)) {
                (_, Some(env)) if is_production(env) => {
                    s.production = true;
                    continue;
                }
                (_, Some(env)) => format!("environment {env}"),
                (Some("pull_request"), _) => "pull requests".to_string(),
                (Some("branch"), _) => "branches".to_string(),
                (Some("tag"), _) => "tags".to_string(),
                (Some(t), _) => t.to_string(),
                (None, None) => "other subjects".to_string(),
            };
            s.others.insert(context);
        }
        let verdicts: BTreeMap<&str, (Severity, &'static str, String)> = seen
            .iter()
            .filter_map(|(r, s)| Some((*r, s.verdict()?)))
            .collect();
        let judged: Vec<Option<(Severity, &'static str, String)>> = (0..df.height())
            .map(|i| roles.get(i).and_then(|r| verdicts.get(r)).cloned())
            .collect();
        df.with_column(string_column(
            "severity",
            judged.iter().map(|j| j.as_ref().map(|j| j.0.as_str())),
        ))?;
        df.with_column(string_column(
            "kind",
            judged.iter().map(|j| j.as_ref().map(|j| j.1)),
        ))?;
        df.with_column(string_column(
            "reason",
            judged.iter().map(|j| j.as_ref().map(|j| j.2.as_str())),
        ))?;
        let df = keep(df, judged.iter().map(Option::is_some))?;
        finding_rows(df, &[CONTEXT, WEB_IDENTITY_CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &[col::ROLE_ARN, "kind"],
            vec![
                col("reason").first().into(),
                distinct(col::GH_REPOSITORY),
                distinct(col::SUBJECT),
            ],
        )
    }
}

/// `production`, `prod`, `Production-EU`: a production environment.
fn is_production(env: &str) -> bool {
    env.to_ascii_lowercase().starts_with("prod")
}

/// What one role's callers were.
#[derive(Default)]
struct Shared<'a> {
    repositories: BTreeSet<&'a str>,
    owners: BTreeSet<&'a str>,
    production: bool,
    /// Contexts other than a production environment.
    others: BTreeSet<String>,
}

impl Shared<'_> {
    fn verdict(&self) -> Option<(Severity, &'static str, String)> {
        let repos: Vec<&str> = self.repositories.iter().copied().collect();
        if repos.len() > 1 {
            let severity = if self.owners.len() > 1 {
                Severity::High
            } else {
                Severity::Medium
            };
            return Some((
                severity,
                "repositories",
                format!(
                    "assumed by {} repositories of {} owner{}: {}",
                    repos.len(),
                    self.owners.len(),
                    if self.owners.len() == 1 { "" } else { "s" },
                    repos.join(", ")
                ),
            ));
        }
        if self.production && !self.others.is_empty() {
            let severity = if self.others.contains("pull requests") {
                Severity::High
            } else {
                Severity::Medium
            };
            let others: Vec<&str> = self.others.iter().map(String::as_str).collect();
            return Some((
                severity,
                "production-and-other",
                format!(
                    "assumed by a production environment and by {}",
                    others.join(", ")
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::{frame, web_identity};

    fn kinds(subjects: &[(&str, &str)]) -> Vec<(String, String, String)> {
        let records: Vec<String> = subjects
            .iter()
            .enumerate()
            .map(|(i, (role, s))| {
                let t = format!("2026-11-20T10:{i:02}:00Z");
                web_identity(&t, role, s, "sts.amazonaws.com", None)
            })
            .collect();
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let f = SharedRoles.run(&frame(&refs), None).unwrap();
        let g = &f.groups;
        (0..g.height())
            .map(|i| {
                let s = |c| strs(g, c).unwrap().get(i).unwrap().to_string();
                (s("severity"), s(col::ROLE_ARN), s("reason"))
            })
            .collect()
    }

    #[test]
    fn shared_by_repositories_owners_and_production() {
        let (a, b, c, d) = (
            "arn:aws:iam::1:role/a",
            "arn:aws:iam::1:role/b",
            "arn:aws:iam::1:role/c",
            "arn:aws:iam::1:role/d",
        );
        let got = kinds(&[
            (a, "repo:acme/api:ref:refs/heads/main"),
            (a, "repo:acme/web:ref:refs/heads/main"),
            (b, "repo:acme/api:environment:production"),
            (b, "repo:acme/api:pull_request"),
            (c, "repo:acme/api:environment:production"),
            (c, "repo:other/api:environment:production"),
            (d, "repo:acme/api:environment:production"),
            (d, "repo:acme/api:environment:Production"),
        ]);
        let r = |s: &str, role: &str, reason: &str| {
            (s.to_string(), role.to_string(), reason.to_string())
        };
        assert_eq!(
            got,
            [
                r(
                    "high",
                    b,
                    "assumed by a production environment and by pull requests"
                ),
                r(
                    "high",
                    c,
                    "assumed by 2 repositories of 2 owners: acme/api, other/api"
                ),
                r(
                    "medium",
                    a,
                    "assumed by 2 repositories of 1 owner: acme/api, acme/web"
                ),
            ]
        );
    }
}
