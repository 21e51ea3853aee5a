//! Web-identity providers: which one a statement trusts, and what its
//! condition keys and subjects mean. The `sub` claim names a repository,
//! project, workspace or service account in each provider's own terms;
//! [`Provider::scope`] reads a subject pattern as how much it admits.

/// The CI systems and identity providers ctaudit knows the claims of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// GitHub Actions (`token.actions.githubusercontent.com`, and GitHub
    /// Enterprise's `token.actions.githubusercontent.com/<slug>`).
    GitHub,
    /// GitLab CI (gitlab.com or a self-managed host with `gitlab` in it).
    GitLab,
    /// HCP Terraform / Terraform Cloud (`app.terraform.io`).
    TerraformCloud,
    /// Bitbucket Pipelines (`api.bitbucket.org/2.0/workspaces/…`).
    Bitbucket,
    /// CircleCI (`oidc.circleci.com/org/…`).
    CircleCi,
    /// EKS service accounts (`oidc.eks.<region>.amazonaws.com/id/…`).
    Eks,
    /// Amazon Cognito identity pools (`cognito-identity.amazonaws.com`).
    Cognito,
    /// Any other provider (Google, a custom OIDC issuer, `*`).
    Other,
}

/// The provider a statement trusts: its condition-key prefix and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// What condition keys start with (`token.actions.githubusercontent.com`);
    /// `*` for a statement that trusts every provider.
    pub host: String,
    pub kind: Kind,
}

impl Provider {
    /// From a `Federated` principal: an OIDC provider ARN, or a provider's
    /// name (`cognito-identity.amazonaws.com`, `accounts.google.com`).
    /// `None` for a template placeholder that names no provider.
    pub fn from_principal(principal: &str) -> Option<Provider> {
        if principal == "*" {
            return Some(Provider {
                host: "*".into(),
                kind: Kind::Other,
            });
        }
        let host = match principal.split_once(":oidc-provider/") {
            Some((_, host)) => host,
            None if principal.starts_with("arn:") => return None,
            None => principal,
        };
        if host.is_empty() || host.contains(['$', '{', '}']) || host.starts_with("__") {
            return None;
        }
        Some(Provider::of_host(host))
    }

    /// From the condition keys, when the principal is a placeholder: the
    /// prefix of the first `…:sub` or `…:aud` key.
    pub fn from_condition_keys<'k>(keys: impl Iterator<Item = &'k str>) -> Option<Provider> {
        keys.filter_map(|k| k.rsplit_once(':'))
            .find(|(host, claim)| {
                matches!(*claim, "sub" | "aud" | "amr") && host.contains('.') && !host.contains('$')
            })
            .map(|(host, _)| Provider::of_host(host))
    }

    pub fn of_host(host: &str) -> Provider {
        let h = host.to_ascii_lowercase();
        let kind = if h == "token.actions.githubusercontent.com"
            || h.starts_with("token.actions.githubusercontent.com/")
        {
            Kind::GitHub
        } else if h == "cognito-identity.amazonaws.com" {
            Kind::Cognito
        } else if h.starts_with("oidc.eks.") {
            Kind::Eks
        } else if h == "app.terraform.io" || h.contains("terraform") {
            Kind::TerraformCloud
        } else if h.starts_with("api.bitbucket.org/") {
            Kind::Bitbucket
        } else if h.starts_with("oidc.circleci.com/") {
            Kind::CircleCi
        } else if h.contains("gitlab") {
            Kind::GitLab
        } else {
            Kind::Other
        };
        Provider {
            host: host.to_string(),
            kind,
        }
    }

    /// The claim a condition key tests (`sub` for `<host>:sub`), when it is
    /// one of this provider's.
    pub fn claim_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        let (host, claim) = key.rsplit_once(':')?;
        (self.host == "*" || host.eq_ignore_ascii_case(&self.host)).then_some(claim)
    }

    /// The condition key of one of its claims.
    pub fn key(&self, claim: &str) -> String {
        let host = if self.host == "*" {
            "PROVIDER"
        } else {
            &self.host
        };
        format!("{host}:{claim}")
    }

    /// The audience to pin, as the provider documents it.
    pub fn audience_hint(&self) -> &'static str {
        match self.kind {
            Kind::GitHub | Kind::Eks => "sts.amazonaws.com",
            Kind::TerraformCloud => "aws.workload.identity",
            Kind::Cognito => "<region>:<identity-pool-id>",
            Kind::GitLab => "https://gitlab.com",
            _ => "<the client ID your workflow requests>",
        }
    }

    /// A subject that admits one deployment context, as this provider
    /// spells it, for owner `owner` and repository `repo` where known.
    pub fn subject_hint(&self, owner: Option<&str>, repo: Option<&str>) -> String {
        let o = owner.unwrap_or("OWNER");
        let r = repo.unwrap_or("REPO");
        match self.kind {
            Kind::GitHub => format!("repo:{o}/{r}:environment:production"),
            Kind::GitLab => format!("project_path:{o}/{r}:ref_type:branch:ref:main"),
            Kind::TerraformCloud => {
                format!("organization:{o}:project:{r}:workspace:WORKSPACE:run_phase:apply")
            }
            Kind::Eks => format!("system:serviceaccount:{o}:{r}"),
            Kind::CircleCi => format!("org/{o}/project/{r}/user/USER_ID"),
            Kind::Bitbucket => "{REPOSITORY_UUID}:*".to_string(),
            Kind::Cognito | Kind::Other => "SUBJECT".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_from_principals_and_keys() {
        let gh = Provider::from_principal(
            "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
        )
        .unwrap();
        assert_eq!(gh.kind, Kind::GitHub);
        assert_eq!(
            gh.claim_of("token.actions.githubusercontent.com:sub"),
            Some("sub")
        );
        assert_eq!(gh.claim_of("gitlab.com:sub"), None);
        let ghe = Provider::of_host("token.actions.githubusercontent.com/acme-corp");
        assert_eq!(ghe.kind, Kind::GitHub);
        assert_eq!(
            ghe.claim_of("token.actions.githubusercontent.com/acme-corp:sub"),
            Some("sub")
        );
        assert_eq!(Provider::from_principal("${oidc_provider_arn}"), None);
        assert_eq!(
            Provider::from_principal("arn:aws:iam::${account}:oidc-provider/gitlab.com")
                .unwrap()
                .kind,
            Kind::GitLab
        );
        assert_eq!(
            Provider::from_principal("cognito-identity.amazonaws.com")
                .unwrap()
                .kind,
            Kind::Cognito
        );
        assert_eq!(
            Provider::of_host("oidc.eks.eu-west-1.amazonaws.com/id/ABC").kind,
            Kind::Eks
        );
        let from_keys = Provider::from_condition_keys(
            [
                "aws:RequestTag/x",
                "token.actions.githubusercontent.com:sub",
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(from_keys.kind, Kind::GitHub);
    }
}
