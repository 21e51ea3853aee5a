use super::*;

fn change(time: &str, id: &str, name: &str, params: &str) -> String {
    format!(
        r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"{name}","eventSource":"iam.amazonaws.com","recipientAccountId":"111122223333",
           "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/gha-infra/GitHubActions","accessKeyId":"ASIATEST"}},
           "requestParameters":{params}}}"#
    )
}

fn trust(sub: &str) -> String {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}},"StringLike":{{"token.actions.githubusercontent.com:sub":"{sub}"}}}}}}]}}"#
    );
    serde_json::to_string(&doc).unwrap()
}

#[test]
fn widening_admin_and_provider_changes() {
    let assume = crate::reports::testing::web_identity(
        "2026-11-16T09:00:00Z",
        "arn:aws:iam::111122223333:role/gha-infra",
        "repo:acme/infra:ref:refs/heads/main",
        "sts.amazonaws.com",
        None,
    );
    let records = [
        assume,
        change(
            "2026-11-16T10:00:00Z",
            "c1",
            "CreateRole",
            &format!(
                r#"{{"roleName":"deploy","assumeRolePolicyDocument":{}}}"#,
                trust("repo:acme/api:ref:refs/heads/main")
            ),
        ),
        change(
            "2026-11-17T10:00:00Z",
            "c2",
            "UpdateAssumeRolePolicy",
            &format!(
                r#"{{"roleName":"deploy","policyDocument":{}}}"#,
                trust("repo:acme/*")
            ),
        ),
        change(
            "2026-11-18T10:00:00Z",
            "c3",
            "UpdateAssumeRolePolicy",
            &format!(
                r#"{{"roleName":"deploy","policyDocument":{}}}"#,
                trust("repo:acme/api:ref:refs/heads/main")
            ),
        ),
        change(
            "2026-11-18T11:00:00Z",
            "c4",
            "AttachRolePolicy",
            r#"{"roleName":"deploy","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
        ),
        change(
            "2026-11-18T11:05:00Z",
            "c5",
            "AttachRolePolicy",
            r#"{"roleName":"lambda-role","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
        ),
        change(
            "2026-11-18T12:00:00Z",
            "c6",
            "UpdateOpenIDConnectProviderThumbprint",
            r#"{"openIDConnectProviderArn":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com","thumbprintList":["0000000000000000000000000000000000000000"]}"#,
        ),
        change(
            "2026-11-18T13:00:00Z",
            "c7",
            "PutRolePolicy",
            r#"{"roleName":"gha-infra","policyName":"all","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}"#,
        ),
    ];
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let f = TrustChanges
        .run(&crate::frame::from_json(&refs, true), None)
        .unwrap();
    let ev = &f.events;
    let get = |c: &str| -> Vec<Option<String>> {
        ev.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect()
    };
    assert_eq!(
        get(col::EVENT_ID),
        ["c1", "c2", "c3", "c4", "c6", "c7"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        get("change")[..3],
        ["first seen", "widened", "narrowed"].map(|s| Some(s.to_string()))
    );
    assert_eq!(get("checks")[1].as_deref(), Some("org-wide"));
    assert_eq!(get("severity")[1].as_deref(), Some("high"));
    assert_eq!(get("severity")[3].as_deref(), Some("critical"));
    assert_eq!(get("change")[4].as_deref(), Some("thumbprints replaced"));
    // The change was made with a key a workflow of acme/infra held.
    assert_eq!(get("via_repository")[1].as_deref(), Some("acme/infra"));
}
