//! The account's roles and OIDC providers, for `ctaudit trust --api`: IAM
//! `ListRoles` (each role's trust document, which IAM returns URL-encoded)
//! and `ListOpenIDConnectProviders`/`GetOpenIDConnectProvider` (URL, client
//! IDs, thumbprints). Read-only; IAM is global and answers in the home
//! region.

use aws_config::SdkConfig;
use serde::Serialize;

use super::describe_error;

/// One IAM role and its trust document as IAM returns it.
#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
    pub document: String,
}

/// One OIDC provider registered in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OidcProvider {
    pub arn: String,
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
}

/// Every role with a trust document, and every OIDC provider.
pub async fn inventory(sdk: &SdkConfig) -> Result<(Vec<Role>, Vec<OidcProvider>), String> {
    let conf = aws_sdk_iam::config::Builder::from(sdk)
        .region(super::home_region(sdk))
        .retry_classifier(super::TlsRefusal)
        .build();
    let iam = aws_sdk_iam::Client::from_conf(conf);
    let roles = iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| format!("IAM ListRoles: {}", describe_error(&e)))?;
    let roles = roles
        .into_iter()
        .filter_map(|r| {
            Some(Role {
                arn: r.arn().to_string(),
                document: r.assume_role_policy_document()?.to_string(),
            })
        })
        .collect();
    let listed = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| format!("IAM ListOpenIDConnectProviders: {}", describe_error(&e)))?;
    let mut providers = Vec::new();
    for p in listed.open_id_connect_provider_list() {
        let Some(arn) = p.arn() else { continue };
        let got = iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(|e| format!("IAM GetOpenIDConnectProvider {arn}: {}", describe_error(&e)))?;
        providers.push(OidcProvider {
            arn: arn.to_string(),
            url: got.url().unwrap_or_default().to_string(),
            client_ids: got.client_id_list().to_vec(),
            thumbprints: got.thumbprint_list().to_vec(),
        });
    }
    providers.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok((roles, providers))
}
