#!/usr/bin/env bash
# The recorded recipe of the shipped default model v0.2: the teacher pre-trained on synthetic
# distortions, trained on LIVEC MOS (keeping synthetic ranking/map terms), then the student
# distilled from it (MOS + teacher + pseudo-labeled synthetic crops). Sized for one GPU (the run
# behind v0.2 took ~8 min on an H200); on a CPU the same commands take many hours.
#   DATA=../shared/data RUN=runs/full INIT=<student checkpoint> training/recipes/full_gpu.sh
# INIT is the student the distillation starts from: by default the interim recipe's result
# (training/recipes/interim_student.sh), which v0.2 took from resources/models (v0.1.0).
# PRETRAIN_ARGS / TEACHER_ARGS / DISTILL_ARGS pass further options (--epochs, --time-limit, ...);
# PRISTINE_DIRS replaces the clean-photo folders (space-separated).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-runs/full}"
INIT="${INIT:-runs/student_mos/best.pt}"
PY="${PY:-.venv/bin/python}"
read -ra PRISTINE <<< "${PRISTINE_DIRS:-$DATA/pristine/kodak $DATA/pristine/mate}"
LIVEC=(--csv "$DATA/livec/train.csv" --root "$DATA/livec")
# shellcheck disable=SC2086  # the *_ARGS are word lists on purpose
{
$PY -m training pretrain --config training/configs/pretrain_teacher_gpu.json --pristine "${PRISTINE[@]}" \
    --out "$RUN/pretrain" ${PRETRAIN_ARGS:-}
$PY -m training teacher --config training/configs/teacher_gpu.json --init "$RUN/pretrain/best.pt" "${LIVEC[@]}" \
    --pristine "${PRISTINE[@]}" --out "$RUN/teacher" ${TEACHER_ARGS:-}
$PY -m training distill --config training/configs/distill_gpu.json --init "$INIT" --teacher "$RUN/teacher/best.pt" \
    "${LIVEC[@]}" --pristine "${PRISTINE[@]}" --out "$RUN/distill" ${DISTILL_ARGS:-}
}
