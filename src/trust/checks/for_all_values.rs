//! `for-all-values`: `ForAllValues:` on a single-valued claim.

use super::super::statement::Condition;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::operator_findings;

#[doc = include_str!("for_all_values.md")]
pub struct ForAllValues;

impl Check for ForAllValues {
    fn id(&self) -> &'static str {
        "for-all-values"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn title(&self) -> &'static str {
        "ForAllValues on a single-valued claim"
    }
    fn doc(&self) -> &'static str {
        include_str!("for_all_values.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        operator_findings(
            self,
            doc,
            st,
            Condition::for_all_values,
            |c| {
                format!(
                    "`{}` is true when the key is missing from the request: a token without the claim passes",
                    c.operator
                )
            },
            Condition::base,
        )
    }
}
