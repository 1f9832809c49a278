#!/usr/bin/env python3
"""Single-schema scaling: one `public` of N tables in one foreign-key chain
(each table references the one before it, with an index on the key), the
shape that used to make ordering quadratic.

For each N it times, in the same run on the same cluster:
  - `psql -f` of the desired SQL into an empty database (the baseline: what
    PostgreSQL itself needs to take the statements),
  - `kschema plan` from that empty database (load, introspect, diff, order,
    render every CREATE),
  - `pg_dump --schema-only` of the converged database, and `kschema plan`
    against it (nothing to change: everything compared).

    python3 benches/single_schema.py --tables 1000,3000,10000 --runs 3

Needs PostgreSQL's server programs and a release build (built if missing).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet import KSCHEMA, run, settle, start_cluster, stop_cluster, timed  # noqa: E402


def chain_sql(n):
    lines = ["CREATE TABLE t00000 (id int PRIMARY KEY, name text NOT NULL DEFAULT '');"]
    for i in range(1, n):
        lines.append(
            f"CREATE TABLE t{i:05d} (id int PRIMARY KEY, parent int NOT NULL REFERENCES t{i - 1:05d} (id), "
            f"name text NOT NULL DEFAULT '', created_at timestamptz NOT NULL DEFAULT now());\n"
            f"CREATE INDEX t{i:05d}_parent ON t{i:05d} (parent);"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", default="1000,3000", help="comma-separated schema sizes")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(n) for n in args.tables.split(",")]

    bin_dir, work, sock = start_cluster()
    psql = [f"{bin_dir}/psql", "-X", "-q", "-h", sock, "-U", "postgres"]
    try:
        rows = []
        for n in sizes:
            project = os.path.join(work, f"project_{n}")
            os.makedirs(os.path.join(project, "schema", "public"))
            os.makedirs(os.path.join(project, "schema", "tenant"))
            open(os.path.join(project, "tenants.toml"), "w").close()
            sql_path = os.path.join(project, "schema", "public", "chain.sql")
            with open(sql_path, "w") as f:
                f.write(chain_sql(n))
            empty, full = f"empty_{n}", f"full_{n}"
            run(psql + ["-d", "postgres", "-c", f"CREATE DATABASE {empty}", "-c", f"CREATE DATABASE {full}"])
            conn = {name: f"host={sock} user=postgres dbname={name}" for name in (empty, full)}
            load, plan_cold, plan_new, dump, plan_same = [], [], [], [], []
            cache = os.path.join(project, ".kschema", "cache")
            for i in range(args.runs):
                run(psql + ["-d", "postgres", "-c", f"DROP DATABASE {full}", "-c", f"CREATE DATABASE {full}"])
                settle(bin_dir, sock)
                wall, _ = timed([f"{bin_dir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_path, "-d", conn[full]])
                load.append(wall)
                settle(bin_dir, sock)
                # Cold: PostgreSQL builds the desired state in a scratch
                # database first; then cached, as every re-plan is.
                shutil.rmtree(cache, ignore_errors=True)
                wall, _ = timed([KSCHEMA, "--project", project, "--database-url", conn[empty], "plan"], ok=(2,))
                plan_cold.append(wall)
                wall, _ = timed([KSCHEMA, "--project", project, "--database-url", conn[empty], "plan"], ok=(2,))
                plan_new.append(wall)
                wall, _ = timed([f"{bin_dir}/pg_dump", "--schema-only", "-d", conn[full]])
                dump.append(wall)
                wall, _ = timed([KSCHEMA, "--project", project, "--database-url", conn[full], "plan"], ok=(0,))
                plan_same.append(wall)
            l, pc, pn, d, ps = (statistics.median(x) for x in (load, plan_cold, plan_new, dump, plan_same))
            rows.append((n, l, pc, pn, d, ps))
            print(f"N={n}: psql -f {l:.3f}s, plan from empty {pc:.3f}s cold ({pc / l:.2f}x), {pn:.3f}s cached ({pn / l:.2f}x); "
                  f"pg_dump {d:.3f}s, plan converged {ps:.3f}s ({ps / d:.2f}x)", file=sys.stderr)
        print("| tables | psql -f (create) | kschema plan, empty database, cold | cold / psql | the same, cached | cached / psql | pg_dump --schema-only | kschema plan, converged (cached) | plan / pg_dump |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n, l, pc, pn, d, ps in rows:
            print(f"| {n:,} | {l:.3f} s | {pc:.3f} s | {pc / l:.2f}x | {pn:.3f} s | {pn / l:.2f}x | {d:.3f} s | {ps:.3f} s | {ps / d:.2f}x |")
    finally:
        stop_cluster(bin_dir, work)

if __name__ == "__main__":
    main()
