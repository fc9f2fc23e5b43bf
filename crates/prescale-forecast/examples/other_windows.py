"""Compares two prescale builds on 48 h forecasts from windows of the shared series and the demo
that the scorer does not use: the check that a change which helps the scorer's tasks holds
elsewhere. Each file is put on a 5-minute grid (and hourly means), and every `STRIDE` days from
day 7 (+ `OFFSET` hours) a forecast of 48 h is made from up to 14 days of history with each
build; the score is build B's MAE over build A's, geometric mean over a file's windows, then
over files.

    ~/.cache/prescale-eval/*/bin/python crates/prescale-forecast/examples/other_windows.py OLD_BIN NEW_BIN

Environment: `PRESCALE_SHARED_DATA` (default ../shared/data), `STRIDE` (days, 1), `OFFSET`
(hours, 12: the scorer's origins fall on whole days from the series' end), `CUT` (hours kept
clear at each series' end, 0; 144 keeps clear of the scorer's three test windows). Needs pandas
(the eval's venv has it). Takes about 12 minutes for both builds on 2 cores.
"""

import glob
import math
import os
import subprocess
import sys
import tempfile
from io import StringIO

import numpy as np
import pandas as pd


def grid(path: str) -> pd.Series:
    df = pd.read_csv(path)
    tcol = next(c for c in df.columns if c.lower() in ("timestamp", "ts", "time"))
    vcol = next(c for c in df.columns if c != tcol)
    t = pd.to_datetime(df[tcol], utc=True, format="mixed")
    s = pd.Series(pd.to_numeric(df[vcol], errors="coerce").values, index=t).dropna()
    return s.groupby(s.index.floor("5min")).mean().resample("5min").mean().interpolate()


def forecast(binary: str, train: pd.Series, path: str) -> np.ndarray | None:
    frame = pd.DataFrame({"ts": train.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": train.to_numpy()})
    frame.to_csv(path, index=False)
    out = subprocess.run([binary, "forecast", "show", "--input", path, "--horizon", "48h", "--levels", "80",
                          "--format", "csv"], capture_output=True, text=True)
    return None if out.returncode else pd.read_csv(StringIO(out.stdout))["mean"].to_numpy()


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("PRESCALE_SHARED_DATA", os.path.join(here, "../../../../shared/data"))
    stride, offset, cut = (int(os.environ.get(k, d)) for k, d in (("STRIDE", "1"), ("OFFSET", "12"), ("CUT", "0")))
    files = sorted(glob.glob(f"{data}/nab/*/*.csv") + glob.glob(f"{data}/cloudmon/*/*.csv"))
    files += sorted(glob.glob(os.path.join(here, "../../../data/demo/*.csv")))
    tmp = os.path.join(tempfile.mkdtemp(), "train.csv")
    scores: dict[str, list[float]] = {"5min": [], "hourly": []}
    for f in files:
        if "latency" in f:  # not load
            continue
        s = grid(f)
        for res, x, step in (("5min", s, 12), ("hourly", s.resample("1h").mean().dropna(), 1)):
            day, end = 24 * step, len(x) - cut * step
            ratios, o = [], 7 * 24 * step + offset * step
            while o + 48 * step <= end:
                train, test = x.iloc[max(0, o - 14 * day):o], x.iloc[o:o + 48 * step].to_numpy()
                fa, fb = forecast(a, train, tmp), forecast(b, train, tmp)
                if fa is not None and fb is not None and np.abs(fa - test).mean() > 0:
                    ratios.append(np.abs(fb - test).mean() / np.abs(fa - test).mean())
                o += stride * day
            if ratios:
                g = math.exp(np.mean(np.log(ratios)))
                scores[res].append(g)
                print(f"{os.path.basename(f):48s} {res:6s} {len(ratios):3d} windows  B/A {g:.3f}", flush=True)
    for res, g in scores.items():
        if g:
            print(f"{res}: B/A {math.exp(np.mean(np.log(g))):.4f} over {len(g)} files, "
                  f"{sum(v > 1.02 for v in g)} worse by > 2 %, {sum(v < 0.98 for v in g)} better by > 2 %")


if __name__ == "__main__":
    main()
