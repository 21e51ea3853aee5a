#!/usr/bin/env python3
"""Runs the SQL ctaudit sends to Athena, in DuckDB, over a trail loaded as
Athena's CloudTrail table would read it.

    python3 tests/athena/duckdb_check.py DDL_FILE SQL_FILE TRAIL_DIR > result.json

DDL_FILE is `ctaudit athena table --print`'s output: its column list (Hive
types) becomes the DuckDB table's, so the check uses exactly ctaudit's
schema. Each CloudTrail record under TRAIL_DIR is read as the Hive JSON
SerDe reads it: keys matched case-insensitively, STRING columns holding
objects or arrays get the JSON text, booleans and numbers in STRING
columns their text, missing fields NULL; the partitions are the trail's
folders (`AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`). The SQL
is transpiled from Trino (Athena's engine) to DuckDB with sqlglot.

Prints {"columns": [...], "rows": [[text or null, ...], ...]}, every value
as text the way Athena's GetQueryResults gives it.
"""

import gzip
import json
import os
import re
import sys

import duckdb
import sqlglot


def split_top(text, sep=","):
    """Splits at `sep` outside <...>."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def parse_type(t):
    """A Hive type as a tree: ("string",), ("struct", [(name, type)]), ("array", type), ("map", k, v)."""
    t = t.strip()
    upper = t.upper()
    if upper.startswith("STRUCT<"):
        fields = []
        for part in split_top(t[7:-1]):
            name, ty = part.split(":", 1)
            fields.append((name.strip().lower(), parse_type(ty)))
        return ("struct", fields)
    if upper.startswith("ARRAY<"):
        return ("array", parse_type(t[6:-1]))
    if upper.startswith("MAP<"):
        k, v = split_top(t[4:-1])
        return ("map", parse_type(k), parse_type(v))
    return ("string",)


def duck_type(tree):
    kind = tree[0]
    if kind == "struct":
        return "STRUCT(" + ", ".join(f'"{n}" {duck_type(t)}' for n, t in tree[1]) + ")"
    if kind == "array":
        return duck_type(tree[1]) + "[]"
    if kind == "map":
        return f"MAP({duck_type(tree[1])}, {duck_type(tree[2])})"
    return "VARCHAR"


def serde(tree, v):
    """A JSON value as the Hive JSON SerDe reads it into `tree`."""
    if v is None:
        return None
    kind = tree[0]
    if kind == "string":
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return json.dumps(v)
        return json.dumps(v, separators=(",", ":"))
    if kind == "struct":
        if not isinstance(v, dict):
            return None
        lower = {k.lower(): x for k, x in v.items()}
        return {n: serde(t, lower.get(n)) for n, t in tree[1]}
    if kind == "array":
        return [serde(tree[1], x) for x in v] if isinstance(v, list) else None
    if kind == "map":
        return {str(k): serde(tree[2], x) for k, x in v.items()} if isinstance(v, dict) else None
    return None


def columns_of(ddl):
    body = ddl[ddl.index("(") + 1: ddl.index("\n)\nPARTITIONED BY")]
    cols = []
    for line in body.splitlines():
        line = line.strip().rstrip(",")
        if line:
            name, ty = line.split(" ", 1)
            cols.append((name, parse_type(ty)))
    return cols


def records(trail):
    for root, _, files in os.walk(trail):
        m = re.search(r"AWSLogs/(?:o-[^/]+/)?(\d{12})/CloudTrail/([^/]+)/(\d{4})/(\d{2})/(\d{2})", root)
        if not m or "CloudTrail-Digest" in root:
            continue
        account, region, y, mo, d = m.groups()
        for f in sorted(files):
            path = os.path.join(root, f)
            opener = gzip.open if f.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
            for rec in doc.get("Records", []):
                yield rec, (account, region, f"{y}/{mo}/{d}")


def main():
    ddl_file, sql_file, trail = sys.argv[1:4]
    ddl = open(ddl_file).read()
    sql = open(sql_file).read()
    table = re.search(r'CREATE EXTERNAL TABLE IF NOT EXISTS `([^`]+)`\.`([^`]+)`', ddl).groups()
    cols = columns_of(ddl)
    rows_path = os.path.join(os.path.dirname(os.path.abspath(sql_file)), "table.ndjson")
    with open(rows_path, "w") as out:
        for rec, (account, region, day) in records(trail):
            lower = {k.lower(): v for k, v in rec.items()}
            row = {name: serde(tree, lower.get(name)) for name, tree in cols}
            row.update(account=account, region=region, day=day)
            out.write(json.dumps(row) + "\n")
    types = {name: duck_type(tree) for name, tree in cols}
    types.update(account="VARCHAR", region="VARCHAR", day="VARCHAR")
    con = duckdb.connect()
    con.execute(f'CREATE SCHEMA "{table[0]}"')
    spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
    con.execute(
        f'CREATE TABLE "{table[0]}"."{table[1]}" AS '
        f"SELECT * FROM read_json('{rows_path}', format='newline_delimited', columns={spec})"
    )
    duck_sql = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
    cur = con.execute(duck_sql)
    names = [d[0] for d in cur.description]
    result = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]
    json.dump({"columns": names, "rows": result, "duckdb_sql": duck_sql}, sys.stdout)


if __name__ == "__main__":
    main()
