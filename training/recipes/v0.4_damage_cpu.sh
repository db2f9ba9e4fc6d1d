#!/usr/bin/env bash
# The recorded recipe of the shipped default model v0.4: v0.3.0's two networks unchanged, the
# detail network given a map-only damage head (stage `damage`: its own weights frozen, so every
# score is v0.3.0's), then exported as one model and evaluated. Needs v0.3's run folder
# (training/recipes/v0.3_scale_cpu.sh, same RUN). Fits a 2-core CPU: ~4 min per epoch,
# 10 epochs; resumable (rerun the same command after an interruption).
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
DATA="$DATA" RUN="$RUN" OUT="$OUT" PY="$PY" training/recipes/evaluate_release.sh
