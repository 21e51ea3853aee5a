//! `if-exists`: `…IfExists` on `sub` or `aud`.

use super::super::statement::Condition;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::operator_findings;

#[doc = include_str!("if_exists.md")]
pub struct IfExists;

impl Check for IfExists {
    fn id(&self) -> &'static str {
        "if-exists"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn title(&self) -> &'static str {
        "IfExists on the subject or audience"
    }
    fn doc(&self) -> &'static str {
        include_str!("if_exists.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        operator_findings(
            self,
            doc,
            st,
            Condition::if_exists,
            |c| {
                format!(
                    "`{}` passes when the token has no such claim: a token without it is not checked at all",
                    c.operator
                )
            },
            |c| c.operator.strip_suffix("IfExists").unwrap_or(&c.operator),
        )
    }
}
