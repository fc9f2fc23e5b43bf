#!/usr/bin/env bash
# What an ingest of a fleet's exported files costs in memory: N groups, each one CSV of D days of
# 1-minute load (synthetic daily cycle and noise, ~33 bytes a row), ingested by `prescale ingest`
# into a fresh store. Prints the files' size, the store's, the run's wall and CPU seconds and its
# peak resident memory (its own ru_maxrss, from wait4), then ingests the same files a second time into the
# same store (the nightly case: every slot already stored).
#
#   bash benches/ingest-memory.sh [--bin target/release/prescale] [--groups 100] [--days 90] [--work DIR]
#
# Needs python3 (stdlib).
set -euo pipefail
bin=target/release/prescale
groups=100
days=90
work=target/ingest-memory
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --groups) groups=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown flag $1 (use --bin, --groups, --days, --work)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
# Its own folder only: one it made before (marked) is emptied, any other that holds something is
# refused rather than deleted.
if [ -e "$work" ] && [ ! -e "$work/.ingest-memory" ] && [ -n "$(ls -A "$work" 2>/dev/null)" ]; then
  echo "$work holds files this bench did not write: give --work a new or empty folder" >&2
  exit 2
fi
rm -rf "$work"
mkdir -p "$work"
touch "$work/.ingest-memory"
python3 - "$work" "$groups" "$days" "$(realpath "$bin")" <<'EOF'
import math, os, random, subprocess, sys, time
work, n, days, binary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
end = 1795392000    # 2026-11-23T00:00:00Z
first = end - days * 86400
cfg = ["[store]", 'dir = "store"', "", "[ingest]", 'source = "csv"', "period_secs = 60", "",
       "[apply]", 'sink = "local"', 'local_state = "asg-state.json"', ""]
size = 0
for g in range(n):
    rnd = random.Random(g)
    level = rnd.uniform(50, 5000)
    path = os.path.join(work, f"g{g:04d}.csv")
    with open(path, "w") as f:
        f.write("timestamp,value\n")
        for i in range(days * 1440):
            v = level * (1 + 0.4 * math.sin(2 * math.pi * i / 1440)) * (1 + rnd.gauss(0, 0.05))
            f.write(f"{first + i * 60},{max(v, 0):.3f}\n")
    size += os.path.getsize(path)
    cfg += ["[[groups]]", f'name = "g{g:04d}"', "min_size = 1", "max_size = 100", 'load_metric = "requests"',
            f"capacity_per_instance = {level / 5:.1f}", "[[groups.metrics]]", 'name = "requests"',
            f'file = "g{g:04d}.csv"', ""]
with open(os.path.join(work, "prescale.toml"), "w") as f:
    f.write("\n".join(cfg))
print(f"{n} files of {days} days at 1 minute: {size / 1e6:.0f} MB of CSV", flush=True)
for run in ("first ingest (new store)", "second ingest (every slot stored)"):
    t = time.monotonic()
    child = subprocess.Popen([binary, "ingest", "--config", os.path.join(work, "prescale.toml"), "--now",
                              "2026-11-23T00:00:00Z"], stdout=subprocess.DEVNULL)
    # This child's own usage (ru_maxrss in KiB on Linux), not the largest of all children so far.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - t
    if status != 0:
        sys.exit(f"prescale ingest failed ({status})")
    cpu = usage.ru_utime + usage.ru_stime
    store = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(work, "store")) for f in fs)
    print(f"{run}: {wall:.1f} s wall, {cpu:.1f} CPU-s, peak resident {usage.ru_maxrss / 1024:.0f} MiB, "
          f"store {store / 1e6:.0f} MB")
EOF
