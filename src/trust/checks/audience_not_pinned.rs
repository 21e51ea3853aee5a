//! `audience-not-pinned`: no `aud` condition, or a wildcard one.

use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::condition_json;

#[doc = include_str!("audience_not_pinned.md")]
pub struct AudienceNotPinned;

impl Check for AudienceNotPinned {
    fn id(&self) -> &'static str {
        "audience-not-pinned"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn title(&self) -> &'static str {
        "The token's audience is not pinned"
    }
    fn doc(&self) -> &'static str {
        include_str!("audience_not_pinned.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        let p = &st.provider;
        let aud = st.positive_on("aud");
        let pinned = aud.iter().any(|c| !c.values.is_empty() && !c.any_wild());
        if pinned {
            return Vec::new();
        }
        let written = if aud.is_empty() {
            format!("no positive `{}` condition", p.key("aud"))
        } else {
            aud.iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; ")
        };
        vec![self.finding(
            doc,
            st,
            written,
            "a token issued for another audience (another cloud, another service) is accepted: the role trusts tokens it was never meant to see".to_string(),
            condition_json("StringEquals", &p.key("aud"), p.audience_hint()),
        )]
    }
}
