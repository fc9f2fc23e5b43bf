#!/usr/bin/env bash
# Nightly churn on the demo groups: NIGHTS runs of `nightly --execute` against the local stand-in,
# one a day at midnight (the last on 2026-11-22, the day before the demo's data ends), once with
# [apply] keep_within_mins = 15 (the default) and once with 0, and the scheduled-action writes
# (puts and deletions, from each run's audit log) after the first night, which writes everything.
#
#   bash benches/churn.sh [--bin target/release/prescale] [--nights 13] [--work DIR]
#
# About 2 minutes on the 2-core machine (release build). python3 (stdlib only) counts.
set -euo pipefail
bin=target/release/prescale
nights=13
work=target/churn
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --nights) nights=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown flag $1 (use --bin, --nights, --work)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
bin=$(realpath "$bin")
demo=$(realpath data/demo)
for keep in 15 0; do
  dir=$work/keep$keep
  rm -rf "$dir"
  mkdir -p "$dir"
  sed -e "s#file = \"#file = \"$demo/#" -e "s#^local_state = .*#local_state = \"state.json\"\nkeep_within_mins = $keep#" \
    "$demo/prescale.toml" >"$dir/prescale.toml"
  for ((i = nights; i >= 1; i--)); do
    now=$(date -u -d "2026-11-23 - $i days" +%Y-%m-%dT00:00:00Z)
    "$bin" --config "$dir/prescale.toml" --out "$dir/out" --now "$now" nightly --execute --quiet \
      >"$dir/$now.out" 2>"$dir/$now.err" || echo "keep $keep, $now: exit $? (see $dir/$now.err)" >&2
  done
done
python3 - "$work" <<'PY'
import json, sys
from collections import Counter
writes = {}
for keep in (15, 0):
    lines = [json.loads(l) for l in open(f"{sys.argv[1]}/keep{keep}/out/audit.jsonl")]
    first = min(e["as_of"] for e in lines)
    n = Counter((e["op"], e["object"]) for e in lines
                if e["outcome"] == "applied" and e["object"] == "scheduled_action" and e["as_of"] != first)
    writes[keep] = sum(n.values())
    print(f"keep_within_mins = {keep:2}: {writes[keep]:5} scheduled-action writes after the first night "
          f"({', '.join(f'{k[0]} {v}' for k, v in sorted(n.items()))})")
print(f"change: {100 * (writes[15] - writes[0]) / writes[0]:+.1f} %")
PY
