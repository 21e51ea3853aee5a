//! `for-all-values`: `ForAllValues:` on a single-valued claim.

use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::condition_json;

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
        st.conditions
            .iter()
            .filter(|c| c.for_all_values())
            .filter(|c| matches!(st.provider.claim_of(&c.key), Some("sub" | "aud")))
            .map(|c| {
                let value = c.values.first().map_or("", String::as_str);
                self.finding(
                    doc,
                    st,
                    c.describe(),
                    format!(
                        "`{}` is true when the key is missing from the request: a token without the claim passes",
                        c.operator
                    ),
                    condition_json(c.base(), &c.key, value),
                )
            })
            .collect()
    }
}
