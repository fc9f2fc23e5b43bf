#!/usr/bin/env bash
# Replays every load-like NAB series (request counts, tweet volumes, network bytes, CPU) and the demo
# groups under all seven policies with the same capacity settings, and checks issue 7's targets.
#
#   bash benches/simulate-nab.sh [--bin target/release/prescale] [--out DIR] [-- extra simulate flags]
#
# Needs PRESCALE_SHARED_DATA (default ../shared/data). Writes DIR/<series>.json (one `simulate
# --format json` per trace) and prints a per-series table and the targets (python3, stdlib only).
set -euo pipefail
out=target/simulate-nab
. "$(dirname "$0")/replay-lib.sh"
replay_flags "$@"
data=${PRESCALE_SHARED_DATA:-../shared/data}
nab=$data/nab
[ -d "$nab" ] || { echo "no NAB data at $nab: set PRESCALE_SHARED_DATA" >&2; exit 1; }
# Load-like NAB series (benches/nab-traces.txt, globs under the NAB folder) and the demo groups.
traces=()
while read -r pattern; do
  case $pattern in ''|'#'*) continue ;; esac
  traces+=("$nab"/$pattern)
done <"$(dirname "$0")/nab-traces.txt"
traces+=(data/demo/web-prod-requests.csv data/demo/api-staging-requests.csv data/demo/worker-dev-jobs.csv)
replay_traces "${traces[@]}"
