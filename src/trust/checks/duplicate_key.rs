//! `duplicate-key`: a key given twice in one JSON object.

use super::super::json::Json;
use super::super::statement::Statement;
use super::super::{Check, Document, Finding, Severity};

#[doc = include_str!("duplicate_key.md")]
pub struct DuplicateKey;

impl DuplicateKey {
    fn found(&self, doc: &Document, statement: String, json: &Json) -> Vec<Finding> {
        json.duplicate_keys()
            .into_iter()
            .map(|(key, at)| {
                let lines: Vec<String> = at.iter().map(|(l, c)| format!("{l}:{c}")).collect();
                Finding {
                    severity: self.severity(),
                    check: self.id(),
                    source: doc.source.clone(),
                    role: doc.role.clone(),
                    statement: statement.clone(),
                    condition: format!(
                        "`{key}` {} times (at {}); IAM keeps the last",
                        at.len(),
                        lines.join(", ")
                    ),
                    problem: format!(
                        "every `{key}` but the last is silently ignored: the conditions a reader sees in it are not enforced"
                    ),
                    fix: format!("merge the `{key}` entries into one object"),
                }
            })
            .collect()
    }
}

impl Check for DuplicateKey {
    fn id(&self) -> &'static str {
        "duplicate-key"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn title(&self) -> &'static str {
        "A key given twice in one JSON object"
    }
    fn doc(&self) -> &'static str {
        include_str!("duplicate_key.md")
    }
    fn statement(&self, doc: &Document, st: &Statement) -> Vec<Finding> {
        match doc.statement_json(st) {
            Some(json) => self.found(doc, st.label(), json),
            None => Vec::new(),
        }
    }
    fn document(&self, doc: &Document) -> Vec<Finding> {
        if doc.statements.is_empty() {
            return Vec::new();
        }
        // Keys given twice at the top (`Statement` itself): only the
        // document's own members, not those inside its statements.
        let mut out = match &doc.json {
            Json::Obj(members) => {
                let top = Json::Obj(
                    members
                        .iter()
                        .map(|m| super::super::json::Member {
                            value: Json::Null,
                            ..m.clone()
                        })
                        .collect(),
                );
                self.found(doc, "(document)".into(), &top)
            }
            _ => Vec::new(),
        };
        for st in &doc.statements {
            out.extend(self.statement(doc, st));
        }
        out
    }
}
