//! `iam-user-keys`: calls made with long-lived (`AKIA…`) access keys.

use polars::prelude::*;

use super::{
    Context, Needs, PolicyNeed, Report, Severity, distinct, finding_rows, group, keep,
    string_column, strs,
};
use crate::frame::col;
use crate::ingest::is_long_lived_key;

#[doc = include_str!("iam_user_keys.md")]
pub struct IamUserKeys;

const CONTEXT: &[&str] = &[
    "identity",
    col::IDENTITY_TYPE,
    col::ACCESS_KEY_ID,
    col::EVENT_NAME,
    col::EVENT_SOURCE,
    "ci_hint",
    col::SOURCE_IP,
    col::SOURCE_NETWORK,
    col::SOURCE_ASN,
    col::SOURCE_COUNTRY,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::AWS_REGION,
    col::ACCOUNT_ID,
];

impl Report for IamUserKeys {
    fn id(&self) -> &'static str {
        "iam-user-keys"
    }
    fn title(&self) -> &'static str {
        "Long-lived IAM user access keys in use"
    }
    fn doc(&self) -> &'static str {
        include_str!("iam_user_keys.md")
    }
    fn needs(&self) -> &'static [Needs] {
        &[Needs::LongLivedKeys]
    }
    fn columns(&self) -> Vec<&'static str> {
        let read = [
            col::IDENTITY_ARN,
            col::IDENTITY_USER_NAME,
            col::IDENTITY_PRINCIPAL_ID,
        ];
        [CONTEXT, &read].concat()
    }
    fn policy_need(&self) -> PolicyNeed {
        PolicyNeed::Optional
    }

    fn flag(&self, frame: &DataFrame, ctx: &Context<'_>) -> PolarsResult<DataFrame> {
        let policy = ctx.policy;
        let keys = strs(frame, col::ACCESS_KEY_ID)?;
        let mut df = keep(
            frame.clone(),
            keys.iter().map(|k| k.is_some_and(is_long_lived_key)),
        )?;
        let (arns, types) = (
            strs(&df, col::IDENTITY_ARN)?,
            strs(&df, col::IDENTITY_TYPE)?,
        );
        let (names, principals) = (
            strs(&df, col::IDENTITY_USER_NAME)?,
            strs(&df, col::IDENTITY_PRINCIPAL_ID)?,
        );
        let accounts = strs(&df, col::ACCOUNT_ID)?;
        let agents = strs(&df, col::USER_AGENT)?;
        let mut identity = Vec::with_capacity(df.height());
        let mut severity = Vec::with_capacity(df.height());
        let mut allowed = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let label = match (arns.get(i), names.get(i), principals.get(i)) {
                (Some(arn), _, _) => arn.to_string(),
                (None, Some(name), _) => {
                    format!("user {name} (account {})", accounts.get(i).unwrap_or("?"))
                }
                (None, None, Some(p)) => format!("principal {p}"),
                (None, None, None) => "(unknown identity)".to_string(),
            };
            let root =
                types.get(i) == Some("Root") || arns.get(i).is_some_and(|a| a.ends_with(":root"));
            allowed.push(
                !root
                    && arns
                        .get(i)
                        .is_some_and(|a| policy.is_some_and(|p| p.iam_user_allowed(a))),
            );
            severity.push(Some(
                if root {
                    Severity::Critical
                } else {
                    Severity::High
                }
                .as_str(),
            ));
            identity.push(Some(label));
        }
        let hints: Vec<Option<&str>> = agents.iter().map(|ua| ua.and_then(ci_hint)).collect();
        df.with_column(string_column("identity", identity))?;
        df.with_column(string_column("severity", severity))?;
        df.with_column(string_column("ci_hint", hints))?;
        let df = keep(df, allowed.into_iter().map(|a| !a))?;
        finding_rows(df, &[CONTEXT])
    }

    fn group(&self, events: &DataFrame) -> PolarsResult<DataFrame> {
        group(
            events,
            &["identity", col::ACCESS_KEY_ID],
            vec![
                col(col::IDENTITY_TYPE).first().into(),
                distinct("ci_hint"),
                distinct(col::EVENT_NAME),
                distinct(col::SOURCE_IP),
                distinct(col::SOURCE_NETWORK),
                distinct(col::USER_AGENT),
            ],
        )
    }
}

/// Markers in user agents that point at CI or unattended automation, and
/// what they point at. Matched case-insensitively, first match wins.
const CI_MARKERS: &[(&str, &str)] = &[
    (
        "configure-aws-credentials",
        "GitHub Actions (configure-aws-credentials)",
    ),
    ("github-actions", "GitHub Actions"),
    ("githubactions", "GitHub Actions"),
    ("gitlab", "GitLab CI"),
    ("jenkins", "Jenkins"),
    ("circleci", "CircleCI"),
    ("buildkite", "Buildkite"),
    ("travis", "Travis CI"),
    ("bitbucket", "Bitbucket Pipelines"),
    ("azure-pipelines", "Azure Pipelines"),
    ("teamcity", "TeamCity"),
    ("drone/", "Drone CI"),
    ("codebuild", "AWS CodeBuild"),
    ("atlantis", "Atlantis (automation)"),
    ("spacelift", "Spacelift (automation)"),
    ("env0", "env0 (automation)"),
    ("terraform", "Terraform (automation)"),
    ("pulumi", "Pulumi (automation)"),
    // The AWS CLI and SDKs report the kernel; GitHub-hosted runners are Azure VMs.
    ("-azure md/", "GitHub-hosted runner (Azure VM)"),
    ("aws-cdk", "AWS CDK (automation)"),
    ("serverless/", "Serverless Framework (automation)"),
];

/// What CI system or automation a user agent points at, if any.
pub fn ci_hint(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.to_ascii_lowercase();
    CI_MARKERS
        .iter()
        .find(|(m, _)| ua.contains(m))
        .map(|(_, hint)| *hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::reports::testing::frame;

    fn call(id: &str, key: &str, arn: &str, kind: &str, ua: &str) -> String {
        format!(
            r#"{{"eventTime":"2026-11-16T10:00:{id}Z","eventID":"e{id}","eventName":"ListBuckets","eventSource":"s3.amazonaws.com",
            "userAgent":"{ua}","sourceIPAddress":"203.0.113.7",
            "userIdentity":{{"type":"{kind}","arn":"{arn}","accessKeyId":"{key}","userName":"u"}}}}"#
        )
    }

    #[test]
    fn flags_long_lived_keys_only() {
        let policy =
            Policy::parse("[iam_user_keys]\nallowed_users = [\"arn:aws:iam::1:user/legacy-*\"]\n")
                .unwrap();
        let df = frame(&[
            &call(
                "01",
                "AKIAUSERKEY",
                "arn:aws:iam::1:user/deployer",
                "IAMUser",
                "aws-cli/2.15 configure-aws-credentials-for-github-actions",
            ),
            &call(
                "02",
                "AKIAUSERKEY",
                "arn:aws:iam::1:user/deployer",
                "IAMUser",
                "aws-cli/2.15",
            ),
            &call(
                "03",
                "AKIAROOTKEY",
                "arn:aws:iam::1:root",
                "Root",
                "aws-cli/2.15",
            ),
            &call(
                "04",
                "AKIALEGACY",
                "arn:aws:iam::1:user/legacy-backup",
                "IAMUser",
                "aws-cli/2.15",
            ),
            &call(
                "05",
                "ASIASESSION",
                "arn:aws:sts::1:assumed-role/r/s",
                "AssumedRole",
                "aws-cli/2.15",
            ),
            // A new key in a response payload is not a use of it.
            r#"{"eventTime":"2026-11-16T10:00:06Z","eventName":"CreateAccessKey","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAX"},
               "responseElements":{"accessKey":{"accessKeyId":"AKIANEWKEY","userName":"u"}}}"#,
        ]);
        let f = IamUserKeys.run(&df, Some(&policy)).unwrap();
        assert_eq!(f.count(), 3);
        assert_eq!(f.groups.height(), 2);
        assert_eq!(
            strs(&f.groups, "severity").unwrap().get(0),
            Some("critical")
        );
        assert_eq!(
            strs(&f.groups, "identity").unwrap().get(0),
            Some("arn:aws:iam::1:root")
        );
        assert_eq!(
            strs(&f.groups, "identity").unwrap().get(1),
            Some("arn:aws:iam::1:user/deployer")
        );
        let hints = f
            .groups
            .column("ci_hint")
            .unwrap()
            .list()
            .unwrap()
            .get_as_series(1)
            .unwrap();
        assert_eq!(
            hints.str().unwrap().get(0),
            Some("GitHub Actions (configure-aws-credentials)")
        );
        // Without a policy nobody is exempt.
        assert_eq!(IamUserKeys.run(&df, None).unwrap().count(), 4);
    }

    #[test]
    fn hints() {
        assert_eq!(
            ci_hint("APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io)"),
            Some("Terraform (automation)")
        );
        assert_eq!(ci_hint("aws-sdk-java/1.12 jenkins-plugin"), Some("Jenkins"));
        assert_eq!(
            ci_hint(
                "aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6"
            ),
            Some("GitHub-hosted runner (Azure VM)")
        );
        assert_eq!(ci_hint("Mozilla/5.0 (Macintosh)"), None);
    }
}
