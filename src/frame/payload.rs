//! Request and response payloads kept as JSON text, with secrets redacted.
//!
//! CloudTrail puts session tokens and secret keys in some responses
//! (`AssumeRole*`, `GetSessionToken`, `CreateAccessKey`…). Before a payload
//! is kept anywhere, every value under a secret-looking key is replaced by
//! `"REDACTED"`. Text is minified so the same payload reads the same whether
//! the log was pretty-printed or not.

use std::borrow::Cow;

use serde_json::Value;
use serde_json::value::RawValue;

/// What replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// Lower-case fragments of keys whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "sessiontoken",
    "secretaccesskey",
    "secretkey",
    "password",
    "privatekey",
    "clientsecret",
];

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// A payload as minified JSON text with secrets redacted; `None` for
/// `null`. A payload given as a JSON-encoded string is decoded first.
pub fn payload_text(raw: &RawValue) -> Option<String> {
    let text = raw.get().trim();
    if text == "null" {
        return None;
    }
    let decoded: Cow<'_, str> = if text.starts_with('"') {
        match serde_json::from_str::<String>(text) {
            Ok(inner) if inner.trim_start().starts_with(['{', '[']) => Cow::Owned(inner),
            _ => Cow::Borrowed(text),
        }
    } else {
        Cow::Borrowed(text)
    };
    let lower = decoded.to_ascii_lowercase();
    if SECRET_KEYS.iter().any(|k| lower.contains(k)) {
        if let Ok(mut v) = serde_json::from_str::<Value>(&decoded) {
            redact(&mut v);
            return Some(v.to_string());
        }
    }
    Some(minify(&decoded))
}

/// Replaces, in place, every value under a secret-looking key.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_key(k) && !val.is_null() {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// JSON text without white space outside strings.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_str, mut escaped) = (false, false);
    for c in json.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// The ARNs of a record's `resources`, comma-separated.
pub fn resource_arns(raw: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Resource {
        #[serde(rename = "ARN", alias = "arn", default)]
        arn: Option<String>,
    }
    let list: Vec<Resource> = serde_json::from_str(raw.get()).ok()?;
    let arns: Vec<String> = list.into_iter().filter_map(|r| r.arn).collect();
    (!arns.is_empty()).then(|| arns.join(","))
}

/// The GitHub Actions run id and attempt that recent
/// `configure-aws-credentials` versions put in the user agent
/// (`md/run_id#123 md/attempt#2`).
pub fn github_run(user_agent: &str) -> (Option<&str>, Option<&str>) {
    let grab = |marker: &str| {
        let start = user_agent.find(marker)? + marker.len();
        let digits = user_agent[start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        (digits > 0).then(|| &user_agent[start..start + digits])
    };
    (grab("md/run_id#"), grab("md/attempt#"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let t = payload_text(&raw(
            r#"{"credentials": {"accessKeyId": "ASIAX", "sessionToken": "TOKEN", "secretAccessKey": "KEY"},
                "accessKey": {"SecretAccessKey": "K2"}, "list": [{"password": "p"}]}"#,
        ))
        .unwrap();
        assert!(
            !t.contains("TOKEN")
                && !t.contains("\"KEY\"")
                && !t.contains("K2")
                && !t.contains("\"p\""),
            "{t}"
        );
        assert!(t.contains(r#""accessKeyId":"ASIAX""#), "{t}");
        assert_eq!(t.matches(REDACTED).count(), 4);
    }

    #[test]
    fn payloads_are_minified_and_decoded() {
        assert_eq!(
            payload_text(&raw("{ \"a\" : [1, 2], \"b\": \"x y\" }")).unwrap(),
            r#"{"a":[1,2],"b":"x y"}"#
        );
        assert_eq!(
            payload_text(&raw(r#""{\"roleArn\": \"r\"}""#)).unwrap(),
            r#"{"roleArn":"r"}"#
        );
        assert_eq!(payload_text(&raw("null")), None);
        // An encoded string with a secret in it is redacted too.
        let t = payload_text(&raw(r#""{\"sessionToken\": \"T\"}""#)).unwrap();
        assert_eq!(t, r#"{"sessionToken":"REDACTED"}"#);
    }

    #[test]
    fn resources_and_run_ids() {
        let r = raw(
            r#"[{"accountId":"1","type":"AWS::IAM::Role","ARN":"arn:aws:iam::1:role/r"},{"type":"x"},{"ARN":"arn:b"}]"#,
        );
        assert_eq!(
            resource_arns(&r).as_deref(),
            Some("arn:aws:iam::1:role/r,arn:b")
        );
        assert_eq!(
            github_run(
                "aws-sdk-js/3.600 ua/2.1 os/linux md/run_id#9876543210 md/attempt#2 configure-aws-credentials"
            ),
            (Some("9876543210"), Some("2"))
        );
        assert_eq!(github_run("aws-cli/2"), (None, None));
    }
}
