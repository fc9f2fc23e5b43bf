"""Replays the `auto` engine's selection offline on the shared scorer's tasks, from what
`examples/candidates.rs` dumped, and scores it with the scorer's headline metric (geometric mean
over series of MASE relative to seasonal naive). It scores the replayed engine, every candidate
alone, and the per-task hindsight best, the bound that no selection among these candidates can
pass. The replay has no weekend or holiday wrapper around the engine, so its figures sit above the
scorer's (2026-12-03: NAB hourly 0.865 replayed against the scorer's 0.848, cloudmon hourly 0.672
against 0.619): compare rules with each other here, and confirm a rule with the scorer. Two more
bounds are printed: the best single candidate per series, chosen knowing all its test windows, and
a flat forecast at each test window's own median (the future's level known, no shape).

    bash ../shared/eval/score-nab.sh --prescale target/release/prescale --resolutions hourly,native --work /tmp/nab
    awk -F, 'NR>1 {print "/tmp/nab/tasks/"$13, $8}' /tmp/nab/tasks/manifest.csv \
        | xargs -n 2 target/release/examples/candidates > /tmp/nab/cands.jsonl
    ~/.cache/prescale-eval/*/bin/python crates/prescale-forecast/examples/replay_selection.py /tmp/nab nab

(the manifest's columns 13 and 8 are `train_file` and `horizon`; the eval's Python has pandas). A
selection rule to try is a function from one task's dump to candidate weights: see `engine`.
"""

import json
import math
import os
import sys

import numpy as np
import pandas as pd


def load(work: str, suite: str, dump: str = "cands.jsonl") -> list[dict]:
    tasks = os.path.join(work, "tasks")
    man = pd.read_csv(os.path.join(tasks, "manifest.csv"))
    act = pd.read_csv(os.path.join(tasks, "actuals.csv"))
    actuals = {k: g["y"].to_numpy(float) for k, g in act.groupby("task_id")}
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("PRESCALE_SHARED", os.path.join(here, "../../../../shared"))
    peers = pd.read_csv(os.path.join(shared, "eval", f"peers-{'nab-shared' if suite == 'nab' else 'cloudmon'}-tasks.csv"))
    naive = peers[peers.model == "SeasonalNaive"].set_index("task_id")["mase"].to_dict()
    dumps = {}
    with open(os.path.join(work, dump)) as fh:
        for line in fh:
            d = json.loads(line)
            dumps[os.path.basename(d["path"])[:-4]] = d
    out = []
    for row in man.itertuples():
        if row.task_id not in dumps or row.task_id not in naive:
            continue
        train = pd.read_csv(os.path.join(tasks, row.train_file))["value"].to_numpy(float)
        m = int(row.season_day)
        scale = np.abs(train[m:] - train[:-m]).mean() if len(train) > m else 0.0
        if not scale > 0:
            scale = np.abs(np.diff(train)).mean()
        out.append(dict(task=row.task_id, series=row.series_id, res=row.resolution, scale=scale,
                        y=actuals[row.task_id], dump=dumps[row.task_id], naive=naive[row.task_id]))
    return out


def significant(r: list[float], significance: float = 2.0) -> float:
    """`engine::significant_evidence`: the sum of the per-origin log ratios, scaled by
    min(1, |t| / significance), t the mean over its standard error; one origin counts in full."""
    k, s = len(r), sum(r)
    if k < 2 or significance <= 0:
        return s
    mean = s / k
    se = math.sqrt(sum((v - mean) ** 2 for v in r) / (k - 1) / k)
    return s if se <= 0 else s * min(1.0, abs(mean) / se / significance)


def evidence(d: dict, ref: int = 0, significance: float = 2.0) -> tuple[list[float], list[bool]]:
    """S per candidate: per origin ln(MAE / reference MAE), plus the week's evidence at each
    origin where a weekly model was scored in its daily form, summed and scaled by how much the
    origins agree (`significant`); and whether it was scored."""
    ref_mae = dict(zip(d["cands"][ref]["origins"], d["cands"][ref]["mae"]))
    S, tested = [], []
    for c in d["cands"]:
        r = []
        for o, e, daily in zip(c["origins"], c["mae"], c["daily"]):
            b = ref_mae.get(o)
            if b is None or e is None or not b > 0:
                continue
            r.append(math.log(max(e, b * 1e-9) / b) + (d["week"] if c["weekly_now"] and daily else 0.0))
        S.append(significant(r, significance))
        tested.append(bool(r))
    return S, tested


def robust(c: dict) -> bool:
    """The candidates whose level is a recent median (`PointModel::robust_level`, dumped)."""
    return c["robust"]


def engine(d: dict, eta: float = 1.0, gate: int = 3, significance: float = 2.0) -> list[float]:
    """The engine's weights: prior · exp(−eta · (S − best S)) over the tested candidates of `auto`
    (prior > 0), weights under 1e-4 dropped; with evidence from at least `gate` origins where no
    candidate but the robust ones has S < 0, only the robust ones."""
    S, tested = evidence(d, significance=significance)
    cs = d["cands"]
    ok = [tested[i] and bool(cs[i]["forecast"]) and cs[i]["prior"] > 0 for i in range(len(cs))]
    n = len(cs[0]["origins"])
    if (gate and n >= gate and any(ok[i] and robust(cs[i]) for i in range(len(cs)))
            and all(S[i] >= 0 for i in range(len(cs)) if ok[i] and not robust(cs[i]))):
        ok = [ok[i] and robust(cs[i]) for i in range(len(cs))]
    best = min(S[i] for i in range(len(cs)) if ok[i])
    w = [cs[i]["prior"] * math.exp(-eta * (S[i] - best)) if ok[i] else 0.0 for i in range(len(cs))]
    total = sum(w)
    return [x / total if x / total > 1e-4 else 0.0 for x in w]


def combine(d: dict, w: list[float]) -> np.ndarray:
    parts = [(np.array(c["forecast"], float), wi) for c, wi in zip(d["cands"], w) if wi > 0 and c["forecast"]]
    f = sum(p * wi for p, wi in parts) / sum(wi for _, wi in parts)
    return np.maximum(f, 0) if d["non_negative"] else f


def headline(per_series: dict) -> float:
    logs = [math.log(np.mean([a for a, _ in v]) / np.mean([b for _, b in v])) for v in per_series.values()]
    return math.exp(np.mean(logs))


def score(tasks: list[dict], rule, res: str) -> float:
    per = {}
    for t in tasks:
        if t["res"] == res:
            mase = np.abs(t["y"] - combine(t["dump"], rule(t["dump"]))).mean() / t["scale"]
            per.setdefault(t["series"], []).append((mase, t["naive"]))
    return headline(per)


def hindsight(tasks: list[dict], res: str) -> float:
    per = {}
    for t in tasks:
        if t["res"] == res:
            best = min(np.abs(t["y"] - np.array(c["forecast"])).mean() / t["scale"]
                       for c in t["dump"]["cands"] if c["forecast"])
            per.setdefault(t["series"], []).append((best, t["naive"]))
    return headline(per)


def hindsight_per_series(tasks: list[dict], res: str) -> float:
    """The best single candidate per series over all its tasks, chosen knowing their test windows:
    what picking one model per series can reach at best."""
    per = {}
    for t in tasks:
        if t["res"] == res:
            per.setdefault(t["series"], []).append(t)
    logs = []
    for ts in per.values():
        mases = {}
        for t in ts:
            for c in t["dump"]["cands"]:
                if c["forecast"]:
                    mases.setdefault(c["name"], []).append(np.abs(t["y"] - np.array(c["forecast"])).mean() / t["scale"])
        best = min(np.mean(v) for v in mases.values() if len(v) == len(ts))
        logs.append(math.log(best / np.mean([t["naive"] for t in ts])))
    return math.exp(np.mean(logs))


def oracle_flat(tasks: list[dict], res: str) -> float:
    """A flat forecast at the median of each test window: the best any forecast without a shape
    can do, knowing the future's level."""
    per = {}
    for t in tasks:
        if t["res"] == res:
            per.setdefault(t["series"], []).append((np.abs(t["y"] - np.median(t["y"])).mean() / t["scale"], t["naive"]))
    return headline(per)


def main() -> None:
    work, suite = sys.argv[1], sys.argv[2]
    tasks = load(work, suite)
    names = [c["name"] for c in tasks[0]["dump"]["cands"] if not c["extra"]]
    for res in sorted({t["res"] for t in tasks}):
        print(f"{suite} {res}: engine {score(tasks, engine, res):.3f}, hindsight best per task {hindsight(tasks, res):.3f}, "
              f"best single candidate per series {hindsight_per_series(tasks, res):.3f}, "
              f"flat at each test window's median {oracle_flat(tasks, res):.3f}")
        for name in names:
            alone = score(tasks, lambda d, n=name: [1.0 if c["name"] == n else 0.0 for c in d["cands"]], res)
            print(f"    {name:32s} alone {alone:.3f}")


if __name__ == "__main__":
    main()
