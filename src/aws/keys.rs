//! The account's long-lived access keys, so that the IAM-user-key report can
//! look each one up (`AccessKeyId = <key>`) instead of paging through every
//! management event: IAM `ListUsers` and `ListAccessKeys`, and
//! `GetAccountSummary` for whether the root user has keys (their ids cannot
//! be listed, so root is looked up by user name).

use aws_config::SdkConfig;
use aws_sdk_iam::types::SummaryKeyType;
use serde::Serialize;

use super::describe_error;
use crate::ingest::is_long_lived_key;
use crate::policy::Policy;

/// One key that is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRef {
    pub user: String,
    pub access_key_id: String,
    /// `Active` or `Inactive` (an inactive key may have been used earlier in
    /// the window).
    pub status: String,
}

/// What the IAM inventory found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyInventory {
    pub keys: Vec<KeyRef>,
    /// `GetAccountSummary` says the root user has access keys.
    pub root_has_keys: bool,
    /// Users the policy allows to keep keys: their keys are not looked up.
    pub allowed_users: Vec<String>,
}

/// Lists the account's IAM users and their access keys, and whether the
/// root user has keys.
pub async fn inventory(sdk: &SdkConfig, policy: Option<&Policy>) -> Result<KeyInventory, String> {
    let conf = aws_sdk_iam::config::Builder::from(sdk)
        .region(super::home_region(sdk))
        .retry_classifier(super::TlsRefusal)
        .build();
    let iam = aws_sdk_iam::Client::from_conf(conf);
    let mut inv = KeyInventory::default();

    let users = iam
        .list_users()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| format!("IAM ListUsers: {}", describe_error(&e)))?;
    for user in users {
        if policy.is_some_and(|p| p.iam_user_allowed(user.arn())) {
            inv.allowed_users.push(user.arn().to_string());
            continue;
        }
        let keys = iam
            .list_access_keys()
            .user_name(user.user_name())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                format!(
                    "IAM ListAccessKeys for {}: {}",
                    user.user_name(),
                    describe_error(&e)
                )
            })?;
        for key in keys {
            let Some(id) = key.access_key_id().filter(|k| is_long_lived_key(k)) else {
                continue;
            };
            inv.keys.push(KeyRef {
                user: user.user_name().to_string(),
                access_key_id: id.to_string(),
                status: key
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
    }
    inv.keys
        .sort_by(|a, b| (&a.user, &a.access_key_id).cmp(&(&b.user, &b.access_key_id)));

    let summary = iam
        .get_account_summary()
        .send()
        .await
        .map_err(|e| format!("IAM GetAccountSummary: {}", describe_error(&e)))?;
    inv.root_has_keys = summary
        .summary_map()
        .and_then(|m| m.get(&SummaryKeyType::AccountAccessKeysPresent))
        .is_some_and(|n| *n > 0);
    Ok(inv)
}
