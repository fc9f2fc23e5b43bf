#!/usr/bin/env python3
"""What choosing prescale's setting per trace could reach at best: the hindsight bound.

    python3 benches/choice-bound.py [--cut 0.36] RUN_DIR RUN_DIR ...      (stdlib only)

Each RUN_DIR is the `--out` of one `simulate-nab.sh` or `simulate-beyond.sh` run (one setting): it
holds `<trace>.json`, the `simulate --format json` replay of each trace. For every trace found in
all of them, the script picks one run's prescale row per trace, knowing how each did, and prints
the frontier of those mixes: for each mix that no other beats on both sums, the under-provisioned
minutes and instance-hours summed over the traces, as ratios to reactive's. It then names the
cheapest mix that cuts reactive's under-provisioned minutes by at least `--cut` (issue 7's 36 %)
and how many traces take each run.

A planner that chose its setting on each series' own history (a replay of the nights before) could
only do as well as this if its history always foretold the trace's best setting; so a cost above
issue 7's 1.05 here means no per-series choice among these settings reaches it.
"""
import glob
import json
import os
import sys


def main():
    args = sys.argv[1:]
    cut = 0.36
    if args[:1] == ["--cut"]:
        cut, args = float(args[1]), args[2:]
    if len(args) < 1:
        sys.exit(__doc__)
    runs = {}
    for d in args:
        name = os.path.basename(os.path.normpath(d))
        rows = {}
        for f in glob.glob(os.path.join(d, "*.json")):
            p = {x["policy"]: x for x in json.load(open(f))["policies"]}
            rows[os.path.basename(f)[:-5]] = p
        if not rows:
            sys.exit(f"{d}: no replay JSON (<trace>.json) in it; give the --out of a simulate-nab.sh run")
        runs[name] = rows
    traces = sorted(set.intersection(*(set(r) for r in runs.values())))
    if not traces:
        sys.exit("the runs share no trace")
    first = next(iter(runs.values()))
    for name, rows in runs.items():
        for t in traces:
            a, b = first[t]["reactive"], rows[t]["reactive"]
            if (a["instance_hours"], a["under_provisioned_minutes"]) != (b["instance_hours"], b["under_provisioned_minutes"]):
                sys.exit(f"{name}: reactive differs from the first run's on {t} (another trace cut, capacity or "
                         "metric period): only runs that differ in prescale's settings alone can be mixed")
    react_h = sum(first[t]["reactive"]["instance_hours"] for t in traces)
    react_u = sum(first[t]["reactive"]["under_provisioned_minutes"] for t in traces)
    oracle_h = sum(first[t]["oracle"]["instance_hours"] for t in traces)
    print(f"{len(traces)} traces, {len(runs)} settings; reactive {react_u:,} under-provisioned minutes, "
          f"{react_h:,.0f} instance-hours")
    for name, rows in runs.items():
        h = sum(rows[t]["prescale"]["instance_hours"] for t in traces)
        u = sum(rows[t]["prescale"]["under_provisioned_minutes"] for t in traces)
        print(f"  {name:24} under-prov {u / react_u - 1:+.1%}  inst-h {h / react_h:.3f}")
    # The exact frontier: (minutes, hours, choices) mixes none of which another beats on both sums.
    front = [(0, 0.0, ())]
    for t in traces:
        options = [(rows[t]["prescale"]["under_provisioned_minutes"], rows[t]["prescale"]["instance_hours"], name)
                   for name, rows in runs.items()]
        merged = sorted((u + ou, h + oh, ch + (name,)) for u, h, ch in front for ou, oh, name in options)
        front = []
        for m in merged:
            if not front or m[1] < front[-1][1] - 1e-9:
                front.append(m)
    print("frontier of per-trace choices (under-provisioned minutes vs reactive, instance-hours vs reactive):")
    step = max(1, len(front) // 15)
    for u, h, _ in front[::step]:
        print(f"  {u / react_u - 1:+.1%}  {h / react_h:.3f}")
    ok = [m for m in front if m[0] <= (1 - cut) * react_u]
    if not ok:
        print(f"no mix cuts {cut:.0%}")
        return
    u, h, ch = min(ok, key=lambda m: m[1])
    counts = {name: ch.count(name) for name in runs if ch.count(name)}
    print(f"cheapest mix cutting at least {cut:.0%}: {u / react_u - 1:+.1%} under-provisioned minutes at "
          f"{h / react_h:.3f} of reactive's instance-hours ({h / oracle_h:.3f} of the oracle's); "
          + ", ".join(f"{n} on {c}" for n, c in counts.items()))


if __name__ == "__main__":
    main()
