#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up .venv (app + training + test tools),
# checks the import architecture, then runs pytest offscreen. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
