//! `any-context`: the repository is pinned, not the context.

use super::super::scope::Scope;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::scope_findings;

#[doc = include_str!("any_context.md")]
pub struct AnyContext;

impl Check for AnyContext {
    fn id(&self) -> &'static str {
        "any-context"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn title(&self) -> &'static str {
        "Any branch, tag, pull request or environment of the repository"
    }
    fn doc(&self) -> &'static str {
        include_str!("any_context.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        scope_findings(self, doc, st, Scope::AnyContext, |pins| {
            let repo = match (&pins.owner_name, &pins.repo_name) {
                (Some(o), Some(r)) => format!("`{o}/{r}`"),
                _ => "the repository".to_string(),
            };
            format!(
                "any branch, tag, pull request or environment of {repo} can assume the role: a feature branch or a pull request's workflow gets production credentials"
            )
        })
    }
}
