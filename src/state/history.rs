//! What earlier runs saw: the baseline the `new-subjects` report compares a
//! window with. For each role, the subjects and repositories that assumed
//! it; for each long-lived key, the networks (/24 for IPv4, /48 for IPv6)
//! and user-agent families it was used from; each with first and last seen.
//!
//! Kept in the state file between scheduled runs, or built from the store's
//! events before the window. Entries not seen for the baseline's length are
//! forgotten, so the history stays the size of what is in use.

use std::collections::BTreeMap;
use std::net::IpAddr;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::col;
use crate::ingest::{WEB_IDENTITY, is_long_lived_key};
use crate::time::Millis;

/// When something was first and last seen (RFC 3339 in the state file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    #[serde(with = "rfc3339")]
    pub first: Millis,
    #[serde(with = "rfc3339")]
    pub last: Millis,
}

impl Seen {
    fn at(t: Millis) -> Seen {
        Seen { first: t, last: t }
    }

    fn widen(&mut self, t: Millis) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// What a long-lived key was seen doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHistory {
    #[serde(flatten)]
    pub seen: Seen,
    #[serde(default)]
    pub networks: BTreeMap<String, Seen>,
    #[serde(default)]
    pub agents: BTreeMap<String, Seen>,
}

/// The baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Role ARN → subject → when it assumed the role.
    #[serde(default)]
    pub subjects: BTreeMap<String, BTreeMap<String, Seen>>,
    /// Role ARN → repository (owner/name) → when.
    #[serde(default)]
    pub repositories: BTreeMap<String, BTreeMap<String, Seen>>,
    /// Long-lived access key id → its uses.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyHistory>,
}

fn note(map: &mut BTreeMap<String, Seen>, key: &str, t: Millis) {
    match map.get_mut(key) {
        Some(seen) => seen.widen(t),
        None => {
            map.insert(key.to_string(), Seen::at(t));
        }
    }
}

/// The columns [`History::observe`] reads.
pub const COLUMNS: &[&str] = &[
    col::EVENT_NAME,
    col::ERROR_CODE,
    col::ROLE_ARN,
    col::SUBJECT,
    col::GH_REPOSITORY,
    col::ACCESS_KEY_ID,
    col::SOURCE_IP,
    col::USER_AGENT,
];

impl History {
    /// Adds what the events of `frame` (the events frame's schema) show:
    /// successful web-identity assumptions and long-lived key uses. Events
    /// without a time cannot be placed and are left out.
    pub fn observe(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        let s = |name| frame.column(name).and_then(|c| c.str().cloned());
        let (names, errors) = (s(col::EVENT_NAME)?, s(col::ERROR_CODE)?);
        let (roles, subjects, repos) =
            (s(col::ROLE_ARN)?, s(col::SUBJECT)?, s(col::GH_REPOSITORY)?);
        let (keys, ips, agents) = (
            s(col::ACCESS_KEY_ID)?,
            s(col::SOURCE_IP)?,
            s(col::USER_AGENT)?,
        );
        let times = frame
            .column(col::EVENT_TIME)?
            .as_materialized_series()
            .to_physical_repr();
        let times = times.i64()?;
        for i in 0..frame.height() {
            let Some(t) = times.get(i) else { continue };
            if names.get(i) == Some(WEB_IDENTITY)
                && errors.get(i).is_none()
                && let Some(role) = roles.get(i)
            {
                if let Some(subject) = subjects.get(i) {
                    note(self.subjects.entry(role.into()).or_default(), subject, t);
                }
                if let Some(repo) = repos.get(i) {
                    note(self.repositories.entry(role.into()).or_default(), repo, t);
                }
            }
            if let Some(key) = keys.get(i).filter(|k| is_long_lived_key(k)) {
                let entry = self.keys.entry(key.into()).or_insert_with(|| KeyHistory {
                    seen: Seen::at(t),
                    networks: BTreeMap::new(),
                    agents: BTreeMap::new(),
                });
                entry.seen.widen(t);
                if let Some(ip) = ips.get(i) {
                    note(&mut entry.networks, &network(ip), t);
                }
                if let Some(ua) = agents.get(i) {
                    note(&mut entry.agents, &agent_family(ua), t);
                }
            }
        }
        Ok(())
    }

    /// Forgets what was last seen before `cutoff`.
    pub fn forget_before(&mut self, cutoff: Millis) {
        let keep = |m: &mut BTreeMap<String, Seen>| m.retain(|_, s| s.last >= cutoff);
        for m in self
            .subjects
            .values_mut()
            .chain(self.repositories.values_mut())
        {
            keep(m);
        }
        self.subjects.retain(|_, m| !m.is_empty());
        self.repositories.retain(|_, m| !m.is_empty());
        self.keys.retain(|_, k| k.seen.last >= cutoff);
        for k in self.keys.values_mut() {
            keep(&mut k.networks);
            keep(&mut k.agents);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty() && self.repositories.is_empty() && self.keys.is_empty()
    }
}

/// The network a caller's address belongs to for "new network" checks: its
/// /24 (IPv4) or /48 (IPv6). Addresses that are not IPs (service names such
/// as `sts.amazonaws.com`, `AWS Internal`) are their own network.
pub fn network(source_ip: &str) -> String {
    let prefix = |ip: IpAddr| match ip {
        IpAddr::V4(_) => 24,
        IpAddr::V6(_) => 48,
    };
    match source_ip.trim().parse::<IpAddr>() {
        Ok(ip) => ipnet::IpNet::new(ip, prefix(ip))
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| ip.to_string()),
        Err(_) => source_ip.trim().to_string(),
    }
}

/// A user agent's family: its first product name, lower-cased, without its
/// version (`aws-cli/2.15.0 Python/3.11 …` → `aws-cli`, `Boto3/1.34 …` →
/// `boto3`, `[Terraform/1.6.0 …]` → `terraform`). Versions change with
/// every upgrade; the family changes when different software uses the key.
pub fn agent_family(user_agent: &str) -> String {
    let ua = user_agent.trim().trim_start_matches(['[', '(']);
    let end = ua
        .find(|c: char| c == '/' || c.is_whitespace() || c == ']' || c == ')')
        .unwrap_or(ua.len());
    let family: String = ua[..end].chars().take(48).collect();
    if family.is_empty() {
        "(none)".to_string()
    } else {
        family.to_ascii_lowercase()
    }
}

pub(super) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::{Millis, format_millis, parse_event_time};

    pub fn serialize<S: Serializer>(t: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_millis(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let text = String::deserialize(d)?;
        parse_event_time(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time")))
    }
}

pub(super) mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::{Millis, format_millis, parse_event_time};

    pub fn serialize<S: Serializer>(t: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                parse_event_time(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_families() {
        assert_eq!(network("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network("2001:db8:abcd:12::1"), "2001:db8:abcd::/48");
        assert_eq!(network("sts.amazonaws.com"), "sts.amazonaws.com");
        assert_eq!(
            agent_family("aws-cli/2.15.0 Python/3.11.6 Linux"),
            "aws-cli"
        );
        assert_eq!(agent_family("Boto3/1.34.0 md/Botocore#1.34.0"), "boto3");
        assert_eq!(
            agent_family("[Terraform/1.6.0 (+https://www.terraform.io)]"),
            "terraform"
        );
        assert_eq!(
            agent_family("console.amazonaws.com"),
            "console.amazonaws.com"
        );
        assert_eq!(agent_family(""), "(none)");
    }

    #[test]
    fn observes_assumptions_and_key_uses_and_forgets_old_ones() {
        use crate::reports::testing::{frame, web_identity};
        let role = "arn:aws:iam::111122223333:role/deploy";
        let key = r#"{"eventTime":"2026-11-02T10:00:00Z","eventID":"k1","eventName":"GetCallerIdentity","eventSource":"sts.amazonaws.com","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAEXAMPLE0000001"}}"#;
        let records = [
            web_identity(
                "2026-11-01T10:00:00Z",
                role,
                "repo:acme/api:ref:refs/heads/main",
                "sts.amazonaws.com",
                None,
            ),
            web_identity(
                "2026-11-03T10:00:00Z",
                role,
                "repo:acme/api:ref:refs/heads/main",
                "sts.amazonaws.com",
                None,
            ),
            web_identity(
                "2026-11-03T11:00:00Z",
                role,
                "repo:evil/x:ref:refs/heads/main",
                "sts.amazonaws.com",
                Some(("AccessDenied", "no")),
            ),
            key.to_string(),
        ];
        let refs: Vec<&str> = records.iter().map(String::as_str).collect();
        let mut h = History::default();
        h.observe(&frame(&refs)).unwrap();
        let subjects = &h.subjects[role];
        assert_eq!(
            subjects.len(),
            1,
            "failed calls are not history: {subjects:?}"
        );
        let seen = subjects["repo:acme/api:ref:refs/heads/main"];
        assert_eq!(
            format!(
                "{} {}",
                crate::time::format_millis(seen.first),
                crate::time::format_millis(seen.last)
            ),
            "2026-11-01T10:00:00Z 2026-11-03T10:00:00Z"
        );
        assert!(h.repositories[role].contains_key("acme/api"));
        let k = &h.keys["AKIAEXAMPLE0000001"];
        assert!(k.networks.contains_key("198.51.100.0/24") && k.agents.contains_key("aws-cli"));

        let text = serde_json::to_string(&h).unwrap();
        assert!(
            text.contains("\"first\":\"2026-11-01T10:00:00Z\""),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<History>(&text).unwrap(), h);

        h.forget_before(crate::time::parse_event_time("2026-11-02T12:00:00Z").unwrap());
        assert!(h.keys.is_empty());
        assert_eq!(h.subjects[role].len(), 1);
    }
}
