//! `if-exists`: `…IfExists` on `sub` or `aud`.

use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::condition_json;

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
        st.conditions
            .iter()
            .filter(|c| c.if_exists())
            .filter(|c| matches!(st.provider.claim_of(&c.key), Some("sub" | "aud")))
            .map(|c| {
                let op = c.operator.strip_suffix("IfExists").unwrap_or(&c.operator);
                let value = c.values.first().map_or("", String::as_str);
                self.finding(
                    doc,
                    st,
                    c.describe(),
                    format!(
                        "`{}` passes when the token has no such claim: a token without it is not checked at all",
                        c.operator
                    ),
                    condition_json(op, &c.key, value),
                )
            })
            .collect()
    }
}
