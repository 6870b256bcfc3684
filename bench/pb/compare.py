#!/usr/bin/env python3
"""Side by side with pabutools: the same rule on the same pabulib instance, timed, and the
outcomes compared.

What is timed: the rule alone, after parsing, in both tools (`saanjh pb --time` reports
`count_ms`, which also includes building the profile and the satisfaction measures;
pabutools is timed around the rule call). Each side runs up to three times (while its total
stays under 5 s) and keeps its fastest run; ratio = pabutools time / saanjh time.
Because the machine may be shared, CPU times are printed too: pabutools' process CPU time
for the rule call against the whole saanjh process's CPU time (start-up, reading and
parsing the file included, so that ratio understates saanjh's advantage).

Outcomes are compared twice: with pabutools' default tie-breaking (project id as a
string) and, when that differs, again with pabutools given saanjh's published priority
order (lowest cost, most votes, drawn order), to tell tie-breaking from a real difference.

Usage:
  pip install pabutools==1.2.3
  cargo build --release -p saanjh
  python3 bench/pb/compare.py [--saanjh target/release/saanjh] [--large] [--only NAME]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

from pabutools.election import parse_pabulib, Cost_Sat, Cardinality_Sat
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
    max_additive_utilitarian_welfare,
)
from pabutools.tiebreaking import TieBreakingRule, lexico_tie_breaking

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "pabulib"))

SMALL = [
    "Netherlands_Assen_2024.pb",
    "Poland_Swiecie_2023.pb",
    "Poland_Wieliczka_2023_Green_Budget.pb",
    "Poland_Warszawa_2017_Goclaw.pb",
    "Poland_Warszawa_2017_Kamionek.pb",
    "Switzerland_Zurich_SN.pb",
    "Poland_Lodz_2022_Stare_Polesie.pb",
]
LARGE = ["Poland_Lodz_2022.pb", "Hungary_Budapest_2024.pb"]

# name: (saanjh arguments, pabutools call)
RULES = {
    "greedy": (["--rule", "greedy"],
               lambda i, p, tb: greedy_utilitarian_welfare(i, p, sat_class=Cost_Sat, tie_breaking=tb)),
    "greedy-cost": (["--rule", "greedy-cost"],
                    lambda i, p, tb: greedy_utilitarian_welfare(i, p, sat_class=Cardinality_Sat, tie_breaking=tb)),
    "mes-cost": (["--rule", "mes", "--utility", "cost"],
                 lambda i, p, tb: method_of_equal_shares(i, p, sat_class=Cost_Sat, tie_breaking=tb)),
    "mes-approval": (["--rule", "mes", "--utility", "approval"],
                     lambda i, p, tb: method_of_equal_shares(i, p, sat_class=Cardinality_Sat, tie_breaking=tb)),
    "mes-cost-add1": (["--rule", "mes", "--utility", "cost", "--completion", "add1"],
                      lambda i, p, tb: method_of_equal_shares(i, p, sat_class=Cost_Sat, tie_breaking=tb,
                                                              voter_budget_increment=1)),
    # saanjh's Add1e is pabutools' voter_budget_increment: this pair should always agree.
    "mes-cost-add1e": (["--rule", "mes", "--utility", "cost", "--completion", "add1e"],
                       lambda i, p, tb: method_of_equal_shares(i, p, sat_class=Cost_Sat, tie_breaking=tb,
                                                               voter_budget_increment=1)),
    "phragmen": (["--rule", "phragmen"],
                 lambda i, p, tb: sequential_phragmen(i, p, tie_breaking=tb)),
    "max-welfare": (["--rule", "max-welfare", "--utility", "cost"],
                    lambda i, p, tb: max_additive_utilitarian_welfare(i, p, sat_class=Cost_Sat)),
}
LARGE_RULES = ["greedy", "mes-cost"]


def run_saanjh(binary, path, args):
    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([binary, "pb", path, "--format", "json", "--time"] + args,
                       capture_output=True, text=True, check=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = (time.perf_counter() - t0) * 1e3
    # CPU of the whole process (start-up and parsing included): robust on a loaded machine.
    cpu = (c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) * 1e3
    count_ms = None
    for line in r.stderr.splitlines():
        if line.startswith("parse_ms"):
            count_ms = float(line.split()[3])
    out = json.loads(r.stdout)
    return out, count_ms, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saanjh", default=os.path.join(HERE, "..", "..", "target", "release", "saanjh"))
    ap.add_argument("--large", action="store_true", help="also Łódź 2022 and Budapest 2024 (minutes)")
    ap.add_argument("--only", help="substring of instance names to run")
    ap.add_argument("--rules", help="comma-separated rule names")
    a = ap.parse_args()
    files = SMALL + (LARGE if a.large else [])
    if a.only:
        files = [f for f in files if a.only in f]
    print("| instance | rule | saanjh ms | pabutools ms | ratio | saanjh CPU ms (whole process) | pabutools CPU ms (rule) | CPU ratio | same outcome (pabutools ties) | same outcome (saanjh tie order) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for f in files:
        path = os.path.join(DATA, f)
        inst, prof = parse_pabulib(path)
        rules = LARGE_RULES if f in LARGE else list(RULES)
        if a.rules:
            rules = [r for r in rules if r in a.rules.split(",")]
        for name in rules:
            sargs, pcall = RULES[name]
            # The machine is shared: each side is run up to 3 times (while its total stays
            # under 5 s) and its fastest run is kept.
            times, cpus = [], []
            while len(times) < 3 and sum(times) < 5000:
                out, count_ms, cpu = run_saanjh(a.saanjh, path, sargs)
                times.append(count_ms)
                cpus.append(cpu)
            count_ms, s_cpu = min(times), min(cpus)
            ours = sorted(out["winners"])
            p_times, p_cpus = [], []
            try:
                while len(p_times) < 3 and sum(p_times) < 5000:
                    t0, c0 = time.perf_counter(), time.process_time()
                    res = pcall(inst, prof, lexico_tie_breaking)
                    p_times.append((time.perf_counter() - t0) * 1e3)
                    p_cpus.append((time.process_time() - c0) * 1e3)
            except Exception as e:  # report, do not hide
                print(f"| {f} | {name} | {count_ms:.1f} | error: {type(e).__name__}: {e} | | | | | | |")
                continue
            p_ms, p_cpu = min(p_times), min(p_cpus)
            theirs = sorted(p.name for p in res)
            same = ours == theirs
            same2 = ""
            if not same and name != "max-welfare":
                prio = {pid: k for k, pid in enumerate(out["tie_break"]["priority"])}
                tb = TieBreakingRule(lambda i, pr, proj: prio[proj.name])
                res2 = pcall(inst, prof, tb)
                theirs2 = sorted(p.name for p in res2)
                same2 = "yes" if theirs2 == ours else (
                    f"no: saanjh only {sorted(set(ours) - set(theirs2))}, pabutools only {sorted(set(theirs2) - set(ours))}")
            diff = "yes" if same else (
                f"no: saanjh only {sorted(set(ours) - set(theirs))}, pabutools only {sorted(set(theirs) - set(ours))}")
            print(f"| {f.removesuffix('.pb')} | {name} | {count_ms:.1f} | {p_ms:.0f} | {p_ms / count_ms:.0f}× "
                  f"| {s_cpu:.0f} | {p_cpu:.0f} | {p_cpu / max(s_cpu, 1):.0f}× | {diff} | {same2} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
