#!/usr/bin/env python3
"""Which side of prescale's intervals the actuals miss on, from a shared-scorer run.

    bash ../shared/eval/score-nab.sh --prescale target/release/prescale --resolutions hourly,native --work W
    python3 benches/sides.py W [W2 ...]

Reads W/tasks/actuals.csv and W/forecasts/prescale/*.csv (the scorer's work folder) and prints,
per resolution, the share of scored actuals above the 80 % and 95 % intervals' tops (`up80`,
`up95`) and below their bottoms (`dn80`, `dn95`); each should be about (1 - level) / 2. Coverage
alone (the scorer's cov80, cov95) counts both sides together. Standard library only.
"""

import collections
import csv
import os
import sys


def sides(work):
    actual = collections.defaultdict(dict)
    with open(os.path.join(work, "tasks", "actuals.csv"), newline="") as f:
        for row in csv.DictReader(f):
            try:
                actual[row["task_id"]][row["ts"]] = float(row["y"])
            except ValueError:
                pass  # a missing actual is not scored
    folder = os.path.join(work, "forecasts", "prescale")
    out = {}
    for resolution in ("hourly", "native"):
        count = collections.Counter()
        for name in sorted(os.listdir(folder)):
            task = name[: -len(".csv")]
            if f"__{resolution}__" not in task:
                continue
            with open(os.path.join(folder, name), newline="") as f:
                for row in csv.DictReader(f):
                    y = actual[task].get(row["ts"])
                    if y is None or y != y:
                        continue
                    count["n"] += 1
                    for level in ("80", "95"):
                        count["up" + level] += y > float(row["hi" + level])
                        count["dn" + level] += y < float(row["lo" + level])
        if count["n"]:
            out[resolution] = {k: count[k] / count["n"] for k in ("up80", "dn80", "up95", "dn95")}
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for work in sys.argv[1:]:
        for resolution, shares in sides(work).items():
            print(work, resolution, " ".join(f"{k}={v:.3f}" for k, v in shares.items()))
