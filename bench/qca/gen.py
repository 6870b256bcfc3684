#!/usr/bin/env python3
"""Synthetic fuzzy-set data with a planted answer, for benchmarking `saanjh qca`.

Each case draws a crisp configuration uniformly at random, then fuzzy
memberships on the right side of the crossover (0.55-1 for "in", 0-0.45
for "out"). The outcome is the planted expression C1*C2 + C3*~C4 evaluated
on those memberships (min for AND, max for OR, 1-x for NOT), plus Gaussian
noise (sd 0.08), clipped to [0, 1]. Deterministic for a given seed.

usage: gen.py K N [SEED] > file.csv
"""
import random
import sys


def main():
    k = int(sys.argv[1])
    n = int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if k < 4:
        sys.exit("need at least 4 conditions for the planted answer C1*C2 + C3*~C4")
    rng = random.Random(seed * 1_000_003 + k * 1009 + n)
    names = [f"C{j + 1}" for j in range(k)]
    out = sys.stdout
    out.write("," + ",".join(names) + ",Y\n")
    for i in range(n):
        x = []
        for _ in range(k):
            if rng.random() < 0.5:
                x.append(round(rng.uniform(0.55, 1.0), 3))
            else:
                x.append(round(rng.uniform(0.0, 0.45), 3))
        planted = max(min(x[0], x[1]), min(x[2], 1.0 - x[3]))
        y = min(1.0, max(0.0, planted + rng.gauss(0.0, 0.08)))
        out.write(f"c{i + 1}," + ",".join(f"{v:g}" for v in x) + f",{round(y, 3):g}\n")


if __name__ == "__main__":
    main()
