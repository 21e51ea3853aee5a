#!/usr/bin/env python3
"""Query time on a store kept up by small ingests, before and after `ctaudit compact`.

    python3 scripts/compact-bench.py [--events 300000] [--days 90] [--per-day 1] [--runs 3]
                                     [--dir /tmp/ctaudit-compact] [--binary target/release/ctaudit]

Generates a trail spread over --days days (scripts/gen-trail.py --days), then
ingests it as a scheduled job would: --per-day ingests a day, each reading
the files delivered since the last one (a daily run at 06:00 UTC reads from
06:00 the day before, so each ingest touches two day partitions). Then times
the same queries (best of --runs, whole process) on that store and on a copy
compacted with `ctaudit compact`, checks that every answer is the same, and
prints the part files and the times side by side.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

QUERIES = [
    ("count", ["query", "SELECT count(*) AS n FROM events"]),
    ("repo-activity", ["query", "repo-activity", "--param", "repo=acme/api"]),
    ("calls-per-session", ["query", "calls-per-session"]),
    ("assumptions-per-repo-per-day", ["query", "assumptions-per-repo-per-day"]),
    ("trace --repo", ["trace", "--repo", "acme/api"]),
    ("report", ["report", "--format", "json"]),
]


def run(binary, args, store):
    cmd = [binary] + args[:1] + ["--store", store] + args[1:] + (["--format", "csv"] if args[0] != "report" else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t
    if p.returncode > 1:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    out = p.stdout
    if args[0] == "report":
        # The input section counts part files read; the findings must agree.
        out = re.sub(r'"input": \{.*?\n  \},\n', "", out, flags=re.S)
    return dt, out


def parts(store):
    return len(glob.glob(os.path.join(store, "events", "*", "*.parquet")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=1, help="ingests a day (1: daily at 06:00; 24: hourly)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/ctaudit-compact")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "ctaudit"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    trail = os.path.join(a.dir, f"trail-{a.events}-{a.days}d")
    if not os.path.isdir(trail):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-trail.py"), trail, "--events", str(a.events),
                        "--mix", "lean", "--days", str(a.days)], check=True, stdout=subprocess.DEVNULL)
    files = []
    for path in glob.glob(os.path.join(trail, "**", "*.json.gz"), recursive=True):
        stamp = re.search(r"_(\d{8}T\d{4})Z_", os.path.basename(path)).group(1)
        files.append((datetime.strptime(stamp, "%Y%m%dT%H%M").replace(tzinfo=timezone.utc), path))
    files.sort()
    store = os.path.join(a.dir, f"store-{a.events}-{a.days}d-{a.per_day}")
    shutil.rmtree(store, ignore_errors=True)
    step = timedelta(days=1) / a.per_day
    t = files[0][0].replace(hour=6, minute=0) - (timedelta(days=1) if files[0][0].hour < 6 else timedelta(0))
    ingests, started = 0, time.perf_counter()
    while t <= files[-1][0]:
        batch = [p for (ft, p) in files if t <= ft < t + step]
        t += step
        if not batch:
            continue
        subprocess.run([a.binary, "ingest", "--store", store, "--logs"] + batch, check=True, capture_output=True)
        ingests += 1
    ingest_s = time.perf_counter() - started
    compacted = store + "-compacted"
    shutil.rmtree(compacted, ignore_errors=True)
    shutil.copytree(store, compacted)
    t0 = time.perf_counter()
    out = subprocess.run([a.binary, "compact", "--store", compacted], check=True, capture_output=True, text=True)
    compact_s = time.perf_counter() - t0
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}; {os.cpu_count()} cores; {a.events:,} events over {a.days} days; "
          f"{ingests} ingests ({a.per_day} a day) in {ingest_s:.1f} s")
    print(f"compact: {compact_s:.2f} s: {out.stdout.strip()}")
    print(f"part files (events): {parts(store)} before, {parts(compacted)} after\n")
    print(f"| query | before s | after s | speed-up |\n|---|---:|---:|---:|")
    for name, args in QUERIES:
        best = {}
        answers = {}
        for label, s in (("before", store), ("after", compacted)):
            times = []
            for _ in range(a.runs):
                dt, answer = run(a.binary, args, s)
                times.append(dt)
            best[label] = min(times)
            answers[label] = answer
        if answers["before"] != answers["after"]:
            sys.exit(f"{name}: the answers differ before and after compaction")
        print(f"| {name} | {best['before']:.2f} | {best['after']:.2f} | {best['before'] / best['after']:.1f}x |")
    print("\nevery answer the same before and after")


if __name__ == "__main__":
    main()
