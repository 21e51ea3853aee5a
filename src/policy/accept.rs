//! `[[accept]]`: findings a team has decided to live with, for a reason and
//! until a date.
//!
//! ```toml
//! [[accept]]
//! report = "iam-user-keys"
//! key = "AKIAIOSFODNN7EXAMPLE"
//! reason = "legacy deploy user, replaced by OIDC in Q1 (JIRA-1234)"
//! until = "2027-03-31"
//! ```
//!
//! An entry matches a finding of its report when every field it names
//! matches (patterns as elsewhere in the policy; `source_ip` also takes a
//! CIDR prefix). It must name at least one field: accepting a whole report
//! is not what this is for. Applying entries to findings is
//! [`crate::reports::accept`]'s job.

use chrono::NaiveDate;
use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::{Pattern, SpanError};

/// What an acceptance can match, and the finding column it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Role,
    Subject,
    Repository,
    Key,
    User,
    SourceIp,
    ErrorCode,
}

impl Field {
    /// The policy file's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Role => "role",
            Field::Subject => "subject",
            Field::Repository => "repository",
            Field::Key => "key",
            Field::User => "user",
            Field::SourceIp => "source_ip",
            Field::ErrorCode => "error_code",
        }
    }

    /// The finding columns it is read from, first present wins.
    pub fn columns(self) -> &'static [&'static str] {
        use crate::frame::col;
        match self {
            Field::Role => &[col::ROLE_ARN],
            Field::Subject => &[col::SUBJECT],
            Field::Repository => &[col::GH_REPOSITORY],
            Field::Key => &[col::ACCESS_KEY_ID],
            // iam-user-keys names the user in `identity` (its ARN when known).
            Field::User => &[col::IDENTITY_ARN, "identity"],
            Field::SourceIp => &[col::SOURCE_IP],
            Field::ErrorCode => &[col::ERROR_CODE],
        }
    }
}

/// How a field's value is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Pattern(Pattern),
    /// A CIDR prefix (`source_ip = "10.20.0.0/16"`).
    Network(IpNet),
}

impl Matcher {
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Pattern(p) => p.matches(value),
            Matcher::Network(net) => value
                .trim()
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Matcher::Pattern(p) => p.to_string(),
            Matcher::Network(n) => n.to_string(),
        }
    }
}

/// One `[[accept]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// Its place among the entries (1-based), to name it in messages.
    pub number: usize,
    pub report: String,
    pub fields: Vec<(Field, Matcher)>,
    pub reason: String,
    /// The last day (UTC) it holds.
    pub until: NaiveDate,
}

impl Acceptance {
    /// `key = AKIA…, source_ip = 10.0.0.0/8`.
    pub fn describe(&self) -> String {
        self.fields
            .iter()
            .map(|(f, m)| format!("{} = {}", f.name(), m.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptFile {
    report: Spanned<String>,
    reason: Option<Spanned<String>>,
    until: Option<Spanned<String>>,
    role: Option<String>,
    subject: Option<String>,
    repository: Option<String>,
    key: Option<String>,
    user: Option<String>,
    source_ip: Option<Spanned<String>>,
    error_code: Option<String>,
}

impl AcceptFile {
    pub(super) fn check(self, number: usize) -> Result<Acceptance, SpanError> {
        let here = self.report.span();
        let reason = match self.reason {
            Some(r) if !r.get_ref().trim().is_empty() => r.into_inner(),
            Some(r) => {
                return Err(SpanError::new(
                    r.span(),
                    "`reason` is empty: say why this is accepted",
                ));
            }
            None => {
                return Err(SpanError::new(
                    here,
                    "this [[accept]] entry has no `reason`: say why the finding is accepted",
                ));
            }
        };
        let until = match self.until {
            Some(u) => NaiveDate::parse_from_str(u.get_ref(), "%Y-%m-%d").map_err(|_| {
                SpanError::new(
                    u.span(),
                    format!(
                        "`until = \"{}\"` is not a date: use YYYY-MM-DD",
                        u.get_ref()
                    ),
                )
            })?,
            None => {
                return Err(SpanError::new(
                    here,
                    "this [[accept]] entry has no `until` date: acceptances expire (until = \"YYYY-MM-DD\")",
                ));
            }
        };
        let mut fields = Vec::new();
        let pattern = |f: Field, v: Option<String>, out: &mut Vec<(Field, Matcher)>| {
            if let Some(v) = v {
                out.push((f, Matcher::Pattern(Pattern::new(v))));
            }
        };
        pattern(Field::Role, self.role, &mut fields);
        pattern(Field::Subject, self.subject, &mut fields);
        pattern(Field::Repository, self.repository, &mut fields);
        pattern(Field::Key, self.key, &mut fields);
        pattern(Field::User, self.user, &mut fields);
        if let Some(ip) = self.source_ip {
            let text = ip.get_ref().trim();
            let m = if text.contains('/') {
                Matcher::Network(
                    text.parse::<IpNet>()
                        .map_err(|e| {
                            SpanError::new(ip.span(), format!("`source_ip = \"{text}\"`: {e}"))
                        })?
                        .trunc(),
                )
            } else {
                Matcher::Pattern(Pattern::new(text))
            };
            fields.push((Field::SourceIp, m));
        }
        pattern(Field::ErrorCode, self.error_code, &mut fields);
        if fields.is_empty() {
            return Err(SpanError::new(
                here,
                "this [[accept]] entry matches every finding of its report: name what it accepts (role, subject, repository, key, user, source_ip or error_code)",
            ));
        }
        Ok(Acceptance {
            number,
            report: self.report.into_inner(),
            fields,
            reason,
            until,
        })
    }
}
