//! Request and response payloads kept as JSON text, with secrets redacted
//! by [`crate::redact`]'s one rule before they are kept anywhere: minified,
//! so the same payload reads the same whether the log was pretty-printed or
//! not; withheld whole when it cannot be parsed.

use serde_json::value::RawValue;

pub use crate::redact::REDACTED;

/// A payload as minified JSON text with secrets redacted; `None` for
/// `null`. A payload given as a JSON-encoded string is decoded first.
pub fn payload_text(raw: &RawValue) -> Option<String> {
    crate::redact::payload_text(raw.get())
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
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Built once: `str::find` would set up a searcher per call, twice for
    // every event.
    static RUN_ID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("md/run_id#"));
    static ATTEMPT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("md/attempt#"));
    let grab = |marker: &Finder<'static>| {
        let start = marker.find(user_agent.as_bytes())? + marker.needle().len();
        let digits = user_agent[start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        (digits > 0).then(|| &user_agent[start..start + digits])
    };
    (grab(&RUN_ID), grab(&ATTEMPT))
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

    /// Regression (hostile input 11): a standard session token nested 127
    /// levels or more deep is redacted, not stored as text.
    #[test]
    fn secrets_nested_past_any_parser_depth_are_redacted() {
        for depth in [126, 127, 128, 500] {
            let text = format!(
                "{}{{\"credentials\":{{\"sessionToken\":\"TOKEN-SECRET\"}}}}{}",
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            let t = payload_text(&raw(&text)).unwrap();
            assert!(
                !t.contains("TOKEN-SECRET") && t.contains(REDACTED),
                "{depth}"
            );
        }
        // Unparseable: withheld, never the text.
        let bad = RawValue::from_string("\"{\\\"password\\\": \\\"p\"".to_string()).unwrap();
        let t = payload_text(&bad).unwrap();
        assert!(!t.contains("\"p\""), "{t}");
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
