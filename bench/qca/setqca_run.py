#!/usr/bin/env python3
"""Runs setqca (the Python peer) on a CSV: truth table, then the
parsimonious solution (remainders as don't-cares), the same work as
`saanjh qca --include ?`. Prints the models as JSON in saanjh's notation.

usage: setqca_run.py FILE OUTCOME INCL PRI
"""
import importlib
import json
import sys

import pandas as pd
import setqca

setqca_minimize = importlib.import_module("setqca.minimize")


def expr(pattern, names):
    lits = []
    for v, name in zip(pattern, names):
        if v is None:
            continue
        lits.append(name if v == 1 else f"~{name}")
    return "*".join(lits) if lits else "1"


def main():
    path, outcome, incl, pri = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    df = pd.read_csv(path)
    df = df.rename(columns={df.columns[0]: "case"})
    conds = [c for c in df.columns if c not in ("case", outcome)]
    tt = setqca.build_truth_table(
        df, outcome=outcome, conditions=conds, inclusion_cutoff=incl, pri_cutoff=pri, case_id="case"
    )
    sols = setqca_minimize.minimize(
        set(tt.positive_minterms), dont_cares=set(tt.remainder_minterms), width=len(conds)
    )
    models = sorted(sorted(expr(i.pattern, conds) for i in s.implicants) for s in sols)
    print(json.dumps({"parsimonious": models}))


if __name__ == "__main__":
    main()
