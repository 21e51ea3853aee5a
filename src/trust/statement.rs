//! A trust policy document → the statements that let a web-identity
//! provider assume the role, with their conditions as IAM reads them (the
//! last of duplicated keys). Statements for service principals, accounts,
//! or plain `sts:AssumeRole` are not web-identity trust and are left out.

use super::json::Json;
use super::provider::Provider;
use crate::policy::Pattern;

/// The action every check is about.
pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// One `Allow` statement that trusts a web-identity provider.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Zero-based position in `Statement`.
    pub index: usize,
    pub sid: Option<String>,
    /// The provider it trusts (from the principal, or from the condition
    /// keys when the principal is a template placeholder).
    pub provider: Provider,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `#0` or `#0 (Sid "GitHubDeploy")`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("#{} (Sid {sid})", self.index),
            None => format!("#{}", self.index),
        }
    }

    /// The conditions on one claim of this statement's provider (`sub`,
    /// `aud`, `repository`…).
    pub fn on_claim<'s>(&'s self, claim: &'s str) -> impl Iterator<Item = &'s Condition> + 's {
        self.conditions
            .iter()
            .filter(move |c| self.provider.claim_of(&c.key) == Some(claim))
    }

    /// The conditions that say what one claim must be
    /// ([`Condition::is_positive`]).
    pub fn positive_on<'s>(&'s self, claim: &'s str) -> Vec<&'s Condition> {
        self.on_claim(claim).filter(|c| c.is_positive()).collect()
    }
}

/// One condition key with its operator and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written (`ForAllValues:StringLikeIfExists`).
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    /// The operator without `ForAllValues:`/`ForAnyValue:` and `IfExists`.
    pub fn base(&self) -> &str {
        let op = self
            .operator
            .split_once(':')
            .map_or(&*self.operator, |(_, b)| b);
        op.strip_suffix("IfExists").unwrap_or(op)
    }

    pub fn if_exists(&self) -> bool {
        self.operator.ends_with("IfExists")
    }

    pub fn for_all_values(&self) -> bool {
        self.operator.starts_with("ForAllValues:")
    }

    /// Whether the values are patterns (`*`, `?`).
    pub fn is_like(&self) -> bool {
        self.base() == "StringLike"
    }

    /// Whether the condition says what the claim must be (not what it
    /// must not be, and not a `Null` test).
    pub fn is_positive(&self) -> bool {
        matches!(
            self.base(),
            "StringEquals" | "StringLike" | "StringEqualsIgnoreCase"
        )
    }

    /// Whether a value admits more than itself.
    pub fn is_wild(&self, value: &str) -> bool {
        self.is_like() && value.contains(['*', '?'])
    }

    /// Whether some value admits more than itself.
    pub fn any_wild(&self) -> bool {
        self.values.iter().any(|v| self.is_wild(v))
    }

    /// `StringLike token.actions.githubusercontent.com:sub = repo:acme/*`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} = {}",
            self.operator,
            self.key,
            self.values.join(" | ")
        )
    }
}

/// The web-identity statements of a policy document, or why it is not one.
pub fn statements(doc: &Json) -> Result<Vec<Statement>, String> {
    let list = match doc.get_any_case("Statement") {
        Some(Json::Arr(items)) => items.iter().collect::<Vec<_>>(),
        Some(one @ Json::Obj(_)) => vec![one],
        _ => return Err("not a policy document: no `Statement`".into()),
    };
    let mut out = Vec::new();
    for (index, st) in list.into_iter().enumerate() {
        if let Some(s) = web_identity_statement(index, st) {
            out.push(s);
        }
    }
    Ok(out)
}

fn web_identity_statement(index: usize, st: &Json) -> Option<Statement> {
    let allow = st
        .get("Effect")
        .and_then(Json::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
    let action = st.get("Action").map(Json::strings).unwrap_or_default();
    let assumes = action.iter().any(|a| {
        Pattern::new(a.to_ascii_lowercase()).matches(&WEB_IDENTITY_ACTION.to_ascii_lowercase())
    });
    if !allow || !assumes {
        return None;
    }
    let conditions = conditions(st.get("Condition"));
    let principal = st.get("Principal");
    let federated: Vec<&str> = match principal {
        Some(Json::Str(s)) if s == "*" => vec!["*"],
        Some(p) => p.get("Federated").map(Json::strings).unwrap_or_default(),
        None => Vec::new(),
    };
    let provider = federated
        .iter()
        .find_map(|f| Provider::from_principal(f))
        .or_else(|| Provider::from_condition_keys(conditions.iter().map(|c| c.key.as_str())))?;
    Some(Statement {
        index,
        sid: st.get("Sid").and_then(Json::as_str).map(str::to_owned),
        provider,
        conditions,
    })
}

/// Every (operator, key, values) of a `Condition` block, as IAM reads it.
fn conditions(block: Option<&Json>) -> Vec<Condition> {
    let Some(block) = block else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for op in block.members() {
        for key in op.value.members() {
            let values = match &key.value {
                Json::Str(s) => vec![s.clone()],
                Json::Arr(items) => items
                    .iter()
                    .map(|v| match v {
                        Json::Str(s) => s.clone(),
                        other => other.to_text(),
                    })
                    .collect(),
                other => vec![other.to_text()],
            };
            out.push(Condition {
                operator: op.key.clone(),
                // Condition keys are case-insensitive in IAM.
                key: key.key.to_ascii_lowercase(),
                values,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_identity_allow_statements_count() {
        let doc = Json::parse(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},
              {"Sid":"GitHub","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
               "Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
               "Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:a/b:*","repo:a/c:*"]},
                            "StringEqualsIfExists":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}},
              {"Effect":"Deny","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"},
              {"Effect":"Allow","Principal":{"Federated":"${provider_arn}"},"Action":"sts:*",
               "Condition":{"StringEquals":{"token.actions.githubusercontent.com:sub":"repo:a/b:ref:refs/heads/main"}}}
            ]}"#,
        )
        .unwrap();
        let s = statements(&doc).unwrap();
        assert_eq!(s.iter().map(|s| s.index).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(s[0].label(), "#1 (Sid GitHub)");
        let aud: Vec<_> = s[0].on_claim("aud").collect();
        assert!(aud[0].if_exists() && aud[0].base() == "StringEquals");
        assert_eq!(s[0].on_claim("sub").next().unwrap().values.len(), 2);
        assert_eq!(s[1].provider.host, "token.actions.githubusercontent.com");
        assert!(statements(&Json::parse("{\"a\":1}").unwrap()).is_err());
        // Condition keys are case-insensitive.
        let doc = Json::parse(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"Token.Actions.GitHubUserContent.com:Sub":"repo:a/b:pull_request"}}}}"#,
        )
        .unwrap();
        assert_eq!(statements(&doc).unwrap()[0].on_claim("sub").count(), 1);
    }
}
