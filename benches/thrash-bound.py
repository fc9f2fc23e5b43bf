#!/usr/bin/env python3
"""How much capacity halving the reversals costs on a trace, before any policy's lag.

    python3 benches/thrash-bound.py [TRACE.csv ...]    (stdlib only; with no argument the NAB traces of
                                                         benches/nab-traces.txt, from PRESCALE_SHARED_DATA)

Each trace is sized as `prescale simulate` sizes it by default: one instance serves a tenth of the
trace's 95th percentile at the target, so the need of a minute is ceil(load / that), at least 1, and
a slot's load is held for its minutes. Capacity paths that follow the need with no boot time and no
alarm delay are then compared with the need held for 15 minutes after it falls (the scale-in window
of target tracking, the reference, 1.000):

  hold W      the need held W minutes after it falls (scale in only after W quiet minutes: causal);
  band D      scale out to the need at once, scale in to the last 15 minutes' need only when it is at
              least D below the capacity (a dead band: causal);
  fill W      the need with every dip shorter than W minutes filled (perfect foresight: a dip is
              only skipped if one knows the load comes back).

Reversals are counted as the simulator counts them: two successive changes of opposite direction
less than 60 minutes apart. Instance-hours and reversals are summed over the traces.
"""
import csv
import glob
import math
import os
import sys
from collections import deque


def load(path):
    rows = list(csv.DictReader(open(path, newline="")))
    key = "value" if "value" in rows[0] else list(rows[0])[1]
    vals = []
    for r in rows:
        try:
            v = float(r[key])
        except ValueError:
            v = float("nan")
        vals.append(max(v, 0.0) if math.isfinite(v) else (vals[-1] if vals else 0.0))
    return vals


def needs(vals, minutes_per_slot=5):
    s = sorted(vals)
    p95 = s[min(len(s) - 1, max(0, math.ceil(0.95 * len(s)) - 1))]
    per = p95 / 10 if p95 > 0 else 1.0
    out = []
    for v in vals:
        out.extend([max(1, math.ceil(v / per - 1e-9))] * minutes_per_slot)
    return out


def trailing_max(xs, w):
    """max of xs[t-w+1 ..= t] for every t."""
    out, q = [], deque()
    for t, x in enumerate(xs):
        while q and q[0][0] <= t - w:
            q.popleft()
        while q and q[-1][1] <= x:
            q.pop()
        q.append((t, x))
        out.append(q[0][1])
    return out


def fill(xs, w):
    """xs with every dip narrower than w filled: a morphological closing (max then min over w)."""
    n = len(xs)
    padded = [xs[0]] * (w - 1) + xs + [xs[-1]] * (w - 1)
    dil = trailing_max(padded, w)[w - 1 :]  # max over [i, i+w-1] of padded, i = 0 .. n+w-2
    neg = trailing_max([-d for d in dil], w)[w - 1 :]  # min over windows of w
    return [max(-v, x) for v, x in zip(neg[:n], xs)]


def band(xs, d):
    cap, out = xs[0], []
    recent = trailing_max(xs, 15)
    for x, m in zip(xs, recent):
        if x > cap:
            cap = x
        elif m < cap and m <= cap * (1 - d) + 1e-9:
            cap = m
        out.append(cap)
    return out


def reversals(path):
    last, n = None, 0
    for t in range(1, len(path)):
        if path[t] != path[t - 1]:
            d = 1 if path[t] > path[t - 1] else -1
            if last is not None and last[1] != d and t - last[0] < 60:
                n += 1
            last = (t, d)
    return n


def main():
    traces = sys.argv[1:]
    if not traces:
        nab = os.path.join(os.environ.get("PRESCALE_SHARED_DATA", "../shared/data"), "nab")
        listed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nab-traces.txt")
        pats = [l.strip() for l in open(listed) if l.strip() and not l.startswith("#")]
        traces = [f for p in pats for f in sorted(glob.glob(os.path.join(nab, p)))]
        if not traces:
            sys.exit(f"no NAB traces under {nab}: set PRESCALE_SHARED_DATA or name the traces")
    paths = {"hold 15 (reference)": lambda m: trailing_max(m, 15)}
    for w in (30, 60):
        paths[f"hold {w}"] = lambda m, w=w: trailing_max(m, w)
    for d in (0.1, 0.2, 0.3):
        paths[f"band {d:.0%}"] = lambda m, d=d: band(m, d)
    for w in (30, 60):
        paths[f"fill {w}"] = lambda m, w=w: fill(m, w)
    paths["need (no hold)"] = lambda m: m
    tot = {k: [0.0, 0] for k in paths}
    per_trace = []
    for t in traces:
        m = needs(load(t))
        row = {}
        for k, f in paths.items():
            p = f(m)
            row[k] = (sum(p) / 60, reversals(p))
            tot[k][0] += row[k][0]
            tot[k][1] += row[k][1]
        per_trace.append((os.path.basename(t)[:-4], row))
    ref = "hold 15 (reference)"
    print(f"{'trace':40} " + " ".join(f"{k.split(' (')[0]:>14}" for k in paths))
    for name, row in per_trace:
        r = row[ref]
        cells = [f"{row[k][0] / r[0]:.2f}/{row[k][1] / max(r[1], 1):.2f}" for k in paths]
        print(f"{name[:40]:40} " + " ".join(f"{c:>14}" for c in cells))
    r = tot[ref]
    print("\nsummed over the traces (instance-hours / reversals, each over the reference's):")
    for k, v in tot.items():
        print(f"  {k:22} {v[0] / r[0]:.3f}  {v[1] / max(r[1], 1):.3f}")


if __name__ == "__main__":
    main()
