//! What a pull asked of the API and how each region answered, for the run's
//! summary.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Lookup, Plan};

/// How one region's pull went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegionOutcome {
    pub region: String,
    /// Requests sent, retries included.
    pub requests: u64,
    pub pages: u64,
    /// Results per lookup, in the plan's order.
    pub events: Vec<u64>,
    /// Retried answers by kind (`throttled`, `server-error`, `network`).
    pub retried: BTreeMap<&'static str, u64>,
    /// Why the region was given up, if it was (its pages so far are kept).
    pub error: Option<String>,
}

/// What was asked of the API, for the run's summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApiSummary {
    pub start: String,
    pub end: String,
    /// The lookups, in the order each region was asked.
    pub lookups: Vec<String>,
    pub regions: Vec<RegionOutcome>,
    /// The IAM inventory behind the `AccessKeyId` lookups, when the
    /// IAM-user-key report ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<crate::aws::keys::KeyInventory>,
}

impl ApiSummary {
    pub fn new(
        plan: &Plan,
        regions: Vec<RegionOutcome>,
        keys: Option<crate::aws::keys::KeyInventory>,
    ) -> Self {
        ApiSummary {
            start: crate::time::format_millis(plan.start),
            end: crate::time::format_millis(plan.end),
            lookups: plan
                .lookups
                .iter()
                .map(|l| Lookup::describe(l.as_ref()))
                .collect(),
            regions,
            keys,
        }
    }

    /// One line per fact, for the report header.
    pub fn describe(&self) -> Vec<String> {
        let sum = |f: &dyn Fn(&RegionOutcome) -> u64| self.regions.iter().map(f).sum::<u64>();
        let names: Vec<&str> = self.regions.iter().map(|r| r.region.as_str()).collect();
        let mut lines = vec![format!(
            "CloudTrail API: {} to {}, {} region(s) ({}), {} requests, {} pages",
            self.start,
            self.end,
            names.len(),
            names.join(", "),
            sum(&|r| r.requests),
            sum(&|r| r.pages),
        )];
        let mut retried: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &self.regions {
            for (k, v) in &r.retried {
                *retried.entry(k).or_default() += v;
            }
        }
        if !retried.is_empty() {
            let parts: Vec<String> = retried.iter().map(|(k, v)| format!("{k} {v}")).collect();
            lines.push(format!("  retried: {}", parts.join(", ")));
        }
        let key_owner = |value: &str| {
            self.keys
                .as_ref()
                .and_then(|k| k.keys.iter().find(|k| k.access_key_id == value))
                .map(|k| format!(" ({}, {})", k.user, k.status.to_lowercase()))
                .unwrap_or_default()
        };
        for (i, lookup) in self.lookups.iter().enumerate() {
            let events: u64 = sum(&|r| r.events.get(i).copied().unwrap_or(0));
            let owner = lookup
                .strip_prefix("AccessKeyId=")
                .map(key_owner)
                .unwrap_or_default();
            lines.push(format!("  looked up {lookup}{owner}: {events} events"));
        }
        if let Some(keys) = &self.keys {
            if keys.keys.is_empty() {
                lines.push("  IAM lists no long-lived user keys".to_string());
            }
            if keys.root_has_keys {
                lines.push(
                    "  the root user has access keys (looked up by user name: their ids cannot be listed)"
                        .to_string(),
                );
            }
            for user in &keys.allowed_users {
                lines.push(format!(
                    "  not looked up: keys of {user} (allowed by the policy)"
                ));
            }
            lines.push(
                "  keys deleted before this run cannot be listed: read the trail (--s3, --logs) to see their use"
                    .to_string(),
            );
        }
        lines
    }
}
