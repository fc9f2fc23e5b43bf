#!/usr/bin/env bash
# The project's one test command: builds everything and runs `cargo test`
# against a local moto server (AWS CloudWatch + Auto Scaling fake).
#
#   tests/run.sh [extra cargo test args...]     e.g. tests/run.sh -- --nocapture
#
# Needs only the Rust toolchain and Python 3.11 with pip; the Python side is
# installed into target/moto-venv from tests/moto/requirements.txt and, for the
# notebooks' test, into target/notebook-venv from notebooks/requirements.txt (PyPI).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root, whatever the caller's cwd
ROOT=$(pwd)

REQS="$ROOT/tests/moto/requirements.txt"
VENV="$ROOT/target/moto-venv"
LOG="$ROOT/target/moto-server.log"
PY=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
[ -n "$PY" ] || { echo "run.sh: need python3.11 (or python3, or set PYTHON)" >&2; exit 1; }

# --- Python venvs, each rebuilt only when its requirements change -----------
# make_venv VENV REQUIREMENTS WHAT
make_venv() {
    local venv=$1 reqs=$2 what=$3 stamp="$1/.requirements.stamp" pip
    if cmp -s "$reqs" "$stamp" && [ -x "$venv/bin/python" ]; then
        return
    fi
    echo "run.sh: installing $what into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$ROOT/target"
    if "$PY" -m venv "$venv"; then
        pip=("$venv/bin/python" -m pip)
    else
        # Debian-style Pythons may lack ensurepip; the host pip (>= 22.3) can
        # install into a pip-less venv instead.
        rm -rf "$venv"
        "$PY" -m venv --without-pip "$venv"
        pip=("$PY" -m pip --python "$venv/bin/python")
    fi
    "${pip[@]}" install --quiet --disable-pip-version-check -r "$reqs"
    cp "$reqs" "$stamp"
}
make_venv "$VENV" "$REQS" moto
# The notebooks' packages and Jupyter, for the test that runs them headless.
make_venv "$ROOT/target/notebook-venv" "$ROOT/notebooks/requirements.txt" "the notebooks' packages"
export PRESCALE_TEST_JUPYTER="$ROOT/target/notebook-venv/bin/jupyter"

# --- moto server on a free port ----------------------------------------------
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap 'rc=$?; stop_server; exit $rc' EXIT
trap 'exit 130' INT     # make sure Ctrl-C / kill still run the EXIT trap
trap 'exit 143' TERM

# Empty the log in *this* shell first: the `>` below runs in the child, so a
# stale ready line from a previous run could otherwise be read.
: >"$LOG"
"$VENV/bin/python" "$ROOT/tests/moto/server.py" --host 127.0.0.1 --port 0 >"$LOG" 2>&1 &
SERVER_PID=$!

fail_start() {
    echo "==================== moto server log ($LOG) ====================" >&2
    cat "$LOG" >&2 || true
    echo "================================================================" >&2
    echo "!!! moto server failed to start: $1" >&2
    exit 1
}

ENDPOINT=""
for _ in $(seq 300); do   # 300 x 0.1 s = 30 s
    ENDPOINT=$(sed -n 's/^moto-ready \(http:[^ ]*\)$/\1/p' "$LOG" | head -n1)
    [ -n "$ENDPOINT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail_start "server process exited early"
    sleep 0.1
done
[ -n "$ENDPOINT" ] || fail_start "no 'moto-ready' line within 30 s"
echo "run.sh: moto server at $ENDPOINT (log: $LOG)" >&2

export PRESCALE_TEST_AWS_ENDPOINT="$ENDPOINT"
export AWS_ENDPOINT_URL="$ENDPOINT"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export PRESCALE_SHARED_DATA="${PRESCALE_SHARED_DATA:-$ROOT/../shared/data}"

# --- build and test; set -e makes a failure exit with cargo's status ----------
cargo build --workspace --all-targets --locked
cargo test --workspace --locked "$@"
