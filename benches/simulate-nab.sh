#!/usr/bin/env bash
# Replays every load-like NAB series (request counts, tweet volumes, network bytes, CPU) and the demo
# groups under all seven policies with the same capacity settings, and checks issue 7's targets.
#
#   bash benches/simulate-nab.sh [--bin target/release/prescale] [--out DIR] [-- extra simulate flags]
#
# Needs PRESCALE_SHARED_DATA (default ../shared/data). Writes DIR/<series>.json (one `simulate
# --format json` per trace) and prints a per-series table and the targets (python3, stdlib only).
set -euo pipefail
bin=target/release/prescale
out=target/simulate-nab
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1 (use --bin, --out, -- extra simulate flags)" >&2; exit 2 ;;
  esac
done
data=${PRESCALE_SHARED_DATA:-../shared/data}
nab=$data/nab
[ -d "$nab" ] || { echo "no NAB data at $nab: set PRESCALE_SHARED_DATA" >&2; exit 1; }
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
mkdir -p "$out"
# Load-like NAB series (benches/nab-traces.txt, globs under the NAB folder) and the demo groups.
traces=()
while read -r pattern; do
  case $pattern in ''|'#'*) continue ;; esac
  traces+=("$nab"/$pattern)
done <"$(dirname "$0")/nab-traces.txt"
traces+=(data/demo/web-prod-requests.csv data/demo/api-staging-requests.csv data/demo/worker-dev-jobs.csv)
for t in "${traces[@]}"; do
  name=$(basename "$t" .csv)
  printf '%s … ' "$name" >&2
  start=$(date +%s)
  "$bin" simulate --input "$t" --format json "${extra[@]}" >"$out/$name.json"
  echo "$(( $(date +%s) - start )) s" >&2
done
python3 "$(dirname "$0")/replay-summary.py" "$out" "${traces[@]}"
