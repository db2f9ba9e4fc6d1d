#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up .venv (app + training + test tools),
# checks the import architecture, then runs pytest offscreen, then (with no arguments) builds the
# bundle. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
# The PyInstaller bundle under its own marker (left out of the run above): built and run here
# whenever the whole suite runs, as in CI (.ci/run runs this script without arguments).
if [ $# -eq 0 ]; then
    .venv/bin/python -m pytest -m bundle tests/packaging
fi
