#!/usr/bin/env bash
# Starts MobileIQA Inspector with the bundled default model. Sets up .venv (runtime only, no
# torch) the first time. Arguments go to the program (python -m app --help).
set -euo pipefail
cd "$(dirname "$0")"
# `./run.sh archive ...` scores an archive on Dask: the runtime set plus requirements/archive.txt.
set_name=runtime
[ "${1:-}" = archive ] && set_name=archive
scripts/bootstrap.sh "$set_name"
exec .venv/bin/python -m app "$@"
