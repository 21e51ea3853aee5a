//! `wildcard-owner`: a subject pattern that can match another owner.

use super::super::scope::Scope;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::scope_findings;

#[doc = include_str!("wildcard_owner.md")]
pub struct WildcardOwner;

impl Check for WildcardOwner {
    fn id(&self) -> &'static str {
        "wildcard-owner"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn title(&self) -> &'static str {
        "Subject pattern that matches other owners"
    }
    fn doc(&self) -> &'static str {
        include_str!("wildcard_owner.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        scope_findings(self, doc, st, Scope::AnyOwner, |_| {
            "the pattern's wildcard reaches into the owner: a repository of another owner (anyone's) matches and can assume the role".to_string()
        })
    }
}
