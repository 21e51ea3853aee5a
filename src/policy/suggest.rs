//! `policy.toml` drafted from what was seen: one `[[roles]]` entry per role
//! that was assumed, listing the exact subjects that assumed it (grouped by
//! repository, each commented with its count and first and last time), the
//! audiences where they are not the default, an `[iam_user_keys]` section
//! that allows nobody, and a commented `[business_hours]` template. Read
//! back by [`super::Policy::parse`], it makes every assumption it was drafted
//! from expected: the first run on a real account becomes a useful one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use polars::prelude::*;

use crate::frame::col;
use crate::time::format_millis;

/// What one subject did with one role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub count: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// `owner/name`, where the subject names a GitHub repository.
    pub repository: Option<String>,
}

/// Role → subject → what it did; role → audiences seen.
#[derive(Debug, Default)]
pub struct Observed {
    pub roles: BTreeMap<String, BTreeMap<String, Seen>>,
    pub audiences: BTreeMap<String, BTreeMap<String, u64>>,
    /// Successful web-identity assumptions read.
    pub assumptions: u64,
}

/// The successful `AssumeRoleWithWebIdentity` calls of an events frame
/// (events frame schema), by role and subject.
pub fn observe(events: &DataFrame) -> PolarsResult<Observed> {
    let calls = events
        .clone()
        .lazy()
        .filter(col(col::EVENT_NAME).eq(lit(crate::ingest::WEB_IDENTITY)))
        .filter(col(col::ERROR_CODE).is_null())
        .filter(col(col::ROLE_ARN).is_not_null())
        .filter(col(col::SUBJECT).is_not_null())
        .select([
            col(col::ROLE_ARN),
            col(col::SUBJECT),
            col(col::AUDIENCE),
            col(col::GH_REPOSITORY),
            col(col::EVENT_TIME).cast(DataType::Int64).alias("t"),
        ])
        .collect()?;
    let roles = calls.column(col::ROLE_ARN)?.str()?;
    let subjects = calls.column(col::SUBJECT)?.str()?;
    let audiences = calls.column(col::AUDIENCE)?.str()?;
    let repos = calls.column(col::GH_REPOSITORY)?.str()?;
    let times = calls.column("t")?.i64()?;
    let mut out = Observed::default();
    for i in 0..calls.height() {
        let (Some(role), Some(subject)) = (roles.get(i), subjects.get(i)) else {
            continue;
        };
        out.assumptions += 1;
        let seen = out
            .roles
            .entry(role.to_string())
            .or_default()
            .entry(subject.to_string())
            .or_default();
        seen.count += 1;
        if let Some(t) = times.get(i) {
            seen.first = Some(seen.first.map_or(t, |f| f.min(t)));
            seen.last = Some(seen.last.map_or(t, |l| l.max(t)));
        }
        if seen.repository.is_none() {
            seen.repository = repos.get(i).map(str::to_owned);
        }
        let audience = audiences.get(i).unwrap_or(DEFAULT_AUDIENCE);
        *out.audiences
            .entry(role.to_string())
            .or_default()
            .entry(audience.to_string())
            .or_default() += 1;
    }
    Ok(out)
}

const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// A TOML string literal (quoted and escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The drafted policy file. `about` says where the events came from (one
/// comment line); `notes` per role are written as comments above its entry
/// (what its trust policy admits, where known).
pub fn suggest(seen: &Observed, about: &str, notes: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# ctaudit policy drafted by `ctaudit policy suggest` from {} successful role\n# assumptions ({about}).",
        seen.assumptions
    );
    out.push_str(
        "# Every subject below was seen assuming its role. Review each one before you\n\
         # rely on this file: a subject that should not have assumed its role belongs\n\
         # in an investigation (`ctaudit trace --subject …`), not here.\n\n",
    );
    out.push_str(
        "# Business hours, for the off-hours report: uncomment and adjust.\n\
         # [business_hours]\n\
         # timezone = \"UTC\"\n\
         # days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
         # start = \"08:00\"\n\
         # end = \"18:00\"\n\
         # holidays = []\n",
    );
    for (role, subjects) in &seen.roles {
        out.push('\n');
        for note in notes.get(role).into_iter().flatten() {
            let _ = writeln!(out, "# {}", one_line(note));
        }
        let _ = writeln!(out, "[[roles]]\narn = {}\nsubjects = [", quoted(role));
        let mut by_repo: BTreeMap<&str, Vec<(&String, &Seen)>> = BTreeMap::new();
        for (subject, s) in subjects {
            by_repo
                .entry(s.repository.as_deref().unwrap_or(""))
                .or_default()
                .push((subject, s));
        }
        for (repo, list) in by_repo {
            if !repo.is_empty() {
                let _ = writeln!(out, "  # {}", one_line(repo));
            }
            for (subject, s) in list {
                let when = match (s.first, s.last) {
                    (Some(f), Some(l)) if f == l => format_millis(f),
                    (Some(f), Some(l)) => format!("{} .. {}", format_millis(f), format_millis(l)),
                    _ => "time unknown".to_string(),
                };
                let times = if s.count == 1 { "time" } else { "times" };
                let _ = writeln!(out, "  {},  # {} {times}, {when}", quoted(subject), s.count);
            }
        }
        out.push_str("]\n");
        let auds = &seen.audiences[role];
        if auds.keys().any(|a| a != DEFAULT_AUDIENCE) {
            let list: Vec<String> = auds.keys().map(|a| quoted(a)).collect();
            let _ = writeln!(out, "audiences = [{}]", list.join(", "));
        }
    }
    out.push_str(
        "\n[iam_user_keys]\n\
         # Nobody: every use of a long-lived key stays a finding until someone\n\
         # accepts it here, by ARN (wildcards allowed), with a reason beside it.\n\
         allowed_users = []\n",
    );
    out
}

/// Text for a comment: one line, no control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn a_drafted_policy_reads_back_and_expects_what_was_seen() {
        let events = crate::frame::from_json(
            &[
                r#"{"eventID":"1","eventTime":"2026-11-16T10:00:00Z","eventName":"AssumeRoleWithWebIdentity","requestParameters":{"roleArn":"arn:aws:iam::1:role/deploy"},"responseElements":{"subjectFromWebIdentityToken":"repo:acme/api:ref:refs/heads/main","audience":"sts.amazonaws.com"}}"#,
                r#"{"eventID":"2","eventTime":"2026-11-17T10:00:00Z","eventName":"AssumeRoleWithWebIdentity","requestParameters":{"roleArn":"arn:aws:iam::1:role/deploy"},"responseElements":{"subjectFromWebIdentityToken":"repo:acme/api:ref:refs/heads/main","audience":"https://github.com/acme"}}"#,
                r#"{"eventID":"3","eventTime":"2026-11-17T11:00:00Z","eventName":"AssumeRoleWithWebIdentity","errorCode":"AccessDenied","requestParameters":{"roleArn":"arn:aws:iam::1:role/deploy"}}"#,
                r#"{"eventID":"4","eventTime":"2026-11-17T12:00:00Z","eventName":"AssumeRoleWithWebIdentity","requestParameters":{"roleArn":"arn:aws:iam::1:role/we\"ird"},"responseElements":{"subjectFromWebIdentityToken":"repo:x/y:pull_request\n# injected"}}"#,
            ],
            true,
        );
        let seen = observe(&events).unwrap();
        assert_eq!(seen.assumptions, 3);
        let mut notes = BTreeMap::new();
        notes.insert(
            "arn:aws:iam::1:role/deploy".to_string(),
            vec!["trust policy admits repo:acme/*\n[[roles]]".to_string()],
        );
        let text = suggest(&seen, "test", &notes);
        let policy = Policy::parse(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let v = policy.verdict(
            Some("arn:aws:iam::1:role/deploy"),
            Some("repo:acme/api:ref:refs/heads/main"),
            Some("https://github.com/acme"),
        );
        assert!(v.subject_allowed && v.audience_allowed, "{text}");
        assert_eq!(policy.roles.len(), 2);
        assert!(
            text.contains("# 2 times, 2026-11-16T10:00:00Z .. 2026-11-17T10:00:00Z"),
            "{text}"
        );
        assert!(text.contains("allowed_users = []"));
        assert!(text.contains("# [business_hours]"));
    }
}
