#!/usr/bin/env python3
"""Sums `prescale simulate --format json` replays over a set of traces and checks issue 7's targets.

    python3 benches/replay-summary.py OUT_DIR TRACE.csv ...

OUT_DIR holds `<trace name>.json` for each trace (the name is the file's without `.csv`); prints a
per-trace table, the sums over the traces (under-provisioned minutes and instance-hours summed) and
how many traces meet each target. Used by `simulate-nab.sh` and `simulate-beyond.sh`; stdlib only.
"""
import json, math, os, sys
out, traces = sys.argv[1], sys.argv[2:]
rows = []
for t in traces:
    name = os.path.basename(t)[:-4]
    d = json.load(open(os.path.join(out, name + ".json")))
    p = {x["policy"]: x for x in d["policies"]}
    rows.append((name, p))
def r(a, b):
    return a / b if b else (1.0 if a == 0 else math.inf)
print(f"{'series':42} {'under-prov min':>20} {'inst-h vs':>26} {'reversals':>12}  aws-style beaten")
print(f"{'':42} {'reactive':>9} {'prescale':>10} {'reactive':>8} {'static':>8} {'oracle':>8} {'ratio':>12}  cost under-prov")
tot = {}
ok = dict(under=0, cost=0, static=0, rev=0, oracle=0, aws=0)
for name, p in rows:
    rc, ps, st, orc, aw = (p[k] for k in ("reactive", "prescale", "static", "oracle", "aws-style"))
    u_r, u_p = rc["under_provisioned_minutes"], ps["under_provisioned_minutes"]
    ih = lambda x: x["instance_hours"]
    cost_r, cost_s, cost_o = r(ih(ps), ih(rc)), r(ih(ps), ih(st)), r(ih(ps), ih(orc))
    rev = r(ps["reversals_within_hour"], rc["reversals_within_hour"])
    aws_cost = ih(ps) <= ih(aw)
    aws_under = u_p <= aw["under_provisioned_minutes"]
    under_ok = u_p <= 0.64 * u_r if u_r > 0 else u_p == 0
    ok["under"] += under_ok and cost_r <= 1.05
    ok["cost"] += cost_r <= 1.05
    ok["static"] += cost_s <= 0.80
    ok["rev"] += rev <= 0.5
    ok["oracle"] += cost_o <= 1.15
    ok["aws"] += aws_cost and aws_under
    for k, v in (("u_r", u_r), ("u_p", u_p), ("ih_p", ih(ps)), ("ih_r", ih(rc)), ("ih_s", ih(st)), ("ih_o", ih(orc)),
                 ("ih_a", ih(aw)), ("u_a", aw["under_provisioned_minutes"]), ("rv_p", ps["reversals_within_hour"]),
                 ("rv_r", rc["reversals_within_hour"])):
        tot[k] = tot.get(k, 0) + v
    print(f"{name:42} {u_r:>9} {u_p:>10} {cost_r:>8.3f} {cost_s:>8.3f} {cost_o:>8.3f} {rev:>12.3f}  "
          f"{'yes' if aws_cost else 'no':>4} {'yes' if aws_under else 'no':>10}")
n = len(rows)
print()
print(f"all {n} traces, summed: under-provisioned minutes reactive {tot['u_r']:,} prescale {tot['u_p']:,} "
      f"({r(tot['u_p'], tot['u_r']) - 1:+.1%}; target ≤ -36%), aws-style {tot['u_a']:,}")
print(f"  instance-hours prescale/reactive {r(tot['ih_p'], tot['ih_r']):.3f} (target ≤ 1.05), "
      f"/static {r(tot['ih_p'], tot['ih_s']):.3f} (≤ 0.80), /oracle {r(tot['ih_p'], tot['ih_o']):.3f} (≤ 1.15), "
      f"/aws-style {r(tot['ih_p'], tot['ih_a']):.3f} (< 1)")
print(f"  reversals within an hour prescale/reactive {r(tot['rv_p'], tot['rv_r']):.3f} (≤ 0.5)")
print(f"series meeting each target (of {n}): under-prov -36% at ≤ +5% cost {ok['under']}, cost ≤ +5% {ok['cost']}, "
      f"≤ 0.8 static {ok['static']}, reversals ≤ ½ {ok['rev']}, ≤ 1.15 oracle {ok['oracle']}, beats aws-style {ok['aws']}")
