#!/usr/bin/env python3
"""Fleet benchmark: `kschema plan --tenant all` against `pg_dump --schema-only`
of the same database, timed in the same run (ratios mean more than seconds on
a shared machine).

For each N it builds a database with `public` + N tenant schemas of the
shipped desired state (`kschema apply --tenant all`, after which `kschema
plan --tenant all` must find nothing to change), drifts 1 % of the tenants
in realistic ways (a missing index, an extra
column, a changed default, a dropped NOT NULL), then times each command
--runs times and reports the median wall time and kschema's peak RSS.

    python3 benches/fleet.py --tenants 100,1000 --runs 3
    python3 benches/fleet.py --tenants 1000 --project examples/saas
    python3 benches/fleet.py --tenants 1000,10000 --runs 1 --apply --index

Needs PostgreSQL's server programs (initdb, pg_ctl, psql, pg_dump) and a
release build (`cargo build --release`, done here if missing).
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KSCHEMA = os.path.join(ROOT, "target", "release", "kschema")


def pg_bin():
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            break
    else:
        return os.path.dirname(os.path.realpath(shutil.which("pg_ctl")))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not versions:
        sys.exit("PostgreSQL server programs not found (apt-get install postgresql)")
    return versions[-1]


def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None, ok=(0,)):
    """Wall seconds and peak RSS (KiB) of one run of cmd."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{cmd[0]} exited {code}: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss


def project_with(tenants, directory, source):
    shutil.copytree(os.path.join(source, "schema"), os.path.join(directory, "schema"))
    shutil.copy(os.path.join(source, "kschema.toml"), os.path.join(directory, "kschema.toml"))
    with open(os.path.join(directory, "tenants.toml"), "w") as f:
        for i in range(tenants):
            f.write(f'[[tenant]]\nid = "t{i:05d}"\n\n')


DRIFTS = [
    "DROP INDEX {s}.idx_users_org_id",
    "ALTER TABLE {s}.users ADD COLUMN nickname text",
    "ALTER TABLE {s}.projects ALTER COLUMN status SET DEFAULT 'DRAFT'",
    "ALTER TABLE {s}.notifications ALTER COLUMN title DROP NOT NULL",
]


def settle(bin_dir, sock):
    """A checkpoint and a sync: no write-back left over from building or
    copying the fleet lands inside a timed run."""
    run([f"{bin_dir}/psql", "-X", "-q", "-h", sock, "-U", "postgres", "-d", "postgres", "-c", "CHECKPOINT"])
    os.sync()


class BuildSampler:
    """The most index builds seen running at once on a database, sampled
    every 20 ms by one psql session (`\\watch`) while a command runs."""

    def __init__(self, bin_dir, conn):
        query = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND state = 'active' AND query ILIKE 'CREATE%INDEX%' \\watch 0.02\n")
        self.proc = subprocess.Popen([f"{bin_dir}/psql", "-X", "-At", "-d", conn], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.proc.stdin.write(query)
        self.proc.stdin.flush()
        self.peak = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line.isdigit():
                self.peak = max(self.peak, int(line))

    def stop(self):
        self.proc.kill()
        self.reader.join(timeout=5)
        return self.peak


def time_apply(bin_dir, sock, db, project, n, runs, index_only=False):
    """A new column and index in every tenant (or the index alone): the
    statements kschema plans, run by `psql -f` on one copy of the fleet, and
    `kschema apply` (default limits) on another (copies made with CREATE
    DATABASE … TEMPLATE), `runs` times each, alternating; medians, and the
    most index builds seen at once on the server."""
    users = os.path.join(project, "schema", "tenant", "users.sql")
    with open(users) as f:
        text = f.read()
    with open(users, "w") as f:
        if not index_only:
            text = text.replace("job_title VARCHAR(100),", "job_title VARCHAR(100),\n    timezone TEXT,")
        f.write(text + "\nCREATE INDEX idx_users_last_name ON users (last_name);\n")
    script = subprocess.run([KSCHEMA, "--project", project, "--database-url", f"host={sock} user=postgres dbname={db}",
                             "plan", "--tenant", "all", "--format", "sql"],
                            capture_output=True, text=True).stdout
    path = os.path.join(os.path.dirname(project), f"apply_{n}.sql")
    with open(path, "w") as f:
        f.write(script)
    timings = {"psql": [], "kschema": []}
    peaks = {"psql": 0, "kschema": 0}
    for _ in range(runs):
        copies = {}
        for name in timings:
            copy = f"{db}_{name}"
            run([f"{bin_dir}/psql", "-X", "-q", "-h", sock, "-U", "postgres", "-d", "postgres",
                 "-c", f"DROP DATABASE IF EXISTS {copy}", "-c", f"CREATE DATABASE {copy} TEMPLATE {db}"])
            copies[name] = f"host={sock} user=postgres dbname={copy}"
        commands = {
            "psql": [f"{bin_dir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path, "-d", copies["psql"]],
            # The drifted tenants' drops need the allow; the benchmark is
            # about the shared change, so both sides run the same full plan.
            "kschema": [KSCHEMA, "--project", project, "--database-url", copies["kschema"], "apply",
                        "--yes", "--tenant", "all", "--allow-destructive"],
        }
        # Alternating who goes first, each after the copies' writes have
        # settled: the copy just made floods the disk cache with dirty pages,
        # and whoever ran while the kernel wrote them back would pay for it.
        order = ["psql", "kschema"] if len(timings["psql"]) % 2 == 0 else ["kschema", "psql"]
        for name in order:
            settle(bin_dir, sock)
            sampler = BuildSampler(bin_dir, copies[name])
            wall, _ = timed(commands[name])
            peaks[name] = max(peaks[name], sampler.stop())
            timings[name].append(wall)
    psql_s, apply_s = statistics.median(timings["psql"]), statistics.median(timings["kschema"])
    print(f"N={n}: psql -f {psql_s:.3f}s, kschema apply {apply_s:.3f}s ({apply_s / psql_s:.2f}x), "
          f"peak index builds at once: psql {peaks['psql']}, kschema {peaks['kschema']}", file=sys.stderr)
    return psql_s, apply_s, peaks["kschema"]


def start_cluster():
    """A release build (made if missing) and a throwaway cluster on a unix
    socket in a new folder: (PostgreSQL's bin folder, the folder, the socket
    folder)."""
    if not os.path.exists(KSCHEMA):
        run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    bin_dir = pg_bin()
    work = tempfile.mkdtemp(prefix="kschema-bench-", dir="/tmp")
    os.chmod(work, 0o755)
    data, sock = os.path.join(work, "data"), work
    if os.geteuid() == 0:
        run(["chown", "-R", "postgres:", work])
    run(as_postgres([f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"]),
        stdout=subprocess.DEVNULL)
    run(as_postgres([f"{bin_dir}/pg_ctl", "-D", data, "-l", f"{work}/log", "-w",
                     "-o", f"-k {sock} -c listen_addresses='' -c fsync=off -c max_locks_per_transaction=1024", "start"]),
        stdout=subprocess.DEVNULL)
    # The role examples/saas grants to (roles are the cluster's).
    run([f"{bin_dir}/psql", "-X", "-q", "-h", sock, "-U", "postgres", "-d", "postgres", "-c", "CREATE ROLE app"])
    return bin_dir, work, sock


def stop_cluster(bin_dir, work):
    subprocess.run(as_postgres([f"{bin_dir}/pg_ctl", "-D", os.path.join(work, "data"), "-m", "immediate", "stop"]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", default="100,1000", help="comma-separated fleet sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", default=ROOT,
                        help="the project whose schema/ the fleet gets (default: the shipped one; "
                             "examples/saas adds an extension, enums, triggers, a view and comments)")
    parser.add_argument("--apply", action="store_true",
                        help="also time apply (a new column and index in every tenant) against psql -f of the same statements")
    parser.add_argument("--index", action="store_true",
                        help="with --apply: the change is one new index in every tenant, nothing else")
    args = parser.parse_args()
    sizes = [int(n) for n in args.tenants.split(",")]

    bin_dir, work, sock = start_cluster()
    try:
        rows = []
        for n in sizes:
            db = f"fleet_{n}"
            conn = f"host={sock} user=postgres dbname={db}"
            run([f"{bin_dir}/psql", "-X", "-q", "-h", sock, "-U", "postgres", "-d", "postgres", "-c", f"CREATE DATABASE {db}"])
            project = os.path.join(work, f"project_{n}")
            project_with(n, project, os.path.abspath(args.project))
            # The fleet is built by kschema itself, then planned again: that
            # plan must be empty (convergence at fleet scale), or nothing
            # below means anything.
            applied_by_kschema = subprocess.run(
                [KSCHEMA, "--project", project, "--database-url", conn, "apply", "--tenant", "all", "--yes"],
                capture_output=True, text=True)
            if applied_by_kschema.returncode != 0:
                sys.exit(f"apply failed: {applied_by_kschema.stderr}")
            replan = subprocess.run([KSCHEMA, "--project", project, "--database-url", conn, "plan", "--tenant", "all"],
                                    capture_output=True, text=True)
            if replan.returncode != 0:
                sys.exit(f"the applied fleet does not plan empty (exit {replan.returncode}):\n{replan.stdout[-2000:]}")
            print(f"N={n}: applied by kschema apply --tenant all, re-planned empty: "
                  f"{replan.stdout.strip().splitlines()[-1]}", file=sys.stderr)
            drifted = max(1, n // 100)
            step = n // drifted
            drift_sql = ";\n".join(DRIFTS[i % len(DRIFTS)].format(s=f"org_t{i * step:05d}") for i in range(drifted))
            run([f"{bin_dir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conn, "-c", drift_sql])
            run([f"{bin_dir}/psql", "-X", "-q", "-d", conn, "-c", "VACUUM ANALYZE"], stdout=subprocess.DEVNULL)
            settle(bin_dir, sock)

            dump, plan, rss = [], [], []
            for _ in range(args.runs):
                wall, _ = timed([f"{bin_dir}/pg_dump", "--schema-only", "-d", conn])
                dump.append(wall)
                wall, peak = timed([KSCHEMA, "--project", project, "--database-url", conn, "plan", "--tenant", "all"], ok=(2,))
                plan.append(wall)
                rss.append(peak)
            d, p = statistics.median(dump), statistics.median(plan)
            applied = None
            if args.apply:
                applied = time_apply(bin_dir, sock, db, project, n, args.runs, args.index)
            rows.append((n, drifted, d, p, p / d, max(rss) / 1024, applied))
            print(f"N={n}: pg_dump {d:.3f}s, kschema plan {p:.3f}s ({p / d:.2f}x), peak RSS {max(rss) / 1024:.0f} MiB",
                  file=sys.stderr)
        print("| tenants | drifted | pg_dump --schema-only | kschema plan --tenant all | plan / pg_dump | plan peak RSS |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for n, drifted, d, p, ratio, mib, _ in rows:
            print(f"| {n:,} | {drifted} | {d:.3f} s | {p:.3f} s | {ratio:.2f}x | {mib:.0f} MiB |")
        if args.apply:
            print()
            print("| tenants | psql -f (same statements) | kschema apply --tenant all | apply / psql | most index builds at once |")
            print("| ---: | ---: | ---: | ---: | ---: |")
            for n, *_, (psql_s, apply_s, peak) in rows:
                print(f"| {n:,} | {psql_s:.3f} s | {apply_s:.3f} s | {apply_s / psql_s:.2f}x | {peak} |")
    finally:
        stop_cluster(bin_dir, work)


if __name__ == "__main__":
    main()
