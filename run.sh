#!/usr/bin/env bash
# Starts MobileIQA Inspector with the bundled default model. Sets up .venv (runtime only, no
# torch) the first time. Arguments go to the program (python -m app --help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh runtime
exec .venv/bin/python -m app "$@"
