use super::*;

fn parse(text: &str) -> RawEvent<'_> {
    serde_json::from_str(text).expect("parses")
}

#[test]
fn type_drift_is_tolerated() {
    let ev = parse(
        r#"{"eventTime":"2022-01-03T19:03:00Z","readOnly":"true","managementEvent":false,
            "userIdentity":null,"requestParameters":null,"errorCode":200,"extra":{"a":[1,2]}}"#,
    );
    assert_eq!(ev.read_only.as_bool(), Some(true));
    assert_eq!(ev.management_event.as_bool(), Some(false));
    assert!(ev.identity.is_none());
    assert_eq!(ev.error_code.as_str(), Some("200"));
    assert_eq!(ev.request_parameters.map(|r| r.get()), Some("null"));
}

#[test]
fn misspelled_identity_keys_are_read() {
    let ev =
        parse(r#"{"userIdentity":{"type":"IAMUser","accesKeyId":"AKIAX","principalid":"AIDA1"}}"#);
    let id = ev.identity.unwrap();
    assert_eq!(id.access_key_id.as_str(), Some("AKIAX"));
    assert_eq!(id.principal_id.as_str(), Some("AIDA1"));
}

#[test]
fn empty_strings_read_as_missing() {
    let ev = parse(r#"{"userIdentity":{"arn":"","accessKeyId":""}}"#);
    let id = ev.identity.unwrap();
    assert_eq!(id.arn.as_str(), None);
    assert_eq!(id.access_key_id.as_str(), None);
}

#[test]
fn session_context_issuer_is_read() {
    let ev = parse(
        r#"{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/r"},"webIdFederationData":{"federatedProvider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com","attributes":{}},"attributes":{"mfaAuthenticated":"false"}}}}"#,
    );
    let id = ev.identity.unwrap();
    assert_eq!(
        id.session_issuer_arn.as_str(),
        Some("arn:aws:iam::1:role/r")
    );
    assert_eq!(id.session_issuer_type.as_str(), Some("Role"));
    assert!(
        id.federated_provider
            .as_str()
            .unwrap()
            .ends_with("githubusercontent.com")
    );
}

/// The session issuer's fields are read as `Flat::get` reads them: the
/// first scalar under the name (a composite one is passed over, a `null`
/// counts), escaped names decoded; anything but an object gives nothing.
#[test]
fn session_issuer_fields_are_picked_as_flat_reads_them() {
    let issuers = [
        r#"{"type":"Role","arn":"a1"}"#,
        r#"{"arn":{"nested":"x"},"arn":"a2","type":["Role"],"type":"Role"}"#,
        r#"{"arn":null,"arn":"a3"}"#,
        r#"{"\u0061rn":"a4","arn":"later","extra":{"deep":[1,2,{"arn":"no"}]}}"#,
        r#"{"ARN":"a5","Type":"Role"}"#,
        r#"{"arn":12,"type":true}"#,
        r#"{}"#,
        r#"null"#,
        r#""a string""#,
        r#"[{"arn":"a6"}]"#,
        r#"7"#,
    ];
    for issuer in issuers {
        let text = format!(
            r#"{{"userIdentity":{{"sessionContext":{{"sessionIssuer":{issuer},"webIdFederationData":{issuer}}}}}}}"#
        );
        let ev = parse(&text);
        let id = ev.identity.expect("an identity");
        let flat: Flat<'_> = serde_json::from_str(issuer).expect("valid JSON");
        assert_eq!(id.session_issuer_arn, flat.get("arn"), "{issuer}");
        assert_eq!(id.session_issuer_type, flat.get("type"), "{issuer}");
        assert_eq!(
            id.federated_provider,
            flat.get("federatedProvider"),
            "{issuer}"
        );
    }
}

#[test]
fn assume_role_payload_from_objects_and_strings() {
    let ev = parse(
        r#"{"requestParameters":{"roleArn":"arn:aws:iam::1:role/r","roleSessionName":"GitHubActions"},
            "responseElements":{"credentials":{"accessKeyId":"ASIA1","sessionToken":"SECRET","expiration":"Apr 16, 2025, 3:46:56 AM"},
            "subjectFromWebIdentityToken":"repo:a/b:ref:refs/heads/main","audience":"sts.amazonaws.com",
            "provider":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
            "assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/r/GitHubActions"}}}"#,
    );
    let p = AssumeRolePayload::from_event(&ev);
    assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::1:role/r"));
    assert_eq!(p.issued_access_key_id.as_deref(), Some("ASIA1"));
    assert_eq!(p.subject.as_deref(), Some("repo:a/b:ref:refs/heads/main"));
    assert_eq!(p.audience.as_deref(), Some("sts.amazonaws.com"));

    let ev = parse(
        r#"{"requestParameters":"{\"roleArn\":\"arn:aws:iam::1:role/s\"}","responseElements":"not json"}"#,
    );
    let p = AssumeRolePayload::from_event(&ev);
    assert_eq!(p.role_arn.as_deref(), Some("arn:aws:iam::1:role/s"));
    assert_eq!(p.subject, None);
}
