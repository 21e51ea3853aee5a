#!/usr/bin/env python3
"""Generates a large, realistic CloudTrail trail for benchmarks.

    python3 scripts/gen-trail.py OUT_DIR --events 200000 [--mix heavy|lean] [--seed 1] [--jobs 2]
                                 [--policy FILE] [--rare N] [--days D]

Writes CloudTrail's S3 layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz) with a mix of
5-minute files (most) and hourly files (a few large ones), and prints the
expected counts the benchmark checks every tool against:

  - AssumeRoleWithWebIdentity calls by error code ("" for successes),
  - events made with long-lived (AKIA) keys, by identity ARN,
  - successful calls the policy (written with --policy) does not expect
    (unexpected-subjects) and those outside its business hours (off-hours).

The mix: about 2 % web-identity calls (a tenth of them failing), about 1 %
AKIA-key calls, the rest ordinary management and data events with
assumed-role identities and payloads. `--mix heavy` (the default): 1-2 KB
events (about 1.8 KB on average) with TLS details, additional event data and
resources, in 5-minute files of 500 events and hourly files of 6,000.
`--mix lean`: about 1.1 KB events (no TLS details, additional event data or
resources on ordinary events) in files of 500, so that 2 M events make about
2.2 GB in about 4,000 files. `--rare N` makes web-identity and AKIA calls N
times rarer (the same trail otherwise): a trail whose findings do not grow
with it, to show that memory follows what the reports keep. Deterministic
per seed.
"""

import argparse
import gzip
import json
import os
import random
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from multiprocessing import Pool

ACCOUNTS = ["111122223333", "444455556666"]
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]
ORDINARY = [
    ("GetObject", "s3.amazonaws.com", "Data"), ("PutObject", "s3.amazonaws.com", "Data"),
    ("DescribeInstances", "ec2.amazonaws.com", "Management"), ("Decrypt", "kms.amazonaws.com", "Management"),
    ("GetParameter", "ssm.amazonaws.com", "Management"), ("AssumeRole", "sts.amazonaws.com", "Management"),
    ("ListBuckets", "s3.amazonaws.com", "Management"), ("Invoke", "lambda.amazonaws.com", "Data"),
    ("PutMetricData", "monitoring.amazonaws.com", "Management"), ("GetSecretValue", "secretsmanager.amazonaws.com", "Management"),
]
REPOS = ["acme/api", "acme/web", "acme/infra", "acme/ops", "acme/billing", "contractor/tools"]
UAS = [
    "aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard",
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.227-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7",
    "aws-sdk-java/2.28.16 Linux/5.10.226-214.880.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS Java/17.0.12 vendor/Amazon.com_Inc.",
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0",
]


# The policy the trail is judged by (written with --policy): every acme
# repository may deploy from main, its production environment and pull
# requests; a push from the dev branch is unexpected, and the contractor's
# role has no entry at all. Nightly ops jobs may run at any hour.
POLICY = """# Policy for the benchmark trail made by scripts/gen-trail.py.
[business_hours]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "18:00"
""" + "".join(f"""
[[roles]]
arn = "arn:aws:iam::*:role/gha-{name}"
subjects = ["repo:acme/{name}:ref:refs/heads/main", "repo:acme/{name}:environment:production", "repo:acme/*:pull_request"]
""" + ('off_hours = "allowed"\n' if name == "ops" else "") for name in ["api", "web", "infra", "ops", "billing"]) + """
[iam_user_keys]
allowed_users = []
"""


def unexpected(sub):
    """Whether POLICY flags a successful call (unexpected-subjects)."""
    return sub.startswith("repo:contractor/") or sub.endswith(":ref:refs/heads/dev")


def off_hours(t, role):
    """Whether POLICY flags a successful call (off-hours)."""
    return not role.endswith("role/gha-ops") and (t.weekday() >= 5 or not 8 <= t.hour < 18)


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid(rng):
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


LEAN = False
RARE = 1


def event(rng, t, account, region):
    """One event; returns (record, kind, key) where kind is 'wi', 'akia' or ''."""
    r = rng.random()
    base = {
        "eventVersion": "1.10", "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "awsRegion": region,
        "sourceIPAddress": f"{rng.randint(3, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "requestID": uuid(rng), "eventID": uuid(rng), "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": account, "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                                      "clientProvidedHostHeader": f"service.{region}.amazonaws.com"},
    }
    if r < 0.02 / RARE:
        repo = rng.choice(REPOS)
        ref = rng.choice(["ref:refs/heads/main", "environment:production", "pull_request", "ref:refs/heads/dev"])
        sub = f"repo:{repo}:{ref}"
        role = f"arn:aws:iam::{account}:role/gha-{repo.split('/')[1]}"
        provider = f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        base.update({"eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity", "readOnly": True,
                     "userIdentity": {"type": "WebIdentityUser", "principalId": f"{provider}:sts.amazonaws.com:{sub}",
                                      "userName": sub, "identityProvider": provider},
                     "userAgent": "aws-sdk-nodejs/2.1692.0 linux/v20.18.1 configure-aws-credentials-for-github-actions promise",
                     "requestParameters": {"roleArn": role, "roleSessionName": "GitHubActions", "durationSeconds": 3600},
                     "eventCategory": "Management"})
        if rng.random() < 0.1:
            code = rng.choice(["AccessDenied", "InvalidIdentityToken", "ExpiredTokenException"])
            base.update({"errorCode": code, "errorMessage": "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                         "responseElements": None})
            return base, "wi", code
        base["responseElements"] = {
            "credentials": {"accessKeyId": "ASIA" + hexid(rng, 16).upper(), "sessionToken": "IQoJb3JpZ2luX2Vj" + hexid(rng, 200),
                            "expiration": "Nov 16, 2026, 11:00:00 AM"},
            "subjectFromWebIdentityToken": sub, "audience": "sts.amazonaws.com", "provider": provider,
            "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:GitHubActions",
                                "arn": f"arn:aws:sts::{account}:assumed-role/gha/GitHubActions"}}
        return base, "wi", ""
    name, source, category = rng.choice(ORDINARY)
    base.update({"eventSource": source, "eventName": name, "readOnly": name.startswith(("Get", "Describe", "List")),
                 "eventCategory": category, "userAgent": rng.choice(UAS),
                 "requestParameters": {"bucketName": f"acme-data-{rng.randint(1, 40)}",
                                       "key": f"reports/{hexid(rng, 8)}/{hexid(rng, 24)}.parquet",
                                       "Host": f"acme-data.s3.{region}.amazonaws.com", "x-id": name},
                 "responseElements": None,
                 "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                         "bytesTransferredIn": rng.randint(0, 100000), "AuthenticationMethod": "AuthHeader",
                                         "x-amz-id-2": hexid(rng, 76), "bytesTransferredOut": rng.randint(0, 100000)},
                 "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::acme-data/{hexid(rng, 30)}"},
                               {"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-data"}]})
    if LEAN:
        del base["tlsDetails"], base["additionalEventData"], base["resources"]
    if category == "Data":
        base["managementEvent"] = False
    if r < 0.03 / RARE:
        user = rng.choice(["ci-legacy", "terraform", "backup"])
        arn = f"arn:aws:iam::{account}:user/{user}"
        base["userIdentity"] = {"type": "IAMUser", "principalId": "AIDA" + hexid(rng, 17).upper(), "arn": arn,
                                "accountId": account, "accessKeyId": "AKIA" + hexid(rng, 4).upper() + user.upper()[:12].ljust(12, "X"),
                                "userName": user}
        return base, "akia", arn
    role = rng.choice(["app-server", "lambda-exec", "batch-worker", "gha-api"])
    base["userIdentity"] = {
        "type": "AssumedRole", "principalId": f"AROA{hexid(rng, 17).upper()}:{hexid(rng, 12)}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{hexid(rng, 12)}", "accountId": account,
        "accessKeyId": "ASIA" + hexid(rng, 16).upper(),
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA" + hexid(rng, 17).upper(),
                                             "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account, "userName": role},
                           "attributes": {"creationDate": base["eventTime"], "mfaAuthenticated": "false"}}}
    return base, "", None


def write_file(args):
    out, account, region, start, n, seed, minutes, lean, rare = args
    global LEAN, RARE
    LEAN, RARE = lean, rare
    rng = random.Random(seed)
    records, wi, akia, policy = [], Counter(), Counter(), Counter()
    for i in range(n):
        t = start + timedelta(seconds=int(i * minutes * 60 / max(n, 1)))
        rec, kind, key = event(rng, t, account, region)
        records.append(rec)
        if kind == "wi":
            wi[key] += 1
            if not key:
                sub, role = rec["responseElements"]["subjectFromWebIdentityToken"], rec["requestParameters"]["roleArn"]
                policy["unexpected-subjects"] += unexpected(sub)
                policy["off-hours"] += off_hours(t, role)
        elif kind == "akia":
            akia[key] += 1
    end = start + timedelta(minutes=minutes)
    d = os.path.join(out, "AWSLogs", account, "CloudTrail", region, end.strftime("%Y/%m/%d"))
    os.makedirs(d, exist_ok=True)
    name = f"{account}_CloudTrail_{region}_{end.strftime('%Y%m%dT%H%MZ')}_{hexid(rng, 16)}.json.gz"
    data = json.dumps({"Records": records}, separators=(",", ":")).encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(gzip.compress(data, compresslevel=6, mtime=0))
    return len(data), wi, akia, policy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mix", choices=["heavy", "lean"], default="heavy")
    ap.add_argument("--policy", help="write the policy the expected counts assume to this file")
    ap.add_argument("--rare", type=int, default=1, help="make web-identity and AKIA calls N times rarer")
    ap.add_argument("--days", type=int, default=0,
                    help="spread the files evenly over this many days (default: one file per 5 minutes per account and region)")
    a = ap.parse_args()
    if a.policy:
        with open(a.policy, "w") as f:
            f.write(POLICY)
    lean = a.mix == "lean"
    rng = random.Random(a.seed)
    start = datetime(2026, 11, 16, tzinfo=timezone.utc)
    # About 500 events per 5-minute file, and one hourly file (6,000) per 20 files.
    jobs, left, i = [], a.events, 0
    # Files come in groups of six (two accounts, three regions) per time step.
    groups = -(-a.events // 500) // 6 + 1
    step = max(5, a.days * 1440 // groups) if a.days else 5
    while left > 0:
        hourly = i % 20 == 19 and not lean
        n = min(left, 6000 if hourly else 500)
        account, region = ACCOUNTS[i % 2], REGIONS[(i // 2) % 3]
        t = start + timedelta(minutes=step * (i // 6))
        jobs.append((a.out, account, region, t, n, rng.randrange(1 << 30), 60 if hourly else 5, lean, a.rare))
        left -= n
        i += 1
    total, wi, akia, policy = 0, Counter(), Counter(), Counter()
    with Pool(a.jobs) as pool:
        for size, w, k, p in pool.imap_unordered(write_file, jobs, chunksize=8):
            total += size
            wi.update(w)
            akia.update(k)
            policy.update(p)
    json.dump({"events": a.events, "files": len(jobs), "uncompressed_bytes": total,
               "web_identity_by_error": dict(sorted(wi.items())), "akia_by_identity": dict(sorted(akia.items())),
               "policy_findings": {r: policy[r] for r in ("unexpected-subjects", "off-hours")}},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
