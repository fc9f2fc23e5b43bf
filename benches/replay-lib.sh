# Sourced by simulate-nab.sh and simulate-beyond.sh: their flags and the replay of a set of traces.
# Set `out` (the default output folder) before sourcing; `replay_flags "$@"` reads --bin, --out and
# `-- extra simulate flags`; `replay_traces TRACE…` replays each trace under all seven policies into
# "$out/<name>.json" and sums them (replay-summary.py).
bin=target/release/prescale
extra=()

replay_flags() {
  while [ $# -gt 0 ]; do
    case $1 in
      --bin) bin=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) echo "unknown flag $1 (use --bin, --out, -- extra simulate flags)" >&2; exit 2 ;;
    esac
  done
  [ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
  mkdir -p "$out"
}

replay_traces() {
  local t name start
  for t in "$@"; do
    name=$(basename "$t" .csv)
    printf '%s … ' "$name" >&2
    start=$(date +%s)
    "$bin" simulate --input "$t" --format json "${extra[@]}" >"$out/$name.json"
    echo "$(( $(date +%s) - start )) s" >&2
  done
  python3 "$(dirname "${BASH_SOURCE[0]}")/replay-summary.py" "$out" "$@"
}
