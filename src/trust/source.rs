//! Where trust documents come from: files and folders holding a policy
//! document, the output of `aws iam get-role`, `list-roles` or
//! `get-account-authorization-details` (whose `AssumeRolePolicyDocument`
//! IAM returns URL-encoded), or Terraform JSON (`terraform show -json` of a
//! plan or a state, and state files), each role's `assume_role_policy`.
//! A file that cannot be read is named with the line and column; the
//! others are still read.

use std::fs;
use std::path::{Path, PathBuf};

use super::Document;
use super::json::Json;

/// An input that could not be read as trust documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub source: String,
    pub detail: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.detail)
    }
}

/// Every trust document under `paths` (folders walked in name order,
/// hidden entries and links passed over), and what could not be read.
pub fn read_paths(paths: &[PathBuf]) -> (Vec<Document>, Vec<Unreadable>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files);
        } else {
            files.push(p.clone());
        }
    }
    let mut docs = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match fs::read(&f) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match documents(&name, &text) {
                    Ok(found) => docs.extend(found),
                    Err(detail) => errors.push(Unreadable {
                        source: name,
                        detail,
                    }),
                }
            }
            Err(e) => errors.push(Unreadable {
                source: name,
                detail: e.to_string(),
            }),
        }
    }
    (docs, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        let Ok(kind) = e.file_type() else { continue };
        if name.starts_with('.') || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            walk(&path, files);
        } else if kind.is_file()
            && [".json", ".tfstate", ".json.tpl", ".json.tftpl"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
}

/// The trust documents in one file's text.
pub fn documents(name: &str, text: &str) -> Result<Vec<Document>, String> {
    let json = Json::parse(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut out = Vec::new();
    collect(name, &json, &mut out)?;
    if out.is_empty() {
        return Err(
            "no trust policy found: not a policy document, IAM role output or Terraform JSON"
                .into(),
        );
    }
    Ok(out)
}

fn collect(name: &str, json: &Json, out: &mut Vec<Document>) -> Result<(), String> {
    if json.get_any_case("Statement").is_some() {
        out.push(Document::new(name.to_string(), None, json.clone())?);
        return Ok(());
    }
    if let Json::Arr(items) = json {
        for item in items {
            collect(name, item, out)?;
        }
        return Ok(());
    }
    if let Some(role) = json.get("Role") {
        role_document(name, role, out)?;
    }
    for list in ["Roles", "RoleDetailList"] {
        if let Some(Json::Arr(roles)) = json.get(list) {
            for role in roles {
                role_document(name, role, out)?;
            }
        }
    }
    terraform(name, json, out)?;
    Ok(())
}

/// One IAM role (`get-role`'s `Role`, an element of `Roles` or
/// `RoleDetailList`) with its trust document.
fn role_document(name: &str, role: &Json, out: &mut Vec<Document>) -> Result<(), String> {
    let arn = role
        .get("Arn")
        .or_else(|| role.get("RoleName"))
        .and_then(Json::as_str)
        .map(str::to_owned);
    let Some(doc) = role.get("AssumeRolePolicyDocument") else {
        return Ok(());
    };
    let json = embedded_policy(doc).map_err(|e| {
        format!(
            "the trust document of {}: {e}",
            arn.as_deref().unwrap_or("a role")
        )
    })?;
    out.push(Document::new(name.to_string(), arn, json)?);
    Ok(())
}

/// A policy given as an object, as JSON text, or URL-encoded JSON text.
pub fn embedded_policy(v: &Json) -> Result<Json, String> {
    match v {
        Json::Obj(_) => Ok(v.clone()),
        Json::Str(s) => {
            let text = if s.trim_start().starts_with('%') || s.contains("%22") {
                percent_decode(s)
            } else {
                s.clone()
            };
            Json::parse(&text).map_err(|e| format!("not valid JSON: {e}"))
        }
        _ => Err("not a policy document".into()),
    }
}

/// `%XX` decoded, `+` as a space (URL query encoding, as IAM returns
/// documents).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `aws_iam_role` resources of `terraform show -json` (a plan's
/// `planned_values`, or a state's `values`, modules included) or of a
/// state file (`resources[].instances[].attributes`).
fn terraform(name: &str, json: &Json, out: &mut Vec<Document>) -> Result<(), String> {
    let mut modules: Vec<&Json> = ["planned_values", "values"]
        .iter()
        .filter_map(|k| json.get(k)?.get("root_module"))
        .collect();
    while let Some(m) = modules.pop() {
        if let Some(Json::Arr(resources)) = m.get("resources") {
            for r in resources {
                if r.get("type").and_then(Json::as_str) == Some("aws_iam_role") {
                    let label = r.get("address").and_then(Json::as_str).map(str::to_owned);
                    terraform_role(name, label, r.get("values"), out)?;
                }
            }
        }
        if let Some(Json::Arr(children)) = m.get("child_modules") {
            modules.extend(children.iter());
        }
    }
    if let Some(Json::Arr(resources)) = json.get("resources") {
        for r in resources {
            if r.get("type").and_then(Json::as_str) != Some("aws_iam_role") {
                continue;
            }
            let address = match (
                r.get("module").and_then(Json::as_str),
                r.get("name").and_then(Json::as_str),
            ) {
                (Some(m), Some(n)) => Some(format!("{m}.aws_iam_role.{n}")),
                (None, Some(n)) => Some(format!("aws_iam_role.{n}")),
                _ => None,
            };
            if let Some(Json::Arr(instances)) = r.get("instances") {
                for i in instances {
                    terraform_role(name, address.clone(), i.get("attributes"), out)?;
                }
            }
        }
    }
    Ok(())
}

fn terraform_role(
    name: &str,
    address: Option<String>,
    values: Option<&Json>,
    out: &mut Vec<Document>,
) -> Result<(), String> {
    let Some(values) = values else {
        return Ok(());
    };
    let Some(policy) = values.get("assume_role_policy") else {
        return Ok(());
    };
    let role = values
        .get("arn")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .or(address);
    let json = embedded_policy(policy).map_err(|e| {
        format!(
            "assume_role_policy of {}: {e}",
            role.as_deref().unwrap_or("a role")
        )
    })?;
    out.push(Document::new(name.to_string(), role, json)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}]}"#;

    #[test]
    fn every_input_format() {
        assert_eq!(documents("p.json", POLICY).unwrap().len(), 1);
        let encoded: String = POLICY
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let get_role = format!(
            r#"{{"Role":{{"RoleName":"deploy","Arn":"arn:aws:iam::1:role/deploy","AssumeRolePolicyDocument":"{encoded}"}}}}"#
        );
        let docs = documents("get-role.json", &get_role).unwrap();
        assert_eq!(docs[0].role.as_deref(), Some("arn:aws:iam::1:role/deploy"));
        assert_eq!(docs[0].statements.len(), 1);
        let list = format!(
            r#"{{"Roles":[{{"Arn":"arn:aws:iam::1:role/a","AssumeRolePolicyDocument":{POLICY}}},{{"Arn":"arn:aws:iam::1:role/b","AssumeRolePolicyDocument":{POLICY}}}]}}"#
        );
        assert_eq!(documents("roles.json", &list).unwrap().len(), 2);
        let details = format!(
            r#"{{"UserDetailList":[],"RoleDetailList":[{{"Arn":"arn:aws:iam::1:role/a","AssumeRolePolicyDocument":{POLICY}}}]}}"#
        );
        assert_eq!(documents("auth.json", &details).unwrap().len(), 1);
        let as_string = serde_json::to_string(POLICY).unwrap();
        let plan = format!(
            r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[],"child_modules":[{{"resources":[{{"address":"module.ci.aws_iam_role.deploy","type":"aws_iam_role","values":{{"assume_role_policy":{as_string}}}}}]}}]}}}}}}"#
        );
        let docs = documents("plan.json", &plan).unwrap();
        assert_eq!(
            docs[0].role.as_deref(),
            Some("module.ci.aws_iam_role.deploy")
        );
        let state = format!(
            r#"{{"version":4,"resources":[{{"mode":"managed","type":"aws_iam_role","name":"deploy","instances":[{{"attributes":{{"arn":"arn:aws:iam::1:role/deploy","assume_role_policy":{as_string}}}}}]}}]}}"#
        );
        assert_eq!(
            documents("terraform.tfstate", &state).unwrap()[0]
                .role
                .as_deref(),
            Some("arn:aws:iam::1:role/deploy")
        );
        let e = documents("bad.json", "{\n \"Statement\": [\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(documents("x.json", r#"{"name":"pkg"}"#).is_err());
    }
}
