#!/usr/bin/env python3
"""A city-wide round through the platform: import a pabulib file with `saanjh pb import`
(the same service function as the API's POST /rounds/import: check, build the round's
events, count with the round's rule, append the whole round in one transaction) into
SQLite and into PostgreSQL, export it again with `saanjh pb export`, verify the round's hash
chain, and compare the platform's count with `saanjh pb` on the file.

Each step is its own `saanjh` process, timed from outside: wall time and the process's CPU
(user + system, from the kernel's accounting of the child). With PostgreSQL the server's
own CPU is not in that figure; it is reported beside it as the growth of every postgres
process's CPU in /proc over the step (which includes whatever else the server did
meanwhile, so on a shared machine it is an upper bound).

Usage:
  cargo build --release -p saanjh
  python3 bench/pb/platform.py --saanjh target/release/saanjh \
      [--file ../shared/data/pabulib/Poland_Lodz_2022.pb] [--rule mes-add1] \
      [--postgres postgres://postgres@127.0.0.1:5432/saanjh_pbbench]
The PostgreSQL database is dropped and created afresh (through psql) before the run.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "pabulib"))


def run(cmd, stdout_path=None):
    """Run a command; return (wall s, cpu s, stdout text, stderr text)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    if stdout_path:
        with open(stdout_path, "w") as out:
            p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        text = ""
    else:
        p = subprocess.run(cmd, capture_output=True, text=True)
        text = p.stdout
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return wall, cpu, text, p.stderr


def postgres_cpu():
    """CPU seconds (user + system) of every process named postgres that we can read."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if not name.startswith("postgres"):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def fresh_postgres(url):
    m = re.match(r"postgres(?:ql)?://([^@/]+)@([^:/]+):(\d+)/(\w+)$", url)
    if not m:
        sys.exit(f"--postgres {url}: expected postgres://USER@HOST:PORT/DB")
    user, host, port, db = m.groups()
    for sql in (f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}"):
        subprocess.run(["psql", "-h", host, "-p", port, "-U", user, "-c", sql, "postgres"],
                       check=True, capture_output=True)


def winners_of_count(saanjh, path, rule):
    args = {"mes-add1": ["--rule", "mes", "--utility", "cost", "--completion", "add1"],
            "greedy": ["--rule", "greedy"]}[rule]
    wall, cpu, out, err = run([saanjh, "pb", path, *args, "--format", "json", "--time"])
    count_ms = float(re.search(r"count_ms ([\d.]+)", err).group(1))
    return json.loads(out)["winners"], wall, cpu, count_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saanjh", default="target/release/saanjh")
    ap.add_argument("--file", default=os.path.join(DATA, "Poland_Lodz_2022.pb"))
    ap.add_argument("--rule", default="mes-add1", choices=["mes-add1", "greedy"])
    ap.add_argument("--postgres", default=None)
    a = ap.parse_args()
    if not os.path.exists(a.file):
        sys.exit(f"SKIP: {a.file} is absent")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    # The file's project ids in file order. The platform keeps numeric ids (positive, distinct)
    # as the proposals' numbers, and otherwise numbers the projects 1, 2, 3… in file order.
    ids = []
    with open(a.file, encoding="utf-8") as f:
        section = None
        header = False
        for line in f:
            t = line.strip()
            if t in ("META", "PROJECTS", "VOTES"):
                section, header = t, False
                continue
            if not header:
                header = True
                continue
            if section == "PROJECTS" and t:
                ids.append(t.split(";")[0])
    numeric = all(i.isdigit() and int(i) > 0 for i in ids) and len({int(i) for i in ids}) == len(ids)
    if numeric:
        ids = [str(int(i)) for i in ids]
    file_winners, wall, cpu, count_ms = winners_of_count(a.saanjh, a.file, a.rule)
    print(f"saanjh pb on the file ({a.rule}): count_ms {count_ms:.0f}, process wall {wall:.2f} s, "
          f"cpu {cpu:.2f} s, {len(file_winners)} winners")

    rows = []
    tmp = tempfile.mkdtemp(prefix="saanjh-pb-platform-")
    backends = [("sqlite", f"sqlite://{tmp}/bench.db")]
    if a.postgres:
        fresh_postgres(a.postgres)
        backends.append(("postgres", a.postgres))
    for name, url in backends:
        pg0 = postgres_cpu() if name == "postgres" else 0.0
        wall, cpu, out, err = run([a.saanjh, "pb", "import", a.file, "--rule", a.rule,
                                   "--db", url, "--time"])
        pg_import = postgres_cpu() - pg0 if name == "postgres" else None
        round_id = re.search(r"imported round (\S+):", out).group(1)
        winners = [int(w) for w in re.search(r"winners \(proposal numbers\): (.*)", out)
                   .group(1).split(", ") if w]
        as_ids = sorted(str(n) if numeric else ids[n - 1] for n in winners)
        same = as_ids == sorted(str(int(w)) if numeric else w for w in file_winners)
        rows.append((name, "import (check, build, count, append)", wall, cpu, pg_import))
        print(f"{name}: import {wall:.2f} s wall, {cpu:.2f} s cpu"
              + (f", postgres server cpu {pg_import:.2f} s" if pg_import is not None else "")
              + f"; {len(winners)} winners, same as `saanjh pb` on the file: {same}")
        exported = os.path.join(tmp, f"{name}.pb")
        pg0 = postgres_cpu() if name == "postgres" else 0.0
        wall, cpu, _, _ = run([a.saanjh, "pb", "export", "--round", round_id, "--db", url],
                              stdout_path=exported)
        pg_export = postgres_cpu() - pg0 if name == "postgres" else None
        rows.append((name, "export", wall, cpu, pg_export))
        again, _, _, _ = winners_of_count(a.saanjh, exported, a.rule)
        print(f"{name}: export {wall:.2f} s wall, {cpu:.2f} s cpu; the exported file counts to "
              f"the same winners: {sorted(int(w) for w in again) == sorted(winners)}")
        pg0 = postgres_cpu() if name == "postgres" else 0.0
        wall, cpu, out, _ = run([a.saanjh, "verify", "--initiative", round_id, "--db", url])
        pg_verify = postgres_cpu() - pg0 if name == "postgres" else None
        rows.append((name, "verify the round's chain", wall, cpu, pg_verify))
        print(f"{name}: verify {wall:.2f} s wall, {cpu:.2f} s cpu: {out.strip()}")
    print()
    print("| database | step | wall s | saanjh CPU s | PostgreSQL server CPU s |")
    print("|---|---|---:|---:|---:|")
    for name, step, wall, cpu, pg in rows:
        print(f"| {name} | {step} | {wall:.2f} | {cpu:.2f} | {'' if pg is None else f'{pg:.2f}'} |")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
