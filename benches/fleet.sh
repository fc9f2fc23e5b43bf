#!/usr/bin/env bash
# The nightly fits of a fleet, end to end through the binary: N groups, each one load series of
# 14 days at a 5-minute step (synthetic: daily and weekly cycles, a trend, noise, a seed per
# group), ingested from CSV into a fresh store, then `prescale forecast fit` (the full `auto`
# selection, 48 h ahead) timed on one thread and on the machine's cores.
#
#   bash benches/fleet.sh [--bin target/release/prescale] [--groups 1000] [--work DIR]
#
# Prints the wall and CPU seconds of each fit and the seconds per series. Needs python3 (stdlib).
set -euo pipefail
bin=target/release/prescale
groups=1000
work=target/fleet
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --groups) groups=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown flag $1 (use --bin, --groups, --work)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/csv"
now=2026-11-23T00:00:00Z
python3 - "$work" "$groups" <<'EOF'
import math, random, sys
work, n = sys.argv[1], int(sys.argv[2])
end = 1795392000    # 2026-11-23T00:00:00Z
step, days = 300, 14
first = end - days * 86400
cfg = ["[store]", 'dir = "store"', "", "[ingest]", 'source = "csv"', "period_secs = 300", "",
       "[forecast]", "horizon_hours = 48", "levels = [50, 80, 90, 95]", "train_days = 14",
       'model = { kind = "auto" }', "", "[apply]", 'sink = "local"', 'local_state = "asg-state.json"', ""]
for g in range(n):
    rnd = random.Random(g)
    level = rnd.uniform(50, 5000)
    daily, weekly, trend, noise = rnd.uniform(0.2, 0.6), rnd.uniform(0.0, 0.3), rnd.uniform(-0.01, 0.02), rnd.uniform(0.02, 0.15)
    peak = rnd.uniform(10, 18)
    rows = ["timestamp,value"]
    for k in range((end - first) // step):
        t = first + k * step
        h = (t % 86400) / 3600
        dow = (t // 86400 + 3) % 7  # 0 Monday
        v = level * (1 + daily * math.cos(2 * math.pi * (h - peak) / 24))
        v *= 1 - (weekly if dow >= 5 else 0)
        v *= 1 + trend * (t - first) / 86400
        v *= 1 + rnd.gauss(0, noise)
        rows.append(f"{t},{max(v, 0):.2f}")
    open(f"{work}/csv/g{g:04d}.csv", "w").write("\n".join(rows) + "\n")
    cap = level * 2 / 10
    cfg += ["[[groups]]", f'name = "g{g:04d}"', "min_size = 1", "max_size = 100", 'load_metric = "load"',
            f"capacity_per_instance = {cap:.1f}", "[[groups.metrics]]", 'name = "load"', f'file = "csv/g{g:04d}.csv"', ""]
open(f"{work}/prescale.toml", "w").write("\n".join(cfg))
EOF
export PRESCALE_CONFIG=$work/prescale.toml PRESCALE_NOW=$now PRESCALE_OUT=$work/out
echo "ingesting $groups series …" >&2
"$bin" ingest >/dev/null
cores=$(nproc)
# Other work on the machine slows the fits and takes the cores the threads would use.
echo "load average before the fits: $(cut -d' ' -f1-3 /proc/loadavg) on $cores cores (figures under load are upper bounds)" >&2
for threads in 1 "$cores"; do
  [ "$threads" = 1 ] || [ "$cores" != 1 ] || continue
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$bin" forecast fit --threads "$threads" >/dev/null 2>"$work/fit-$threads.log"
  awk -v n="$groups" -v t="$threads" '{ printf "forecast fit, %d series, %d thread(s): %.1f s wall, %.1f CPU-s, %.3f s of wall per series\n", n, t, $1, $2 + $3, $1 / n }' "$work/time"
done
