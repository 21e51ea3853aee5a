//! Trust policies, the real security boundary of OIDC federation: the
//! checks that lint a role's trust document, and where documents come from.
//!
//! A check is a small type implementing [`Check`], listed once in
//! [`CHECKS`]; `ctaudit trust --list` and the README come from that array
//! and each check's documentation. Checks read a [`Document`] (the policy as
//! IAM reads it, duplicates kept aside) and return [`Finding`]s; they
//! neither read files nor format output.

pub mod checks;
pub mod json;
pub mod provider;
pub mod scope;
pub mod source;
pub mod statement;
pub mod traffic;

use serde::Serialize;

pub use checks::CHECKS;
use json::Json;
use statement::Statement;

pub use crate::reports::Severity;

/// One trust policy document, where it came from, and its web-identity
/// statements.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file path as given (with the place inside it), or the role ARN.
    pub source: String,
    /// The role the document belongs to, where known (ARN or name).
    pub role: Option<String>,
    pub json: Json,
    pub statements: Vec<Statement>,
}

impl Document {
    /// Reads a parsed trust document. `Err` when it is not a policy.
    pub fn new(source: String, role: Option<String>, json: Json) -> Result<Document, String> {
        let statements = statement::statements(&json)?;
        Ok(Document {
            source,
            role,
            json,
            statements,
        })
    }

    /// The statement's own JSON (the element of `Statement` at its index).
    pub fn statement_json(&self, st: &Statement) -> Option<&Json> {
        match self.json.get_any_case("Statement")? {
            Json::Arr(items) => items.get(st.index),
            one => Some(one),
        }
    }
}

/// What a check found in one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub check: &'static str,
    pub source: String,
    pub role: Option<String>,
    /// `#1 (Sid GitHubDeploy)`.
    pub statement: String,
    /// The condition as written (or what is missing).
    pub condition: String,
    /// What an attacker can do because of it.
    pub problem: String,
    /// The tightened condition to use instead, as JSON to paste.
    pub fix: String,
}

/// A trust-policy check.
pub trait Check: Sync {
    /// Stable id: `--list`, JSON `check` value, README.
    fn id(&self) -> &'static str;
    fn severity(&self) -> Severity;
    /// One line: what it flags.
    fn title(&self) -> &'static str;
    /// What it flags, what an attacker can do, and the fix (Markdown).
    fn doc(&self) -> &'static str;
    /// The findings in one web-identity statement.
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding>;
    /// The findings in a document: by default, each statement's.
    fn document(&self, doc: &Document) -> Vec<Finding> {
        doc.statements
            .iter()
            .flat_map(|st| self.statement(doc, st))
            .collect()
    }

    /// A finding of this check about `st`.
    fn finding(
        &self,
        doc: &Document,
        st: &Statement,
        condition: String,
        problem: String,
        fix: String,
    ) -> Finding {
        Finding {
            severity: self.severity(),
            check: self.id(),
            source: doc.source.clone(),
            role: doc.role.clone(),
            statement: st.label(),
            condition,
            problem,
            fix,
        }
    }
}

/// Every check's findings in `doc`, most severe first.
pub fn lint(doc: &Document) -> Vec<Finding> {
    let mut out: Vec<Finding> = CHECKS.iter().flat_map(|c| c.document(doc)).collect();
    out.sort_by(|a, b| {
        (a.severity, &a.source, &a.statement, a.check).cmp(&(
            b.severity,
            &b.source,
            &b.statement,
            b.check,
        ))
    });
    out
}
