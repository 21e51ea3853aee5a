//! The policy file: which subjects and audiences may assume which roles,
//! business hours, and which IAM users may still use long-lived keys.
//!
//! Loaded from TOML with every mistake reported by line and column.
//! Patterns follow IAM `StringLike`: `*` matches any run of characters
//! (`:` and `/` included, and none), `?` exactly one, case-sensitive. This
//! module answers questions about one event at a time; it does not touch
//! the frame.

pub mod accept;
pub mod network;
pub mod suggest;

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use crate::time::Millis;

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

/// An IAM `StringLike` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(p: impl Into<String>) -> Self {
        Pattern(p.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` matches: `*` any run (including none), `?` one character.
    pub fn matches(&self, text: &str) -> bool {
        glob_match(self.0.as_bytes(), text.as_bytes())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Iterative wildcard matching with single-star backtracking: linear in
/// practice, never exponential.
fn glob_match(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == b'?' {
            // `?` is one character, which in UTF-8 may be several bytes.
            pi += 1;
            ti += utf8_len(t[ti]);
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + utf8_len(t[st]);
            star = Some((sp, ti));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
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

/// Why an instant is outside business hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffHoursReason {
    /// Not one of the working days.
    DayOff(Weekday),
    /// A listed holiday.
    Holiday(NaiveDate),
    /// Before the day's start.
    Early,
    /// At or after the day's end.
    Late,
}

impl OffHoursReason {
    /// A short machine-friendly kind: `weekend`, `holiday` or `night`.
    pub fn kind(&self) -> &'static str {
        match self {
            OffHoursReason::DayOff(_) => "day-off",
            OffHoursReason::Holiday(_) => "holiday",
            OffHoursReason::Early | OffHoursReason::Late => "outside-hours",
        }
    }
}

/// `[business_hours]`.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    pub timezone: Tz,
    pub days: BTreeSet<u32>,
    pub start: NaiveTime,
    /// `None` means midnight at the end of the day (`24:00`).
    pub end: Option<NaiveTime>,
    pub holidays: BTreeSet<NaiveDate>,
}

impl BusinessHours {
    /// The local wall-clock time of an instant, e.g. `2026-11-21 23:14 Sat CET`.
    pub fn local_time(&self, t: Millis) -> String {
        match self.timezone.timestamp_millis_opt(t).single() {
            Some(local) => local.format("%Y-%m-%d %H:%M %a %Z").to_string(),
            None => String::new(),
        }
    }

    /// `None` inside business hours; otherwise why not.
    pub fn check(&self, t: Millis) -> Option<OffHoursReason> {
        let local = self.timezone.timestamp_millis_opt(t).single()?;
        let date = local.date_naive();
        if self.holidays.contains(&date) {
            return Some(OffHoursReason::Holiday(date));
        }
        if !self.days.contains(&local.weekday().num_days_from_monday()) {
            return Some(OffHoursReason::DayOff(local.weekday()));
        }
        let time = local.time().with_nanosecond(0)?;
        if time < self.start {
            return Some(OffHoursReason::Early);
        }
        if self.end.is_some_and(|end| time >= end) {
            return Some(OffHoursReason::Late);
        }
        None
    }

    /// The reason in words, with the rule it broke.
    pub fn describe(&self, reason: &OffHoursReason) -> String {
        match reason {
            OffHoursReason::DayOff(d) => format!("{d} is not a working day"),
            OffHoursReason::Holiday(d) => format!("{d} is a holiday"),
            OffHoursReason::Early => format!("before {}", self.start.format("%H:%M")),
            OffHoursReason::Late => format!(
                "after {}",
                self.end
                    .map_or("24:00".to_string(), |e| e.format("%H:%M").to_string())
            ),
        }
    }
}

/// What the policy says about one web-identity assumption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    max_session: Option<u32>,
    business_hours: Option<BusinessHoursFile>,
    #[serde(default)]
    roles: Vec<RoleFile>,
    iam_user_keys: Option<IamUserKeysFile>,
    #[serde(default)]
    accept: Vec<accept::AcceptFile>,
    network: Option<network::NetworkFile>,
    failures: Option<FailuresFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailuresFile {
    burst: Option<BurstFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstFile {
    count: Option<Spanned<usize>>,
    within: Option<Spanned<String>>,
}

impl BurstFile {
    fn check(self) -> Result<Burst, SpanError> {
        let mut b = Burst::default();
        if let Some(c) = self.count {
            if *c.get_ref() < 2 {
                return Err(SpanError::new(c.span(), "`count` must be at least 2"));
            }
            b.count = *c.get_ref();
        }
        if let Some(w) = self.within {
            let text = w.get_ref().trim();
            let ms = text
                .ends_with(['s', 'm', 'h'])
                .then(|| crate::time::parse_bound(text, crate::time::Bound::Since, 0).ok())
                .flatten()
                .map(|t| -t)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    SpanError::new(
                        w.span(),
                        format!("`within = \"{text}\"` is not a duration: use 90s, 5m or 1h"),
                    )
                })?;
            b.within = ms;
        }
        Ok(b)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusinessHoursFile {
    timezone: Spanned<String>,
    days: Option<Spanned<Vec<Spanned<String>>>>,
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    arn: String,
    #[serde(default)]
    subjects: Vec<String>,
    audiences: Option<Vec<String>>,
    #[serde(default)]
    off_hours: OffHoursRule,
    runners: Option<network::Runners>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    max_session: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IamUserKeysFile {
    #[serde(default)]
    allowed_users: Vec<String>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
}

fn parse_clock(s: &Spanned<String>) -> Result<Option<NaiveTime>, SpanError> {
    if s.get_ref() == "24:00" {
        return Ok(None);
    }
    NaiveTime::parse_from_str(s.get_ref(), "%H:%M")
        .map(Some)
        .map_err(|_| {
            SpanError::new(
                s.span(),
                format!(
                    "`{}` is not a time of day: use HH:MM (00:00 to 24:00)",
                    s.get_ref()
                ),
            )
        })
}

fn parse_weekday(s: &Spanned<String>) -> Result<u32, SpanError> {
    let day = match s.get_ref().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        other => {
            return Err(SpanError::new(
                s.span(),
                format!("`{other}` is not a day: use mon, tue, wed, thu, fri, sat or sun"),
            ));
        }
    };
    Ok(day.num_days_from_monday())
}

impl PolicyFile {
    fn check(self) -> Result<Policy, SpanError> {
        let business_hours = self
            .business_hours
            .map(BusinessHoursFile::check)
            .transpose()?;
        let roles = self
            .roles
            .into_iter()
            .map(|r| {
                Ok(RoleRule {
                    networks: network::nets(&r.networks)?,
                    arn: Pattern::new(r.arn),
                    subjects: r.subjects.into_iter().map(Pattern::new).collect(),
                    audiences: r
                        .audiences
                        .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_string()])
                        .into_iter()
                        .map(Pattern::new)
                        .collect(),
                    off_hours: r.off_hours,
                    runners: r.runners,
                    max_session: r.max_session,
                })
            })
            .collect::<Result<_, SpanError>>()?;
        let (allowed_users, key_networks) = match self.iam_user_keys {
            Some(k) => (
                k.allowed_users.into_iter().map(Pattern::new).collect(),
                network::nets(&k.networks)?,
            ),
            None => Default::default(),
        };
        let network = self
            .network
            .map(network::NetworkFile::check)
            .transpose()?
            .unwrap_or_default();
        let accept = self
            .accept
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.check(i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            business_hours,
            roles,
            allowed_users,
            accept,
            trusted_networks: network.trusted,
            range_files: (network.github_meta, network.aws_ranges),
            key_networks,
            max_session: self.max_session.unwrap_or(DEFAULT_MAX_SESSION),
            burst: match self.failures.and_then(|f| f.burst) {
                Some(b) => b.check()?,
                None => Burst::default(),
            },
        })
    }
}

impl BusinessHoursFile {
    fn check(self) -> Result<BusinessHours, SpanError> {
        let timezone: Tz = self.timezone.get_ref().parse().map_err(|_| {
            SpanError::new(
                self.timezone.span(),
                format!(
                    "unknown time zone `{}`: use an IANA name such as Europe/Berlin or America/New_York",
                    self.timezone.get_ref()
                ),
            )
        })?;
        let days = match &self.days {
            Some(days) => {
                let set = days
                    .get_ref()
                    .iter()
                    .map(parse_weekday)
                    .collect::<Result<BTreeSet<_>, _>>()?;
                if set.is_empty() {
                    return Err(SpanError::new(
                        days.span(),
                        "`days` is empty: name at least one working day",
                    ));
                }
                set
            }
            None => (0..5).collect(),
        };
        let start = match &self.start {
            Some(s) => parse_clock(s)?
                .ok_or_else(|| SpanError::new(s.span(), "`start` cannot be 24:00"))?,
            None => NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
        };
        let end = match &self.end {
            Some(e) => {
                let end = parse_clock(e)?;
                if end.is_some_and(|end| end <= start) {
                    return Err(SpanError::new(
                        e.span(),
                        format!(
                            "`end` ({}) must be later than `start` ({})",
                            e.get_ref(),
                            start.format("%H:%M")
                        ),
                    ));
                }
                end
            }
            None => Some(NaiveTime::from_hms_opt(17, 0, 0).expect("valid")),
        };
        let holidays = self
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d").map_err(|_| {
                    SpanError::new(
                        h.span(),
                        format!("`{}` is not a date: use YYYY-MM-DD", h.get_ref()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(BusinessHours {
            timezone,
            days,
            start,
            end,
            holidays,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;

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
