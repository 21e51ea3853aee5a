//! The trust-policy checks, one module each; [`CHECKS`] lists them once.
//!
//! Each subject pattern reports its broadest problem only: a pattern that
//! admits any owner is `wildcard-owner`, not also `org-wide` and
//! `any-context` ([`subjects`] gives each pattern one [`Scope`]).

mod any_context;
mod any_subject;
mod audience_not_pinned;
mod duplicate_key;
mod for_all_values;
mod if_exists;
mod org_wide;
mod wildcard_owner;

use super::provider::Kind;
use super::scope::{Pins, Scope, subjects};
use super::statement::{Condition, Statement};
use super::{Check, Document, Finding};

pub use any_context::AnyContext;
pub use any_subject::AnySubject;
pub use audience_not_pinned::AudienceNotPinned;
pub use duplicate_key::DuplicateKey;
pub use for_all_values::ForAllValues;
pub use if_exists::IfExists;
pub use org_wide::OrgWide;
pub use wildcard_owner::WildcardOwner;

/// Every check, in the order `--list` prints them.
pub static CHECKS: &[&dyn Check] = &[
    &AnySubject,
    &WildcardOwner,
    &DuplicateKey,
    &OrgWide,
    &AudienceNotPinned,
    &IfExists,
    &ForAllValues,
    &AnyContext,
];

/// Looks a check up by id.
pub fn by_id(id: &str) -> Option<&'static dyn Check> {
    CHECKS.iter().copied().find(|c| c.id() == id)
}

/// The findings of one subject-scope check.
fn scope_findings(
    check: &dyn Check,
    doc: &Document,
    st: &Statement,
    scope: Scope,
    problem: impl Fn(&Pins) -> String,
) -> Vec<Finding> {
    subjects(st)
        .into_iter()
        .filter(|s| s.scope == scope)
        .map(|s| {
            let fix = tight_subject(st, &s.pins);
            check.finding(doc, st, s.condition, problem(&s.pins), fix)
        })
        .collect()
}

/// The condition to paste instead: one exact subject, keeping the owner
/// and repository the pattern already pins.
fn tight_subject(st: &Statement, pins: &Pins) -> String {
    let subject = st
        .provider
        .subject_hint(pins.owner_name.as_deref(), pins.repo_name.as_deref());
    condition_json("StringEquals", &st.provider.key("sub"), &subject)
}

/// The findings of a check about the operator of `sub` and `aud`
/// conditions: one for each such condition `flagged` picks, with `problem`
/// saying why and the condition rewritten with `fixed` (its operator).
fn operator_findings(
    check: &dyn Check,
    doc: &Document,
    st: &Statement,
    flagged: impl Fn(&Condition) -> bool,
    problem: impl Fn(&Condition) -> String,
    fixed: impl Fn(&Condition) -> &str,
) -> Vec<Finding> {
    st.conditions
        .iter()
        .filter(|c| flagged(c))
        .filter(|c| matches!(st.provider.claim_of(&c.key), Some("sub" | "aud")))
        .map(|c| {
            let value = c.values.first().map_or("", String::as_str);
            let fix = condition_json(fixed(c), &c.key, value);
            check.finding(doc, st, c.describe(), problem(c), fix)
        })
        .collect()
}

/// `{"OPERATOR": {"KEY": "VALUE"}}`.
fn condition_json(operator: &str, key: &str, value: &str) -> String {
    serde_json::json!({ operator: { key: value } }).to_string()
}

/// What owns the repositories in this provider's terms.
fn owner_word(kind: Kind) -> &'static str {
    match kind {
        Kind::GitHub => "owner",
        Kind::GitLab => "group",
        Kind::TerraformCloud => "organization",
        Kind::Eks => "namespace",
        Kind::CircleCi => "organization",
        _ => "owner",
    }
}
