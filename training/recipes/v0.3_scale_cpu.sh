#!/usr/bin/env bash
# The recorded recipe of the shipped default model v0.3: v0.2.0's distilled student refined by
# the `scale` stage (LIVEC MOS at its own scale + scale consistency on clean high-resolution
# photos + native-resolution synthetic damage), then exported with the card's reading block and
# evaluated. Fits a 2-core CPU: ~90 s per epoch when nothing else runs; resumable (rerun the
# same command after an interruption).
#   DATA=../shared/data RUN=runs/v0.3 training/recipes/v0.3_scale_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-runs/v0.3}"
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-$RUN/export/mobileiqa-student}"
HIRES=("$DATA/pristine/lomiri" "$DATA/pristine/mate")
# shellcheck disable=SC2086  # SCALE_ARGS is a word list on purpose
$PY -m training scale --init resources/models/mobileiqa-student.pt --csv "$DATA/livec/train.csv" --root "$DATA/livec" \
    --hires "${HIRES[@]}" --out "$RUN/scale" ${SCALE_ARGS:---epochs 8}
$PY -m training export --checkpoint "$RUN/scale/best.pt" --out "$OUT" --version 0.3.0 --torch-weights --parity \
    --card-extra training/recipes/v0.3_card.json
$PY -m training split --csv "$DATA/livec/train.csv" --out "$RUN/split" --val-fraction 0.15 --seed 0
$PY -m training evaluate --model "$OUT.onnx" --csv "$RUN/split/val.csv" --root "$DATA/livec"
$PY -m training evaluate-synthetic --model "$OUT.onnx" --pristine "$DATA/pristine/kodak" "$DATA/pristine/mate"
