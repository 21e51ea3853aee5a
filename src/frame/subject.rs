//! GitHub Actions OIDC subjects (`sub` claims) taken apart into repository,
//! ref and environment.
//!
//! Handles the classic forms (`repo:acme/api:ref:refs/heads/main`,
//! `…:environment:production`, `…:pull_request`, `…:ref:refs/tags/v1.2`),
//! the immutable-id form (`repo:acme@123/api@456:…`) and custom claim
//! templates (`repository_owner:acme:repository_visibility:private:…`,
//! `…:job_workflow_ref:acme/ci/.github/workflows/deploy.yml@refs/heads/main`),
//! with `%3A` in values decoded to `:`. Subjects of other providers (EKS
//! service accounts, GitLab, Terraform Cloud) are not parsed here.

/// What kind of ref a workflow ran for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    Branch,
    Tag,
    PullRequest,
    Environment,
}

impl RefType {
    pub fn as_str(self) -> &'static str {
        match self {
            RefType::Branch => "branch",
            RefType::Tag => "tag",
            RefType::PullRequest => "pull_request",
            RefType::Environment => "environment",
        }
    }
}

/// A GitHub subject's parts. Every field is optional: custom templates may
/// leave any claim out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubSubject {
    /// The repository owner (organisation or user), without any `@id`.
    pub owner: Option<String>,
    /// `owner/name`, without any `@id`.
    pub repository: Option<String>,
    /// The full ref (`refs/heads/main`, `refs/tags/v1.2`, `refs/pull/7/merge`).
    pub git_ref: Option<String>,
    pub ref_type: Option<RefType>,
    pub environment: Option<String>,
    /// The reusable workflow that ran (`acme/ci/.github/workflows/deploy.yml@refs/heads/main`).
    pub job_workflow_ref: Option<String>,
}

/// Whether a provider (its ARN or host) is GitHub Actions' token issuer.
pub fn is_github_provider(provider: &str) -> bool {
    provider.contains("token.actions.githubusercontent.com")
}

/// Claim keys that GitHub puts in subjects (classic form and the claims a
/// custom template may include). `pull_request` is the one without a value.
const KNOWN_KEYS: &[&str] = &[
    "repo",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "repository_id",
    "repository_visibility",
    "ref",
    "ref_type",
    "environment",
    "pull_request",
    "job_workflow_ref",
    "job_workflow_sha",
    "workflow",
    "workflow_ref",
    "workflow_sha",
    "actor",
    "actor_id",
    "context",
    "event_name",
    "head_ref",
    "base_ref",
    "run_number",
    "run_attempt",
    "runner_environment",
    "sha",
    "enterprise",
    "enterprise_id",
];

fn decode(value: &str) -> String {
    if value.contains('%') {
        value.replace("%3A", ":").replace("%3a", ":")
    } else {
        value.to_string()
    }
}

/// Strips GitHub's immutable `@id` suffix from an owner or repository name.
fn strip_id(name: &str) -> &str {
    match name.split_once('@') {
        Some((n, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => name,
    }
}

/// `owner@1/name@2` → `owner/name`.
fn clean_repository(repo: &str) -> String {
    match repo.split_once('/') {
        Some((o, n)) => format!("{}/{}", strip_id(o), strip_id(n)),
        None => strip_id(repo).to_string(),
    }
}

/// Parses a subject that looks like GitHub's; `None` when it does not start
/// with a known claim key or names no repository or owner.
///
/// `provider` is the OIDC provider where known: when it is known and not
/// GitHub's, nothing is parsed.
pub fn parse_github_subject(subject: &str, provider: Option<&str>) -> Option<GithubSubject> {
    if let Some(p) = provider
        && !is_github_provider(p)
    {
        return None;
    }
    let tokens: Vec<&str> = subject.split(':').collect();
    if !KNOWN_KEYS.contains(&tokens[0]) {
        return None;
    }
    let mut out = GithubSubject::default();
    let mut explicit_ref_type: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        let key = tokens[i];
        if key == "pull_request" {
            out.ref_type = Some(RefType::PullRequest);
            i += 1;
            continue;
        }
        let Some(&raw) = tokens.get(i + 1) else { break };
        let value = decode(raw);
        match key {
            "repo" | "repository" => out.repository = Some(clean_repository(&value)),
            "repository_owner" => out.owner = Some(strip_id(&value).to_string()),
            "ref" => out.git_ref = Some(value),
            "ref_type" => explicit_ref_type = Some(value),
            "environment" => out.environment = Some(value),
            "job_workflow_ref" => out.job_workflow_ref = Some(value),
            _ => {}
        }
        i += 2;
    }
    if out.owner.is_none() {
        out.owner = out
            .repository
            .as_deref()
            .and_then(|r| r.split_once('/'))
            .map(|(o, _)| o.to_string());
    }
    if out.repository.is_none() && out.owner.is_none() {
        return None;
    }
    if out.environment.is_some() {
        out.ref_type = Some(RefType::Environment);
    } else if out.ref_type.is_none() {
        out.ref_type = match (explicit_ref_type.as_deref(), out.git_ref.as_deref()) {
            (Some("branch"), _) => Some(RefType::Branch),
            (Some("tag"), _) => Some(RefType::Tag),
            (_, Some(r)) if r.starts_with("refs/heads/") => Some(RefType::Branch),
            (_, Some(r)) if r.starts_with("refs/tags/") => Some(RefType::Tag),
            (_, Some(r)) if r.starts_with("refs/pull/") => Some(RefType::PullRequest),
            _ => None,
        };
    }
    Some(out)
}

/// Splits a failed web-identity call's `principalId`
/// (`<provider ARN>:<audience>:<subject>`) into provider, audience and subject.
pub fn split_web_identity_principal(principal: &str) -> Option<(&str, &str, &str)> {
    let start = principal.find("oidc-provider/")? + "oidc-provider/".len();
    let provider_end = start + principal[start..].find(':')?;
    let provider = &principal[..provider_end];
    let rest = &principal[provider_end + 1..];
    // An audience may itself be a URL (`https://…`, `api://…`), whose
    // scheme has a colon.
    let first = rest.find(':')?;
    let skip = if rest[first..].starts_with("://") {
        first + 3
    } else {
        0
    };
    let aud_end = skip + rest[skip..].find(':')?;
    Some((provider, &rest[..aud_end], &rest[aud_end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: Option<&str> =
        Some("arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com");

    fn p(s: &str) -> GithubSubject {
        parse_github_subject(s, GH).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn classic_branch_tag_environment_pull_request() {
        let s = p("repo:acme/api:ref:refs/heads/main");
        assert_eq!(s.owner.as_deref(), Some("acme"));
        assert_eq!(s.repository.as_deref(), Some("acme/api"));
        assert_eq!(s.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(s.ref_type, Some(RefType::Branch));

        let s = p("repo:acme/api:ref:refs/tags/v1.2");
        assert_eq!(s.ref_type, Some(RefType::Tag));

        let s = p("repo:acme/api:environment:production");
        assert_eq!(s.ref_type, Some(RefType::Environment));
        assert_eq!(s.environment.as_deref(), Some("production"));
        assert_eq!(s.git_ref, None);

        let s = p("repo:acme/api:pull_request");
        assert_eq!(s.ref_type, Some(RefType::PullRequest));
        assert_eq!(s.repository.as_deref(), Some("acme/api"));
    }

    #[test]
    fn immutable_ids_are_stripped() {
        let s = p("repo:acme@123/api@456:ref:refs/heads/main");
        assert_eq!(s.owner.as_deref(), Some("acme"));
        assert_eq!(s.repository.as_deref(), Some("acme/api"));
    }

    #[test]
    fn custom_claim_templates() {
        let s = p(
            "repository_owner:acme:repository_visibility:private:repo:acme/api:ref:refs/heads/dev",
        );
        assert_eq!(s.owner.as_deref(), Some("acme"));
        assert_eq!(s.repository.as_deref(), Some("acme/api"));
        assert_eq!(s.ref_type, Some(RefType::Branch));

        let s = p(
            "repo:acme/api:environment:prod:job_workflow_ref:acme/ci/.github/workflows/deploy.yml@refs/heads/main",
        );
        assert_eq!(s.environment.as_deref(), Some("prod"));
        assert_eq!(
            s.job_workflow_ref.as_deref(),
            Some("acme/ci/.github/workflows/deploy.yml@refs/heads/main")
        );

        let s = p("repository_owner:acme:context:ref%3Arefs%2Fheads%2Fmain");
        assert_eq!(s.owner.as_deref(), Some("acme"));
        assert_eq!(s.repository, None);

        let s = p("repo:acme/api:ref_type:tag:ref:v1");
        assert_eq!(s.ref_type, Some(RefType::Tag));
    }

    #[test]
    fn percent_encoded_colons_decode() {
        let s = p("repo:acme/api:environment:prod%3Aeu");
        assert_eq!(s.environment.as_deref(), Some("prod:eu"));
    }

    #[test]
    fn other_providers_are_left_alone() {
        assert_eq!(
            parse_github_subject(
                "system:serviceaccount:ns:sa",
                Some("arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X")
            ),
            None
        );
        // GitLab's subject has `ref` and `ref_type` too, but not from GitHub.
        assert_eq!(
            parse_github_subject(
                "project_path:grp/proj:ref_type:branch:ref:main",
                Some("arn:aws:iam::1:oidc-provider/gitlab.com")
            ),
            None
        );
        assert_eq!(
            parse_github_subject("project_path:grp/proj:ref_type:branch:ref:main", None),
            None
        );
        assert_eq!(
            parse_github_subject(
                "repo:acme/api:ref:refs/heads/main",
                Some("arn:aws:iam::1:oidc-provider/app.terraform.io")
            ),
            None
        );
        // No provider known: a GitHub-shaped subject still parses.
        assert!(parse_github_subject("repo:acme/api:ref:refs/heads/main", None).is_some());
    }

    #[test]
    fn principal_of_a_failed_call() {
        let (prov, aud, sub) = split_web_identity_principal(
            "arn:aws:iam::774305579662:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:ccbrown/cloud-snitch:ref:refs/heads/main",
        )
        .unwrap();
        assert_eq!(
            prov,
            "arn:aws:iam::774305579662:oidc-provider/token.actions.githubusercontent.com"
        );
        assert_eq!(aud, "sts.amazonaws.com");
        assert_eq!(sub, "repo:ccbrown/cloud-snitch:ref:refs/heads/main");

        let (_, aud, sub) = split_web_identity_principal(
            "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com:https://github.com/acme:repo:acme/api:pull_request",
        )
        .unwrap();
        assert_eq!(aud, "https://github.com/acme");
        assert_eq!(sub, "repo:acme/api:pull_request");
        let (_, aud, _) = split_web_identity_principal(
            "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com:api://x:repo:acme/api:pull_request",
        )
        .unwrap();
        assert_eq!(aud, "api://x");
        assert_eq!(split_web_identity_principal("AROAEXAMPLE:session"), None);
    }
}
