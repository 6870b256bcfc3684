#!/usr/bin/env python3
"""Side-by-side benchmark: `saanjh qca` against setqca on the same inputs.

For each (conditions, cases) pair: generate the data with gen.py, run both
tools on it (read the CSV, build the truth table with inclusion cut-off 0.8
and PRI cut-off 0.5, find every minimal parsimonious model), record wall time
and peak memory (RSS) of each process, check that the models are identical,
and print the ratio of times. setqca gets a time limit; a run past it is
shown as ">limit".

usage: compare.py [--saanjh PATH] [--limit SECONDS] [--grid K:N,K:N,...] [--no-setqca]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GRID = "4:5000,6:5000,8:5000,10:5000,12:5000,14:5000,8:20000,8:50000,8:100000,14:50000,14:100000"


def measured(cmd, limit):
    """Wall time (s), peak RSS (MiB) and stdout of one process, or None past `limit` s."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = [], []
    readers = [
        threading.Thread(target=lambda: out.append(p.stdout.read())),
        threading.Thread(target=lambda: err.append(p.stderr.read())),
    ]
    for r in readers:
        r.start()
    timer = threading.Timer(limit, p.kill)
    timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    timer.cancel()
    for r in readers:
        r.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    if dt >= limit and p.returncode != 0:
        return None
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {''.join(err).strip()}")
    return dt, usage.ru_maxrss / 1024, "".join(out), usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--saanjh", default=os.path.join(HERE, "../../target/release/saanjh"))
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--grid", default=DEFAULT_GRID)
    ap.add_argument("--no-setqca", action="store_true")
    ap.add_argument("--data-dir", default="/tmp/saanjh-qca-bench")
    a = ap.parse_args()
    os.makedirs(a.data_dir, exist_ok=True)
    grid = [tuple(int(v) for v in kn.split(":")) for kn in a.grid.split(",")]
    print("wall = elapsed seconds, cpu = user+sys seconds of the process (robust on a loaded machine); "
          "load = 1-minute load average when the row finished")
    print(f"cores: {os.cpu_count()}, load at start: {os.getloadavg()[0]:.1f}")
    print(f"{'k':>3} {'cases':>7} | {'saanjh wall':>11} {'cpu':>7} {'MiB':>5} | {'setqca wall':>11} {'cpu':>7} {'MiB':>5} | "
          f"{'ratio wall':>10} {'cpu':>7} | same models")
    for k, n in grid:
        path = os.path.join(a.data_dir, f"k{k}_n{n}.csv")
        if not os.path.exists(path):
            with open(path, "w") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(k), str(n)], stdout=f, check=True)
        ours = measured(
            [a.saanjh, "qca", path, "--outcome", "Y", "--incl-cut", "0.8", "--pri-cut", "0.5",
             "--include", "?", "--format", "json"],
            a.limit,
        )
        if ours is None:
            print(f"{k:>3} {n:>7} | saanjh exceeded {a.limit} s")
            continue
        t_ours, rss_ours, out, cpu_ours = ours
        j = json.loads(out)
        mine = {
            "parsimonious": sorted(sorted(t["expression"] for t in m["terms"]) for m in j["parsimonious"]["models"])
        }
        note = "" if j.get("exact", True) else "  (chart search budget reached: models not proven minimal)"
        if j.get("truncated"):
            note += "  (more minimal models than the 1,000 returned)"
        note = f"  {len(j['solutions'])} model(s), {j['parsimonious']['prime_implicants']} PIs" + note
        if a.no_setqca:
            print(f"{k:>3} {n:>7} | {t_ours:>11.3f} {cpu_ours:>7.3f} {rss_ours:>5.0f} | {os.getloadavg()[0]:>4.1f} |{note}",
                  flush=True)
            continue
        theirs = measured(
            [sys.executable, os.path.join(HERE, "setqca_run.py"), path, "Y", "0.8", "0.5"], a.limit
        )
        if theirs is None:
            print(f"{k:>3} {n:>7} | {t_ours:>11.3f} {cpu_ours:>7.3f} {rss_ours:>5.0f} | {'>' + str(int(a.limit)):>11} "
                  f"{'':>7} {'':>5} | {'>' + format(a.limit / t_ours, '.0f'):>10} {'':>7} | {os.getloadavg()[0]:>4.1f} | "
                  f"(setqca timed out){note}", flush=True)
            continue
        t_theirs, rss_theirs, out2, cpu_theirs = theirs
        ref = json.loads(out2)
        same = "yes" if all(mine[kd] == ref[kd] for kd in mine) else f"NO: saanjh {mine} setqca {ref}"
        print(f"{k:>3} {n:>7} | {t_ours:>11.3f} {cpu_ours:>7.3f} {rss_ours:>5.0f} | {t_theirs:>11.3f} {cpu_theirs:>7.3f} "
              f"{rss_theirs:>5.0f} | {t_theirs / t_ours:>10.1f} {cpu_theirs / max(cpu_ours, 1e-3):>7.1f} | "
              f"{os.getloadavg()[0]:>4.1f} | {same}{note}", flush=True)


if __name__ == "__main__":
    main()
