//! How much a statement admits: for each subject pattern, whether it pins
//! the owner (organisation, group, namespace), the repository (project,
//! workspace, service account) and the context (branch, environment, pull
//! request, run phase), once the statement's other claim conditions, which
//! IAM ANDs with it, are taken into account.

mod forms;

use super::provider::{Kind, Provider};
use super::statement::{Condition, Statement};
use crate::policy::Pattern;
use forms::{circleci_subject, eks_subject, github_subject, path_subject, terraform_subject};

/// How much a subject admits, broadest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Repositories of any owner.
    AnyOwner,
    /// Every repository of one owner.
    AnyRepo,
    /// Every branch, tag, pull request or environment of one repository.
    AnyContext,
    /// One context of one repository (or an exact subject).
    Pinned,
}

/// What a pattern or claim condition pins, and the names it pins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    pub owner: bool,
    pub repo: bool,
    pub context: bool,
    pub owner_name: Option<String>,
    pub repo_name: Option<String>,
}

impl Pins {
    pub(super) fn all() -> Pins {
        Pins {
            owner: true,
            repo: true,
            context: true,
            ..Pins::default()
        }
    }

    /// What `self` AND `other` pin together.
    pub fn and(&self, other: &Pins) -> Pins {
        Pins {
            owner: self.owner || other.owner,
            repo: self.repo || other.repo,
            context: self.context || other.context,
            owner_name: self.owner_name.clone().or_else(|| other.owner_name.clone()),
            repo_name: self.repo_name.clone().or_else(|| other.repo_name.clone()),
        }
    }

    /// What holds for every one of several alternatives (ORed values).
    fn common(all: &[Pins]) -> Pins {
        let Some(first) = all.first() else {
            return Pins::default();
        };
        Pins {
            owner: all.iter().all(|p| p.owner),
            repo: all.iter().all(|p| p.repo),
            context: all.iter().all(|p| p.context),
            owner_name: first.owner_name.clone(),
            repo_name: first.repo_name.clone(),
        }
    }

    pub fn scope(&self) -> Scope {
        if !self.owner && !self.repo {
            Scope::AnyOwner
        } else if !self.repo {
            Scope::AnyRepo
        } else if !self.context {
            Scope::AnyContext
        } else {
            Scope::Pinned
        }
    }
}

pub(super) fn wild(s: &str) -> bool {
    s.contains(['*', '?'])
}

pub(super) fn glob(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

/// What one `sub` value pins. Exact values (an equality operator, or a
/// pattern with no wildcard) of the usual forms pin everything: they admit
/// one subject. GitHub's custom claim templates are read whatever the
/// operator: an exact `repository_owner:acme:environment:prod` still
/// admits every repository of acme.
pub fn subject_pins(provider: &Provider, pattern: &str, like: bool) -> Pins {
    if provider.kind == Kind::GitHub {
        return github_subject(pattern, like);
    }
    if !like || !wild(pattern) {
        return Pins::all();
    }
    if pattern.starts_with(['*', '?']) {
        return Pins::default();
    }
    match provider.kind {
        Kind::GitLab => path_subject(
            pattern.strip_prefix("project_path:"),
            &["ref_type:branch:ref:zzz", "ref_type:tag:ref:zzz"],
        ),
        Kind::TerraformCloud => terraform_subject(pattern),
        Kind::Eks => eks_subject(pattern),
        Kind::CircleCi => circleci_subject(pattern),
        _ => Pins::all(),
    }
}

/// What the statement's conditions on claims other than `sub` pin (IAM
/// ANDs them with the subject): GitHub's per-claim keys.
pub fn claim_pins(st: &Statement) -> Pins {
    let mut pins = Pins::default();
    if st.provider.kind != Kind::GitHub {
        return pins;
    }
    for c in st.conditions.iter().filter(|c| c.is_positive()) {
        let Some(claim) = st.provider.claim_of(&c.key) else {
            continue;
        };
        let each: Vec<Pins> = c.values.iter().map(|v| claim_value(claim, c, v)).collect();
        pins = pins.and(&Pins::common(&each));
    }
    pins
}

fn claim_value(claim: &str, c: &Condition, value: &str) -> Pins {
    let w = c.is_wild(value);
    match claim {
        "repository" => {
            let (owner, name) = value.split_once('/').unwrap_or((value, ""));
            if c.is_like() && wild(owner) {
                Pins::default()
            } else {
                let repo = !w;
                Pins {
                    owner: true,
                    repo,
                    owner_name: Some(owner.to_string()),
                    repo_name: repo.then(|| name.to_string()),
                    ..Pins::default()
                }
            }
        }
        "repository_id" if !w => Pins {
            owner: true,
            repo: true,
            ..Pins::default()
        },
        "repository_owner" | "repository_owner_id" if !w => Pins {
            owner: true,
            owner_name: Some(value.to_string()),
            ..Pins::default()
        },
        "ref" | "environment" | "job_workflow_ref" | "workflow_ref" if value != "*" => Pins {
            context: true,
            ..Pins::default()
        },
        _ => Pins::default(),
    }
}

/// Whether the statement names a repository by a per-claim key.
pub fn names_a_repository(st: &Statement) -> bool {
    claim_pins(st).repo
}

/// One subject a statement admits: the pattern (or, with no `sub`
/// condition, the claim conditions that stand for it), how much it admits
/// with the statement's other claims ANDed in, and what it pins.
pub struct Subject {
    pub condition: String,
    /// The pattern itself (the condition text where claim keys stand for it).
    pub value: String,
    pub scope: Scope,
    pub pins: Pins,
}

/// Every subject pattern of a statement with its scope. With no `sub`
/// condition, the per-claim keys (`repository_owner`, `repository`…) stand
/// for it; where they name no repository and no owner, there is no subject
/// at all (`any-subject`), and nothing is returned.
pub fn subjects(st: &Statement) -> Vec<Subject> {
    let claims = claim_pins(st);
    let subs = st.positive_on("sub");
    if subs.is_empty() {
        if claims.scope() == Scope::AnyOwner {
            return Vec::new();
        }
        let condition = st
            .conditions
            .iter()
            .filter(|c| c.is_positive() && st.provider.claim_of(&c.key).is_some())
            .map(Condition::describe)
            .collect::<Vec<_>>()
            .join("; ");
        return vec![Subject {
            value: condition.clone(),
            condition,
            scope: claims.scope(),
            pins: claims,
        }];
    }
    let mut out = Vec::new();
    for c in subs {
        for v in &c.values {
            let pins = subject_pins(&st.provider, v, c.is_like()).and(&claims);
            out.push(Subject {
                condition: format!("{} {} = {v}", c.operator, c.key),
                value: v.clone(),
                scope: pins.scope(),
                pins,
            });
        }
    }
    out
}

/// What a statement admits, for comparing documents and traffic: its
/// [`subjects`], and where it pins none, one subject `*` of any owner.
pub fn admitted(st: &Statement) -> Vec<Subject> {
    let subs = subjects(st);
    if !subs.is_empty() {
        return subs;
    }
    vec![Subject {
        condition: "*".to_string(),
        value: "*".to_string(),
        scope: Scope::AnyOwner,
        pins: Pins::default(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(p: &str) -> Scope {
        subject_pins(
            &Provider::of_host("token.actions.githubusercontent.com"),
            p,
            true,
        )
        .scope()
    }

    #[test]
    fn github_subjects() {
        for p in [
            "*",
            "repo:*",
            "repo:acme*",
            "repo:*/api",
            "repo:a?me/api:*",
            "repo:*:pull_request",
        ] {
            assert_eq!(gh(p), Scope::AnyOwner, "{p}");
        }
        for p in [
            "repo:acme/*",
            "repo:acme/*:*",
            "repo:acme@123/*:ref:refs/heads/main",
            "repo:acme/api*",
            "repository_owner:acme:*",
            "repository_owner_id:59204113:environment:production",
        ] {
            assert_eq!(gh(p), Scope::AnyRepo, "{p}");
        }
        // Templates that name no repository and no owner admit any owner's.
        for p in [
            "job_workflow_ref:acme/wf/.github/workflows/d.yml@refs/heads/main",
            "environment:prod",
        ] {
            let exact = subject_pins(
                &Provider::of_host("token.actions.githubusercontent.com"),
                p,
                false,
            );
            assert_eq!(exact.scope(), Scope::AnyOwner, "{p}");
        }
        assert_eq!(
            gh("repository_owner:acme:repo:acme/api:environment:production"),
            Scope::Pinned
        );
        let exact_owner = subject_pins(
            &Provider::of_host("token.actions.githubusercontent.com"),
            "repository_owner:acme:environment:prod",
            false,
        );
        assert_eq!(exact_owner.scope(), Scope::AnyRepo);
        for p in [
            "repo:acme/api:*",
            "repo:acme@1/api@2:*",
            "repo:acme-1/api-2:*",
        ] {
            assert_eq!(gh(p), Scope::AnyContext, "{p}");
        }
        for p in [
            "repo:acme/api:ref:refs/heads/main",
            "repo:acme/api:ref:refs/heads/*",
            "repo:acme/api:environment:prod*",
            "repo:acme/api:pull_request",
        ] {
            assert_eq!(gh(p), Scope::Pinned, "{p}");
        }
        // An equality operator takes `*` literally.
        let exact = subject_pins(
            &Provider::of_host("token.actions.githubusercontent.com"),
            "repo:*",
            false,
        );
        assert_eq!(exact.scope(), Scope::Pinned);
    }

    #[test]
    fn other_providers() {
        let scope = |host: &str, p: &str| subject_pins(&Provider::of_host(host), p, true).scope();
        assert_eq!(scope("gitlab.com", "project_path:group/*"), Scope::AnyRepo);
        assert_eq!(scope("gitlab.com", "project_path:gr*"), Scope::AnyOwner);
        assert_eq!(
            scope("gitlab.com", "project_path:group/sub/app:*"),
            Scope::AnyContext
        );
        assert_eq!(
            scope(
                "app.terraform.io",
                "organization:org:project:*:workspace:*:run_phase:*"
            ),
            Scope::AnyRepo
        );
        assert_eq!(scope("app.terraform.io", "organization:*"), Scope::AnyOwner);
        let eks = "oidc.eks.us-east-1.amazonaws.com/id/X";
        assert_eq!(scope(eks, "system:serviceaccount:ns:*"), Scope::AnyRepo);
        assert_eq!(scope(eks, "system:serviceaccount:*"), Scope::AnyOwner);
        assert_eq!(
            scope("oidc.circleci.com/org/1", "org/1/project/*"),
            Scope::AnyRepo
        );
    }
}
