#!/usr/bin/env bash
# The recorded recipe of the shipped default model v0.4: v0.3.0's two networks unchanged, the
# detail network given a map-only damage head (stage `damage`: its own weights frozen, so every
# score is v0.3.0's), then exported as one model and evaluated. Needs v0.3's run folder
# (training/recipes/v0.3_scale_cpu.sh, same RUN). Fits a 2-core CPU: ~3 min per epoch,
# 6 epochs; resumable (rerun the same command after an interruption).
#   DATA=../shared/data RUN=runs/v0.3 training/recipes/v0.4_damage_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-runs/v0.3}"
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-$RUN/export-v0.4/mobileiqa-student}"
HIRES=("$DATA/pristine/lomiri" "$DATA/pristine/mate")
$PY -m training damage --init "$RUN/detail/best.pt" --hires "${HIRES[@]}" --pristine "$DATA/pristine/kodak" \
    --out "$RUN/damage" --workers 1
$PY -m training export --checkpoint "$RUN/overview/best.pt" --detail-checkpoint "$RUN/damage/best.pt" \
    --out "$OUT" --version 0.4.0 --torch-weights --parity --card-extra training/recipes/v0.4_card.json
$PY -m training split --csv "$DATA/livec/train.csv" --out "$RUN/split" --val-fraction 0.15 --seed 0
$PY -m training evaluate --model "$OUT.onnx" --csv "$RUN/split/val.csv" --root "$DATA/livec"
$PY -m training evaluate-synthetic --model "$OUT.onnx" --pristine "$DATA/pristine/kodak" "$DATA/pristine/mate"
# the native maps on the held-out high-resolution photos of at least 2000 px (split_hires' other half)
HELD=$($PY -c "from training.data.hires import split_hires; from PIL import Image; import sys
_, held = split_hires(sys.argv[1:], 0)
print(' '.join(str(p) for p in held if max(Image.open(p).size) >= 2000))" "${HIRES[@]}")
$PY -m training evaluate-synthetic --model "$OUT.onnx" --pristine $HELD --crop 2048 --native
$PY bench/scale_consistency.py --models "$OUT.onnx" --folders "${HIRES[@]}"
