//! `org-wide`: every repository of one owner.

use super::super::scope::Scope;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::{owner_word, scope_findings};

#[doc = include_str!("org_wide.md")]
pub struct OrgWide;

impl Check for OrgWide {
    fn id(&self) -> &'static str {
        "org-wide"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn title(&self) -> &'static str {
        "Every repository of one owner can assume the role"
    }
    fn doc(&self) -> &'static str {
        include_str!("org_wide.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        let word = owner_word(st.provider.kind);
        scope_findings(self, doc, st, Scope::AnyRepo, |pins| {
            let owner = pins.owner_name.as_deref().unwrap_or("the owner");
            format!(
                "every repository of {word} `{owner}` can assume the role: any member who can create a repository, and any compromised repository of it"
            )
        })
    }
}
