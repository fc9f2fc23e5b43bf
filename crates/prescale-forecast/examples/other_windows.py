"""Compares two prescale builds on 48 h windows of the shared series and the demo that the scorer
does not use: the check that a change which helps the scorer's tasks holds elsewhere. Each file is
put on a 5-minute grid (and hourly means) and its last `OFFSET` hours are dropped, so that its
windows fall between the scorer's (whose origins are whole days from the series' end); then each
build's `prescale backtest --models auto` scores every 48 h window that fits, with up to 14 days
of training before each. The score is build B's pooled MAE over build A's (their WAPE on the same
actuals) per file, and its geometric mean over files.

    ~/.cache/prescale-eval/*/bin/python crates/prescale-forecast/examples/other_windows.py OLD_BIN NEW_BIN

Environment: `PRESCALE_SHARED_DATA` (default ../shared/data), `OFFSET` (hours, 12). Needs pandas
(the eval's venv has it). Takes a few minutes for both builds on 2 cores.
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


def wape(binary: str, csv: str, out: str) -> tuple[float, int] | None:
    """The `auto` engine's WAPE over every window `prescale backtest` fits in the file, and how many."""
    run = subprocess.run([binary, "backtest", "--input", csv, "--models", "auto", "--origins", "99",
                          "--horizon", "48h", "--train", "14d", "--format", "csv", "--out", out,
                          "--output", os.path.join(out, "backtest.parquet")], capture_output=True, text=True)
    if run.returncode:
        return None
    row = pd.read_csv(StringIO(run.stdout)).iloc[0]
    return float(row["wape"]), int(row["origins"])


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.environ.get("PRESCALE_SHARED_DATA", os.path.join(here, "../../../../shared/data"))
    offset = pd.Timedelta(hours=int(os.environ.get("OFFSET", "12")))
    files = sorted(glob.glob(f"{data}/nab/*/*.csv") + glob.glob(f"{data}/cloudmon/*/*.csv"))
    files += sorted(glob.glob(os.path.join(here, "../../../data/demo/*.csv")))
    tmp = tempfile.mkdtemp()
    csv = os.path.join(tmp, "series.csv")
    scores: dict[str, list[float]] = {"5min": [], "hourly": []}
    for f in files:
        if "latency" in f:  # not load
            continue
        s = grid(f)
        s = s[s.index < s.index[-1] - offset]
        for res, x in (("5min", s), ("hourly", s.resample("1h").mean().dropna())):
            pd.DataFrame({"ts": x.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": x.to_numpy()}).to_csv(csv, index=False)
            wa, wb = wape(a, csv, tmp), wape(b, csv, tmp)
            if wa is None or wb is None or not wa[0] > 0:
                continue
            scores[res].append(wb[0] / wa[0])
            print(f"{os.path.basename(f):48s} {res:6s} {wa[1]:3d} windows  B/A {wb[0] / wa[0]:.3f}", flush=True)
    for res, g in scores.items():
        if g:
            print(f"{res}: B/A {math.exp(np.mean(np.log(g))):.4f} over {len(g)} files, "
                  f"{sum(v > 1.02 for v in g)} worse by > 2 %, {sum(v < 0.98 for v in g)} better by > 2 %")


if __name__ == "__main__":
    main()
