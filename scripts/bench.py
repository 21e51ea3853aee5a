#!/usr/bin/env python3
"""Whole-process benchmark: ctaudit against the tools users would pick instead.

    python3 scripts/bench.py [--events 2000000] [--runs 3] [--dir /tmp/ctaudit-bench]

Generates a realistic trail with scripts/gen-trail.py (once per size), builds
ctaudit in release mode, then times on the same files, page cache warm:

  - ctaudit report, all four reports (with the generator's policy), JSON out;
  - the floor: libdeflate-gunzip and zcat, each as one process and as two in
    parallel, and reading the uncompressed bytes (cat);
  - DuckDB (PyPI) computing the same counts with read_json;
  - a jq pipeline computing the same counts.

The counts are web-identity calls by error code and AKIA-key events by
identity; every tool's counts must agree with the generator's, and
ctaudit's unexpected-subjects and off-hours findings with the generator's
count of the calls its policy flags. Prints wall
time (best of --runs), events/s, MB/s of uncompressed JSON, peak RSS and
ctaudit's speed ratio to each tool. Installs what it needs when missing
(libdeflate-tools and jq from Debian, duckdb from PyPI).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def ensure_tools():
    missing = [p for p, exe in (("libdeflate-tools", "libdeflate-gunzip"), ("jq", "jq")) if not shutil.which(exe)]
    if missing:
        sh("apt-get update -qq && apt-get install -y -qq " + " ".join(missing), stdout=subprocess.DEVNULL)
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sh(f"{sys.executable} -m pip install -q duckdb")


def timed(cmd, files):
    """Runs `cmd` (shell) after warming the page cache; returns (seconds, peak RSS MB, stdout)."""
    for f in files:  # The VM pages out idle memory: read the inputs right before each run.
        with open(f, "rb") as fh:
            while fh.read(1 << 22):
                pass
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-c", cmd], capture_output=True, text=True)
    wall = time.monotonic() - start
    if p.returncode not in (0, 1):
        sys.exit(f"failed ({p.returncode}): {cmd}\n{p.stderr[-2000:]}")
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    return wall, rss_kb / 1024, p.stdout


def best(cmd, files, runs):
    results = [timed(cmd, files) for _ in range(runs)]
    wall = min(r[0] for r in results)
    rss = max(r[1] for r in results)
    return wall, rss, results[-1][2]


def ctaudit_counts(out_json):
    v = json.load(open(out_json))
    wi = Counter(f["error_code"] or "" for f in v["findings"] if f["report"] == "failures")
    akia = Counter(f["identity"] for f in v["findings"] if f["report"] == "iam-user-keys")
    return v, wi, akia


DUCKDB = r"""
import duckdb, json, sys
files = sys.argv[1]
con = duckdb.connect()
con.execute("SET threads TO 2")
# One scan for both counts, reading only the fields they need.
rows = con.execute(f'''
  WITH ev AS (
    SELECT unnest(Records) AS e FROM read_json('{files}', format='unstructured', maximum_object_size=67108864,
      columns={{'Records': 'STRUCT(eventName VARCHAR, errorCode VARCHAR,
                                  userIdentity STRUCT(arn VARCHAR, accessKeyId VARCHAR))[]'}}))
  SELECT CASE WHEN e.eventName = 'AssumeRoleWithWebIdentity' THEN 'wi' ELSE 'akia' END AS kind,
         CASE WHEN e.eventName = 'AssumeRoleWithWebIdentity' THEN coalesce(e.errorCode, '') ELSE e.userIdentity.arn END AS k,
         count(*)
  FROM ev
  WHERE e.eventName = 'AssumeRoleWithWebIdentity' OR starts_with(e.userIdentity.accessKeyId, 'AKIA')
  GROUP BY 1, 2''').fetchall()
print(json.dumps({"wi": {k: n for kind, k, n in rows if kind == "wi"},
                  "akia": {k: n for kind, k, n in rows if kind == "akia"}}))
"""

# The fastest DuckDB form measured for issue #15: automatic schema, the
# four fields into a temporary table, then the two counts.
DUCKDB_AUTO_LABEL = "DuckDB read_json, automatic schema (2 threads)"
DUCKDB_AUTO = r"""
import duckdb, json, sys
files = sys.argv[1]
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET preserve_insertion_order = false")
con.execute(f'''CREATE TEMP TABLE ev AS
  SELECT r.eventName AS event_name, r.errorCode AS error_code,
         r.userIdentity.arn AS arn, r.userIdentity.accessKeyId AS access_key
  FROM (SELECT unnest(Records) AS r FROM read_json('{files}'))''')
wi = con.execute('''SELECT coalesce(error_code, ''), count(*) FROM ev
  WHERE event_name = 'AssumeRoleWithWebIdentity' GROUP BY 1''').fetchall()
akia = con.execute('''SELECT arn, count(*) FROM ev
  WHERE starts_with(access_key, 'AKIA') GROUP BY 1''').fetchall()
print(json.dumps({"wi": dict(wi), "akia": dict(akia)}))
"""

JQ = r""".Records[] | if .eventName == "AssumeRoleWithWebIdentity" then "wi\t\(.errorCode // "")"
  elif ((.userIdentity.accessKeyId // "") | startswith("AKIA")) then "akia\t\(.userIdentity.arn)" else empty end
"""


def parse_tab_counts(text):
    wi, akia = Counter(), Counter()
    for line in text.splitlines():
        n, rest = line.strip().split(" ", 1)
        kind, _, key = rest.partition("\t")
        (wi if kind == "wi" else akia)[key] += int(n)
    return wi, akia


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/ctaudit-bench")
    ap.add_argument("--skip", default="", help="comma-separated tools to skip (jq,duckdb,zcat,ingest)")
    ap.add_argument("--binary", help="an existing ctaudit binary to time instead of building one")
    ap.add_argument("--mix", choices=["heavy", "lean"], default="heavy",
                    help="event sizes: heavy (about 1.8 KB) or lean (about 1.1 KB, the issue's mix)")
    ap.add_argument("--rare", type=int, default=1,
                    help="make web-identity and AKIA calls N times rarer (findings that do not grow with the trail)")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    os.makedirs(a.dir, exist_ok=True)
    ensure_tools()

    tag = f"{a.events}" if a.mix == "heavy" else f"{a.events}-{a.mix}"
    if a.rare != 1:
        tag += f"-rare{a.rare}"
    trail = os.path.join(a.dir, f"trail-{tag}")
    expected_path = trail + ".expected.json"
    policy = trail + ".policy.toml"
    if not (os.path.exists(expected_path) and os.path.exists(policy)
            and "policy_findings" in json.load(open(expected_path))):
        print(f"generating {a.events} events under {trail} ...", file=sys.stderr)
        shutil.rmtree(trail, ignore_errors=True)
        with open(expected_path + ".tmp", "w") as out:
            sh(f"{sys.executable} {ROOT}/scripts/gen-trail.py {trail} --events {a.events} --mix {a.mix} "
               f"--rare {a.rare} --policy {policy}", stdout=out)
        os.rename(expected_path + ".tmp", expected_path)
    expected = json.load(open(expected_path))
    files = sorted(glob.glob(os.path.join(trail, "**", "*.json.gz"), recursive=True))
    listing = os.path.join(a.dir, f"files-{tag}.txt")
    with open(listing, "w") as f:
        f.write("\n".join(files) + "\n")
    mb = expected["uncompressed_bytes"] / 1e6
    exp_wi = Counter(expected["web_identity_by_error"])
    exp_akia = Counter(expected["akia_by_identity"])

    if a.binary:
        ctaudit = os.path.abspath(a.binary)
    else:
        print("building ctaudit (release) ...", file=sys.stderr)
        sh(f"cargo build --release --quiet --manifest-path {ROOT}/Cargo.toml")
        ctaudit = os.path.join(ROOT, "target", "release", "ctaudit")

    plain = os.path.join(a.dir, f"plain-{tag}")
    if not os.path.isdir(plain):
        os.makedirs(plain + ".tmp", exist_ok=True)
        sh(f"xargs -a {listing} -P2 -n 100 sh -c 'for f; do libdeflate-gunzip -c \"$f\" > {plain}.tmp/$(basename \"$f\" .gz); done' _")
        os.rename(plain + ".tmp", plain)
    plain_files = sorted(glob.glob(os.path.join(plain, "*.json")))

    rows = []  # (tool, wall, rss, counts agree)
    out_json = os.path.join(a.dir, "ctaudit-report.json")
    # The four reports the benchmark has always timed (the newer ones read
    # more of the trail: networks, shared roles; `--report all` runs them).
    four = " ".join(f"--report {r}" for r in ("failures", "unexpected-subjects", "off-hours", "iam-user-keys"))
    wall, rss, _ = best(f"{ctaudit} report --logs {trail} --policy {policy} {four} --format json --output {out_json} -q",
                        files, a.runs)
    v, wi, akia = ctaudit_counts(out_json)
    by_report = Counter(f["report"] for f in v["findings"])
    # `failures` holds only failed calls; the successes are the rest of the web-identity calls kept.
    ok = (wi == Counter({k: n for k, n in exp_wi.items() if k}) and akia == exp_akia and not v["not_run"]
          and all(by_report[r] == n for r, n in expected["policy_findings"].items()))
    rows.append(("ctaudit report (4 reports)", wall, rss, ok))

    if "ingest" not in skip:
        store = os.path.join(a.dir, f"store-{tag}")
        w, r, out = best(f"rm -rf {store} && {ctaudit} ingest --logs {trail} --store {store}", files, a.runs)
        rows.append(("ctaudit ingest (into the store)", w, r, f"{a.events} events added" in out))
        for label, query in [
            ("ctaudit query: count by event name", "SELECT event_name, COUNT(*) AS n FROM events GROUP BY event_name"),
            ("ctaudit query: calls-per-session", "calls-per-session"),
        ]:
            w, r, _ = best(f"{ctaudit} query --store {store} '{query}' --queries-dir {ROOT}/queries --format csv > /dev/null", [], a.runs)
            rows.append((label, w, r, None))

    for name, cmd in [
        ("libdeflate-gunzip, 1 process", f"xargs -a {listing} -n 500 libdeflate-gunzip -c > /dev/null"),
        ("libdeflate-gunzip, 2 processes", f"xargs -a {listing} -P2 -n 100 libdeflate-gunzip -c > /dev/null"),
        ("zcat, 1 process", f"xargs -a {listing} -n 500 zcat > /dev/null"),
        ("zcat, 2 processes", f"xargs -a {listing} -P2 -n 100 zcat > /dev/null"),
        ("cat uncompressed", f"cat {plain}/*.json > /dev/null"),
    ]:
        if "zcat" in name and "zcat" in skip:
            continue
        w, r, _ = best(cmd, plain_files if name.startswith("cat") else files, a.runs)
        rows.append((name, w, r, None))

    if "duckdb" not in skip:
        for label, name, source in [
            ("DuckDB read_json (2 threads)", "duckdb_counts.py", DUCKDB),
            (DUCKDB_AUTO_LABEL, "duckdb_auto_counts.py", DUCKDB_AUTO),
        ]:
            script = os.path.join(a.dir, name)
            with open(script, "w") as f:
                f.write(source)
            w, r, out = best(f"{sys.executable} {script} '{trail}/**/*.json.gz'", files, a.runs)
            d = json.loads(out)
            rows.append((label, w, r, Counter(d["wi"]) == exp_wi and Counter(d["akia"]) == exp_akia))

    if "jq" not in skip:
        program = os.path.join(a.dir, "counts.jq")
        with open(program, "w") as f:
            f.write(JQ)
        for procs in (1, 2):
            # Each batch counts its own lines (parallel jq output would interleave
            # mid-line in a shared pipe); the small per-batch counts are summed.
            cmd = (f"xargs -a {listing} -P{procs} -n 50 sh -c "
                   f"'libdeflate-gunzip -c \"$@\" | jq -r -f {program} | sort | uniq -c' _")
            w, r, out = best(cmd, files, 1)
            jwi, jakia = parse_tab_counts(out)
            rows.append((f"jq, {procs} process{'es' if procs > 1 else ''}", w, r, jwi == exp_wi and jakia == exp_akia))

    ct = rows[0][1]
    print(f"\n{a.events:,} events, {len(files)} files, {mb:,.0f} MB uncompressed JSON; best of {a.runs} runs")
    print(f"ctaudit {commit()}; {machine()}\n")
    print("ctaudit's findings: " + ", ".join(f"{r} {n:,}" for r, n in sorted(by_report.items())) + "\n")
    print(f"| tool | wall s | events/s | MB/s | peak RSS MB | ctaudit is | counts agree |")
    print(f"|---|---:|---:|---:|---:|---:|---|")
    for name, w, r, agree in rows:
        ratio = "" if name.startswith("ctaudit") else (f"{w / ct:.1f}x faster" if w >= ct else f"{ct / w:.1f}x slower")
        agree_s = "" if agree is None else ("yes" if agree else "NO")
        print(f"| {name} | {w:.2f} | {a.events / w:,.0f} | {mb / w:,.0f} | {r:,.0f} | {ratio} | {agree_s} |")
    targets(rows, ct, ctaudit)
    if not all(r[3] in (None, True) for r in rows):
        sys.exit("some tool's counts disagree with the generator's")


def commit():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" with changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "(commit unknown)"


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
        return f"{model}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        return f"{model}, {os.cpu_count()} cores"


def targets(rows, report, ctaudit):
    """Issue #15's targets, each with the measured figure and whether it is met
    (`report`: the wall time of ctaudit's report)."""
    by = {name: (w, r) for name, w, r, _ in rows}
    lines = []
    if "libdeflate-gunzip, 2 processes" in by:
        floor = by["libdeflate-gunzip, 2 processes"][0]
        lines.append(("report at most 2x the two-process libdeflate floor", f"{report / floor:.1f}x", report <= 2 * floor))
    auto = by.get(DUCKDB_AUTO_LABEL)
    if auto:
        lines.append(("report at least 6x faster than DuckDB (automatic schema)", f"{auto[0] / report:.1f}x", auto[0] >= 6 * report))
    ingest = by.get("ctaudit ingest (into the store)")
    if ingest:
        lines.append(("ingest at most 2x report", f"{ingest[0] / report:.1f}x", ingest[0] <= 2 * report))
        lines.append(("ingest peak RSS under 300 MB", f"{ingest[1]:.0f} MB", ingest[1] < 300))
    size = os.path.getsize(ctaudit) / 1e6
    lines.append(("binary under 120 MB", f"{size:.0f} MB", size < 120))
    print("\n| target | measured | met |\n|---|---:|---|")
    for name, got, met in lines:
        print(f"| {name} | {got} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
