#!/usr/bin/env bash
# Set up (if needed) and run the main job; results go to ./results. Extra arguments are passed on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if ! .venv/bin/python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("brian_segdend.__main__") is None)'; then
    echo "run_main.sh: brian_segdend has no command-line entry point yet (brian_segdend/__main__.py)" >&2
    exit 2
fi
exec .venv/bin/python -m brian_segdend main --out results "$@"
