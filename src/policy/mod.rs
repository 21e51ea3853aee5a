//! The policy file: which subjects and audiences may assume which roles,
//! business hours, and which IAM users may still use long-lived keys.
//!
//! Loaded from TOML with every mistake reported by line and column.
//! Patterns follow IAM `StringLike`: `*` matches any run of characters
//! (`:` and `/` included, and none), `?` exactly one, case-sensitive. This
//! module answers questions about one event at a time; it does not touch
//! the frame.

pub mod accept;
mod file;
mod hours;
pub mod network;
mod pattern;
pub mod suggest;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::time::Millis;
use file::PolicyFile;
pub use hours::{BusinessHours, OffHoursReason};
pub use pattern::Pattern;

/// The default allowed audience of GitHub's OIDC tokens for AWS.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// A policy file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Whether a role assumed outside business hours is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OffHoursRule {
    /// Reported (the default).
    #[default]
    Report,
    /// Scheduled jobs: exempt from the off-hours report.
    Allowed,
}

/// One `[[roles]]` entry.
#[derive(Debug, Clone)]
pub struct RoleRule {
    pub arn: Pattern,
    pub subjects: Vec<Pattern>,
    pub audiences: Vec<Pattern>,
    pub off_hours: OffHoursRule,
    /// Which runners its callers are expected on; `None`: the default
    /// (GitHub-hosted for GitHub subjects).
    pub runners: Option<network::Runners>,
    /// Networks its callers may also come from.
    pub networks: Vec<ipnet::IpNet>,
    /// The longest session it may ask for, in seconds (overrides the
    /// policy's `max_session`).
    pub max_session: Option<u32>,
}

/// What the policy says about one web-identity assumption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleVerdict {
    /// Some `[[roles]]` entry's `arn` matches the role.
    pub has_entry: bool,
    pub subject_allowed: bool,
    pub audience_allowed: bool,
    /// Some matching entry has `off_hours = "allowed"`.
    pub off_hours_allowed: bool,
}

/// A loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub business_hours: Option<BusinessHours>,
    pub roles: Vec<RoleRule>,
    pub allowed_users: Vec<Pattern>,
    /// `[[accept]]`: findings accepted for a reason until a date.
    pub accept: Vec<accept::Acceptance>,
    /// `[network] trusted`: networks every role's callers may come from.
    pub trusted_networks: Vec<ipnet::IpNet>,
    /// `[network] github_meta` and `aws_ranges`: range files to use instead
    /// of the built-in snapshots (resolved against the policy's folder).
    pub range_files: (Option<PathBuf>, Option<PathBuf>),
    /// `[iam_user_keys] networks`: where long-lived keys may be used from
    /// (empty: not checked).
    pub key_networks: Vec<ipnet::IpNet>,
    /// `max_session`: the longest web-identity session asked for that is
    /// not reported, in seconds (default [`DEFAULT_MAX_SESSION`]).
    pub max_session: u32,
    /// `[failures] burst`: when failed assumptions become a burst.
    pub burst: Burst,
}

/// `[failures] burst = { count = 10, within = "5m" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub count: usize,
    /// Milliseconds.
    pub within: Millis,
}

impl Default for Burst {
    fn default() -> Self {
        Burst {
            count: 10,
            within: 5 * 60_000,
        }
    }
}

/// The longest session `long-sessions` lets pass: one hour, the default a
/// web-identity session gets when it asks for none.
pub const DEFAULT_MAX_SESSION: u32 = 3600;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            business_hours: None,
            roles: Vec::new(),
            allowed_users: Vec::new(),
            accept: Vec::new(),
            trusted_networks: Vec::new(),
            range_files: (None, None),
            key_networks: Vec::new(),
            max_session: DEFAULT_MAX_SESSION,
            burst: Burst::default(),
        }
    }
}

impl Policy {
    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut policy = Policy::parse(&text).map_err(|e| e.at(path, &text))?;
        // Range files are named relative to the policy file.
        let dir = path.parent().unwrap_or(Path::new("."));
        for f in [&mut policy.range_files.0, &mut policy.range_files.1]
            .into_iter()
            .flatten()
        {
            *f = dir.join(&*f);
        }
        Ok(policy)
    }

    /// Parses policy text; errors carry byte spans until [`Policy::load`]
    /// turns them into lines and columns.
    pub fn parse(text: &str) -> Result<Policy, SpanError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| SpanError {
            span: e.span(),
            message: e.message().to_string(),
        })?;
        file.check()
    }

    /// The `[[roles]]` entries whose `arn` matches `role_arn`.
    pub fn rules_for<'p>(&'p self, role_arn: &'p str) -> impl Iterator<Item = &'p RoleRule> + 'p {
        self.roles.iter().filter(move |r| r.arn.matches(role_arn))
    }

    /// Judges one assumption of `role_arn` by `subject` with `audience`.
    pub fn verdict(
        &self,
        role_arn: Option<&str>,
        subject: Option<&str>,
        audience: Option<&str>,
    ) -> RoleVerdict {
        let mut v = RoleVerdict::default();
        let Some(role_arn) = role_arn else { return v };
        for rule in self.rules_for(role_arn) {
            v.has_entry = true;
            v.subject_allowed |=
                subject.is_some_and(|s| rule.subjects.iter().any(|p| p.matches(s)));
            v.audience_allowed |=
                audience.is_some_and(|a| rule.audiences.iter().any(|p| p.matches(a)));
            v.off_hours_allowed |= rule.off_hours == OffHoursRule::Allowed;
        }
        v
    }

    /// The subject patterns allowed for a role (union over matching entries).
    pub fn subjects_for<'p>(&'p self, role_arn: &'p str) -> impl Iterator<Item = &'p Pattern> + 'p {
        self.rules_for(role_arn).flat_map(|r| r.subjects.iter())
    }

    /// The audiences allowed for a role (union over matching entries).
    pub fn audiences_for<'p>(
        &'p self,
        role_arn: &'p str,
    ) -> impl Iterator<Item = &'p Pattern> + 'p {
        self.rules_for(role_arn).flat_map(|r| r.audiences.iter())
    }

    /// Whether an IAM user may still use long-lived keys.
    pub fn iam_user_allowed(&self, identity_arn: &str) -> bool {
        self.allowed_users.iter().any(|p| p.matches(identity_arn))
    }
}

/// [`Policy::verdict`], remembered per role, subject and audience: a
/// trail's calls repeat a few of each, and every verdict matches them
/// against the patterns of every `[[roles]]` entry.
pub struct Verdicts<'p, 'a> {
    policy: &'p Policy,
    seen: HashMap<(&'a str, Option<&'a str>, Option<&'a str>), RoleVerdict>,
}

impl<'p, 'a> Verdicts<'p, 'a> {
    pub fn new(policy: &'p Policy) -> Self {
        Verdicts {
            policy,
            seen: HashMap::new(),
        }
    }

    /// The policy judged by.
    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// What [`Policy::verdict`] says.
    pub fn get(
        &mut self,
        role_arn: Option<&'a str>,
        subject: Option<&'a str>,
        audience: Option<&'a str>,
    ) -> RoleVerdict {
        let Some(role) = role_arn else {
            return RoleVerdict::default();
        };
        let policy = self.policy;
        *self
            .seen
            .entry((role, subject, audience))
            .or_insert_with(|| policy.verdict(Some(role), subject, audience))
    }
}

/// A policy error located by byte span.
#[derive(Debug)]
pub struct SpanError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl SpanError {
    fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        SpanError {
            span: Some(span),
            message: message.into(),
        }
    }

    fn at(self, path: &Path, text: &str) -> PolicyError {
        let offset = self.span.map_or(0, |s| s.start).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        PolicyError::Invalid {
            path: path.to_owned(),
            line,
            column,
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;
    use chrono::{NaiveDate, Weekday};

    const EXAMPLE: &str = r#"
[business_hours]
timezone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "19:00"
holidays = ["2026-12-24", "2026-12-25"]

[[roles]]
arn = "arn:aws:iam::111122223333:role/gha-prod-deploy"
subjects = ["repo:acme/api:ref:refs/heads/main", "repo:acme/api:environment:production"]

[[roles]]
arn = "arn:aws:iam::111122223333:role/gha-nightly-*"
subjects = ["repo:acme/ops:ref:refs/heads/main"]
off_hours = "allowed"

[[roles]]
arn = "arn:aws:iam::111122223333:role/gha-*"
subjects = ["repo:acme/shared:*"]
audiences = ["sts.amazonaws.com", "https://github.com/acme"]

[iam_user_keys]
allowed_users = ["arn:aws:iam::111122223333:user/legacy-backup"]
"#;

    fn err(text: &str) -> String {
        match Policy::parse(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.at(Path::new("p.toml"), text).to_string(),
        }
    }

    #[test]
    fn string_like_patterns() {
        let p = |pat: &str, t: &str| Pattern::new(pat).matches(t);
        assert!(p("repo:acme/*", "repo:acme/api:ref:refs/heads/main"));
        assert!(p(
            "repo:acme/*:ref:refs/heads/*",
            "repo:acme/api:ref:refs/heads/feat/x"
        ));
        assert!(p("*", ""));
        assert!(p("a*", "a"));
        assert!(p("a?c", "abc") && !p("a?c", "ac") && !p("a?c", "abbc"));
        assert!(p("a?c", "aéc"));
        assert!(!p("repo:acme/api", "repo:acme/api:ref:refs/heads/main"));
        assert!(!p("Repo:*", "repo:x"));
        assert!(p("*a*b*c*", "xxaxxbxxcxx") && !p("*a*b*c*", "xxaxxcxxbxx"));
        assert!(!p(&"*a".repeat(30), &"a".repeat(25)));
    }

    #[test]
    fn verdict_is_the_union_of_matching_entries() {
        let policy = Policy::parse(EXAMPLE).unwrap();
        let prod = Some("arn:aws:iam::111122223333:role/gha-prod-deploy");
        let v = policy.verdict(
            prod,
            Some("repo:acme/shared:ref:refs/heads/x"),
            Some("https://github.com/acme"),
        );
        assert!(v.has_entry && v.subject_allowed && v.audience_allowed && !v.off_hours_allowed);
        let v = policy.verdict(
            prod,
            Some("repo:acme/api:ref:refs/heads/dev"),
            Some("sts.amazonaws.com"),
        );
        assert!(v.has_entry && !v.subject_allowed && v.audience_allowed);
        let v = policy.verdict(
            Some("arn:aws:iam::111122223333:role/gha-nightly-sync"),
            None,
            None,
        );
        assert!(v.off_hours_allowed);
        let v = policy.verdict(
            Some("arn:aws:iam::999:role/other"),
            Some("x"),
            Some("sts.amazonaws.com"),
        );
        assert_eq!(v, RoleVerdict::default());
        assert!(policy.iam_user_allowed("arn:aws:iam::111122223333:user/legacy-backup"));
        assert!(!policy.iam_user_allowed("arn:aws:iam::111122223333:user/ci"));
    }

    /// Remembered verdicts are the verdicts, asked in any order and again.
    #[test]
    fn remembered_verdicts_are_the_verdicts() {
        let policy = Policy::parse(EXAMPLE).unwrap();
        let roles = [
            None,
            Some("arn:aws:iam::111122223333:role/gha-prod-deploy"),
            Some("arn:aws:iam::111122223333:role/gha-nightly-sync"),
            Some("arn:aws:iam::999:role/other"),
        ];
        let subjects = [
            None,
            Some("repo:acme/shared:ref:refs/heads/x"),
            Some("repo:acme/api:ref:refs/heads/dev"),
        ];
        let audiences = [
            None,
            Some("sts.amazonaws.com"),
            Some("https://github.com/acme"),
        ];
        let mut verdicts = Verdicts::new(&policy);
        for _ in 0..2 {
            for r in roles {
                for s in subjects {
                    for a in audiences {
                        assert_eq!(
                            verdicts.get(r, s, a),
                            policy.verdict(r, s, a),
                            "{r:?} {s:?} {a:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn business_hours_follow_the_time_zone_and_dst() {
        let bh = Policy::parse(EXAMPLE).unwrap().business_hours.unwrap();
        let at = |s: &str| bh.check(parse_event_time(s).unwrap());
        // Winter (CET, UTC+1): 07:30 UTC is 08:30 local.
        assert_eq!(at("2026-11-20T07:30:00Z"), None);
        assert_eq!(at("2026-11-20T06:59:59Z"), Some(OffHoursReason::Early));
        assert_eq!(at("2026-11-20T18:00:00Z"), Some(OffHoursReason::Late));
        assert_eq!(at("2026-11-20T17:59:59Z"), None);
        // Summer (CEST, UTC+2): 06:30 UTC is 08:30 local.
        assert_eq!(at("2026-07-10T06:30:00Z"), None);
        assert_eq!(at("2026-07-10T17:00:00Z"), Some(OffHoursReason::Late));
        // Saturday, and a Friday evening in UTC that is Saturday in Berlin.
        assert_eq!(
            at("2026-11-21T12:00:00Z"),
            Some(OffHoursReason::DayOff(Weekday::Sat))
        );
        assert_eq!(
            at("2026-11-20T23:30:00Z"),
            Some(OffHoursReason::DayOff(Weekday::Sat))
        );
        // A holiday on a Thursday.
        assert_eq!(
            at("2026-12-24T10:00:00Z"),
            Some(OffHoursReason::Holiday(
                NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()
            ))
        );
        assert_eq!(
            bh.local_time(parse_event_time("2026-11-20T23:30:00Z").unwrap()),
            "2026-11-21 00:30 Sat CET"
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            err("[business_hours]\ntimezone = \"Mars/Olympus\"\n"),
            "p.toml:2:12: unknown time zone `Mars/Olympus`: use an IANA name such as Europe/Berlin or America/New_York"
        );
        let e = err("[business_hours]\ntimezone = \"UTC\"\nstart = \"8am\"\n");
        assert!(
            e.starts_with("p.toml:3:9: `8am` is not a time of day"),
            "{e}"
        );
        let e = err("[[roles]]\narn = \"x\"\nsubject = [\"y\"]\n");
        assert!(e.starts_with("p.toml:3:1: unknown field `subject`"), "{e}");
        let e = err("[business_hours]\ntimezone = \"UTC\"\nstart = \"19:00\"\nend = \"08:00\"\n");
        assert!(
            e.contains("4:7: `end` (08:00) must be later than `start` (19:00)"),
            "{e}"
        );
        let e = err("[business_hours]\ntimezone = \"UTC\"\nholidays = [\"24.12.2026\"]\n");
        assert!(
            e.starts_with("p.toml:3:13: `24.12.2026` is not a date"),
            "{e}"
        );
        let e = err("[business_hours]\ntimezone = \"UTC\"\ndays = [\"funday\"]\n");
        assert!(e.starts_with("p.toml:3:9: `funday` is not a day"), "{e}");
        let e = err("[[roles]]\narn = \n");
        assert!(e.starts_with("p.toml:2:"), "{e}");
        let e = err("[[roles]]\narn = \"x\"\noff_hours = \"sometimes\"\n");
        assert!(
            e.starts_with("p.toml:3:13: unknown variant `sometimes`"),
            "{e}"
        );
    }

    #[test]
    fn defaults() {
        let p = Policy::parse("[business_hours]\ntimezone = \"UTC\"\n[[roles]]\narn = \"r\"\n")
            .unwrap();
        let bh = p.business_hours.unwrap();
        assert_eq!(bh.days.len(), 5);
        assert_eq!(p.roles[0].audiences, vec![Pattern::new(DEFAULT_AUDIENCE)]);
        assert!(p.roles[0].subjects.is_empty());
        let p = Policy::parse("[business_hours]\ntimezone = \"UTC\"\nend = \"24:00\"\n").unwrap();
        assert_eq!(
            p.business_hours
                .unwrap()
                .check(parse_event_time("2026-11-20T23:59:00Z").unwrap()),
            None
        );
    }
}
