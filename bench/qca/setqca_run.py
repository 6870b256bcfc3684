#!/usr/bin/env python3
"""Runs setqca (the Python reference peer) on a CSV and prints its
conservative and parsimonious solutions as JSON, in saanjh's notation.

usage: setqca_run.py FILE OUTCOME INCL PRI
"""
import json
import sys

import pandas as pd
import setqca


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
    res = setqca.FSQCA(consistency=incl, pri=pri).fit(df, outcome=outcome, conditions=conds, case_id="case")

    def models(sols):
        return sorted(sorted(expr(i.pattern, conds) for i in s.boolean.implicants) for s in sols)

    print(json.dumps({"conservative": models(res.conservative), "parsimonious": models(res.parsimonious)}))


if __name__ == "__main__":
    main()
