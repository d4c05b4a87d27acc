#!/usr/bin/env bash
# Set up (if needed), lint with ruff and run the test suite; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/ruff check .   # lint (configuration: pyproject.toml [tool.ruff])
exec .venv/bin/python -m pytest -q tests "$@"
