#!/usr/bin/env bash
# The evaluations every release's card reports, for the exported model OUT.onnx (the recipes call
# this last): LIVEC validation on the seeded split, synthetic monotonicity and localisation on
# 512-px crops, the native maps on the held-out high-resolution photos of at least 2000 px
# (split_hires' other half, 2048-px crops), and the scale-consistency table.
#   DATA=../shared/data RUN=runs/v0.3 OUT=runs/v0.3/export/mobileiqa-student training/recipes/evaluate_release.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
PY="${PY:-.venv/bin/python}"
: "${RUN:?RUN: the run folder (its split/ is written there)}" "${OUT:?OUT: the exported model, without .onnx}"
HIRES=("$DATA/pristine/lomiri" "$DATA/pristine/mate")
$PY -m training split --csv "$DATA/livec/train.csv" --out "$RUN/split" --val-fraction 0.15 --seed 0
$PY -m training evaluate --model "$OUT.onnx" --csv "$RUN/split/val.csv" --root "$DATA/livec"
$PY -m training evaluate-synthetic --model "$OUT.onnx" --pristine "$DATA/pristine/kodak" "$DATA/pristine/mate"
HELD=$($PY -c "from training.data.hires import split_hires; from PIL import Image; import sys
_, held = split_hires(sys.argv[1:], 0)
print(' '.join(str(p) for p in held if max(Image.open(p).size) >= 2000))" "${HIRES[@]}")
$PY -m training evaluate-synthetic --model "$OUT.onnx" --pristine $HELD --crop 2048 --native
$PY bench/scale_consistency.py --models "$OUT.onnx" --folders "${HIRES[@]}"
