//! `any-subject`: the statement pins no subject at all.

use super::super::provider::Kind;
use super::super::scope::{Scope, claim_pins};
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};
use super::condition_json;

#[doc = include_str!("any_subject.md")]
pub struct AnySubject;

impl Check for AnySubject {
    fn id(&self) -> &'static str {
        "any-subject"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn title(&self) -> &'static str {
        "Web-identity trust that pins no subject"
    }
    fn doc(&self) -> &'static str {
        include_str!("any_subject.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        let p = &st.provider;
        let open = if p.kind == Kind::Cognito {
            // The identity pool (`aud`) is what a Cognito trust pins.
            !st.positive_on("aud")
                .iter()
                .any(|c| !c.values.is_empty() && !c.any_wild())
        } else {
            st.positive_on("sub").is_empty() && claim_pins(st).scope() == Scope::AnyOwner
        };
        if !open {
            return Vec::new();
        }
        let who = match p.kind {
            Kind::GitHub => {
                "any repository on GitHub, of any owner, can assume the role from a workflow"
            }
            Kind::GitLab => {
                "any project on the GitLab instance can assume the role from a pipeline"
            }
            Kind::TerraformCloud => {
                "any workspace of any organization on the Terraform platform can assume the role"
            }
            Kind::Eks => "any service account of any namespace in the cluster can assume the role",
            Kind::Cognito => {
                "an identity from any identity pool, in any account, can assume the role"
            }
            _ => "anyone who can get a token from this provider can assume the role",
        };
        let (claim, value) = if p.kind == Kind::Cognito {
            ("aud", p.audience_hint().to_string())
        } else {
            ("sub", p.subject_hint(None, None))
        };
        let written = if st.conditions.is_empty() {
            "no condition".to_string()
        } else {
            format!("no positive `{}` condition", p.key(claim))
        };
        vec![self.finding(
            doc,
            st,
            written,
            who.to_string(),
            condition_json("StringEquals", &p.key(claim), &value),
        )]
    }
}
