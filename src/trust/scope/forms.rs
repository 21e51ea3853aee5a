//! How each provider's `sub` forms are read: which parts of a subject
//! pattern name the owner, the repository and the context, for GitHub,
//! GitLab, Terraform Cloud, EKS service accounts and CircleCI.

use super::{Pins, glob, wild};

/// `repo:OWNER/NAME:CONTEXT`, with the immutable-id forms
/// (`repo:acme@123/api@456:…`), and custom claim templates (`key:value`
/// pairs in the order configured): `repository_owner`,
/// `repository_owner_id`, `repo`, `repository_id` pin the owner or the
/// repository; a template with none of them (`job_workflow_ref:…`,
/// `environment:…` alone) admits repositories of any owner.
pub(super) fn github_subject(pattern: &str, like: bool) -> Pins {
    let w = |s: &str| like && wild(s);
    if w(&pattern[..pattern.len().min(1)]) {
        return Pins::default();
    }
    if let Some(rest) = pattern.strip_prefix("repo:") {
        if w(pattern) {
            return path_subject(Some(rest), &["pull_request", "ref:refs/heads/zzz"]);
        }
        let repo = rest.split(':').next().unwrap_or("");
        let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
        return Pins {
            owner_name: Some(owner.to_string()),
            repo_name: Some(name.to_string()),
            ..Pins::all()
        };
    }
    let value_of = |key: &str| -> Option<(usize, &str)> {
        let lead = format!("{key}:");
        let at = if pattern.starts_with(&lead) {
            0
        } else {
            pattern.find(&format!(":{lead}"))? + 1
        };
        let start = at + lead.len();
        let value = pattern[start..].split(':').next().unwrap_or("");
        Some((start + value.len(), value))
    };
    let mut pins = Pins::default();
    for key in ["repository_owner", "repository_owner_id"] {
        if let Some((_, owner)) = value_of(key) {
            if w(owner) {
                return Pins::default();
            }
            pins.owner = true;
            pins.owner_name = Some(owner.to_string());
        }
    }
    let mut repo_end = None;
    if let Some((end, repo)) = value_of("repo") {
        let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
        if w(owner) {
            return Pins::default();
        }
        pins.owner = true;
        pins.owner_name = Some(owner.to_string());
        if !w(name) && !name.is_empty() {
            pins.repo = true;
            pins.repo_name = Some(name.to_string());
            repo_end = Some(end);
        }
    }
    if let Some((end, id)) = value_of("repository_id")
        && !w(id)
    {
        pins.owner = true;
        pins.repo = true;
        repo_end = repo_end.max(Some(end));
    }
    if let Some(end) = repo_end {
        pins.context = !w(&pattern[end..]);
    }
    pins
}

/// `OWNER/NAME[:CONTEXT]` (GitHub's `repo:` value, GitLab's project path,
/// whose group may have subgroups): a wildcard in the first component
/// admits any owner, one later in the path any repository of the owner;
/// the context is open when it admits every one of `contexts`.
pub(super) fn path_subject(rest: Option<&str>, contexts: &[&str]) -> Pins {
    let Some(rest) = rest else {
        return Pins::all();
    };
    let path_end = rest.find(':').unwrap_or(rest.len());
    let owner_end = rest.find(['/', ':']).unwrap_or(rest.len());
    let owner = &rest[..owner_end];
    if wild(owner) {
        return Pins::default();
    }
    let mut pins = Pins {
        owner: true,
        owner_name: Some(owner.to_string()),
        ..Pins::default()
    };
    // The pattern's first `*` may stand for the rest of the path and all
    // that follows: judge the path up to where the wildcard starts.
    let path = &rest[..path_end.max(owner_end)];
    if wild(path) {
        return pins;
    }
    pins.repo = true;
    pins.repo_name = path.rsplit('/').next().map(str::to_owned);
    pins.context = match rest.get(path_end + 1..) {
        Some(ctx) => !contexts.iter().all(|c| glob(ctx, c)),
        None => true,
    };
    pins
}

/// `organization:ORG:project:P:workspace:W:run_phase:R`.
pub(super) fn terraform_subject(pattern: &str) -> Pins {
    let parts: Vec<&str> = pattern.split(':').collect();
    let value = |name: &str| {
        parts
            .iter()
            .position(|p| *p == name)
            .and_then(|i| parts.get(i + 1).copied())
    };
    match value("organization") {
        Some(org) if !wild(org) => {
            let mut pins = Pins {
                owner: true,
                owner_name: Some(org.to_string()),
                ..Pins::default()
            };
            if let Some(ws) = value("workspace").filter(|w| !wild(w)) {
                pins.repo = true;
                pins.repo_name = Some(ws.to_string());
                pins.context = value("run_phase").is_some_and(|r| !wild(r));
            }
            pins
        }
        _ => Pins::default(),
    }
}

/// `system:serviceaccount:NAMESPACE:NAME`.
pub(super) fn eks_subject(pattern: &str) -> Pins {
    let Some(rest) = pattern.strip_prefix("system:serviceaccount:") else {
        return Pins::default();
    };
    let (ns, sa) = rest.split_once(':').unwrap_or((rest, "*"));
    if wild(ns) {
        return Pins::default();
    }
    let repo = !wild(sa);
    Pins {
        owner: true,
        repo,
        context: repo,
        owner_name: Some(ns.to_string()),
        repo_name: repo.then(|| sa.to_string()),
    }
}

/// `org/ORG_ID/project/PROJECT_ID/user/USER_ID`.
pub(super) fn circleci_subject(pattern: &str) -> Pins {
    let parts: Vec<&str> = pattern.split('/').collect();
    match (parts.get(1), parts.get(3)) {
        (Some(org), _) if wild(org) => Pins::default(),
        (Some(org), Some(project)) if !wild(project) => Pins {
            owner: true,
            repo: true,
            context: true,
            owner_name: Some(org.to_string()),
            repo_name: Some(project.to_string()),
        },
        (Some(org), _) => Pins {
            owner: true,
            owner_name: Some(org.to_string()),
            ..Pins::default()
        },
        _ => Pins::default(),
    }
}
