//! What a query would scan, before it is sent: the table's projection
//! (from `GetTableMetadata`: the accounts, the regions and the storage
//! location template) gives the S3 folders of the window's partitions,
//! and listing them gives the bytes Athena will read (gzip objects are
//! billed as stored).

use std::collections::HashMap;

use crate::aws::s3::{S3Url, Scope};
use crate::time::{Millis, Window};

/// Where the table's data is, and which accounts and regions it projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The trail's folder above the account folders.
    pub base: S3Url,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

impl Layout {
    /// From the table's parameters: `storage.location.template` (as
    /// `ctaudit athena table` writes it) or else `location`, and the
    /// `enum` projections' values.
    pub fn of(params: &HashMap<String, String>) -> Result<Layout, String> {
        let list = |key: &str| -> Vec<String> {
            params
                .get(key)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let base = match params.get("storage.location.template") {
            Some(t) => t
                .split("${account}")
                .next()
                .filter(|b| b.len() < t.len())
                .ok_or_else(|| format!("its storage.location.template {t:?} has no ${{account}}"))?
                .to_string(),
            None => params
                .get("location")
                .cloned()
                .ok_or("it has neither a storage.location.template nor a location")?,
        };
        Ok(Layout {
            base: base.parse()?,
            accounts: list("projection.account.values"),
            regions: list("projection.region.values"),
        })
    }

    /// What to list for a query over `window`: its days, and the day after
    /// (as the query reads them).
    pub fn scope(&self, window: &Window, now: Millis) -> Scope {
        Scope {
            window: Window {
                since: window.since,
                until: Some(window.until.unwrap_or(now) + 86_400_000),
            },
            now,
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_comes_from_the_projection() {
        let params: HashMap<String, String> = [
            (
                "storage.location.template",
                "s3://trail/AWSLogs/o-abc/${account}/CloudTrail/${region}/${day}",
            ),
            ("projection.account.values", "111122223333,444455556666"),
            ("projection.region.values", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let l = Layout::of(&params).unwrap();
        assert_eq!(l.base.to_string(), "s3://trail/AWSLogs/o-abc/");
        assert_eq!(l.accounts.len(), 2);
        assert_eq!(l.regions, ["us-east-1"]);
        assert!(Layout::of(&HashMap::new()).is_err());
    }
}
