#!/usr/bin/env bash
# The recorded recipe of the shipped default model v0.1 (interim): the student trained directly
# on LIVEC MOS (no teacher, no synthetic data), exported, and evaluated. ~1 h on 2 CPU cores.
#   training/recipes/interim_student.sh [DATA=../shared/data] [RUN=runs/student_mos]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
RUN="${RUN:-runs/student_mos}"
PY=.venv/bin/python
$PY -m training teacher --config training/configs/student_mos.json \
    --csv "$DATA/livec/train.csv" --root "$DATA/livec" --out "$RUN"
$PY -m training split --csv "$DATA/livec/train.csv" --out "$RUN/split" --val-fraction 0.15 --seed 0
$PY -m training export --checkpoint "$RUN/best.pt" --out "$RUN/export/mobileiqa-student" --version 0.1.0 --torch-weights
$PY -m training evaluate --model "$RUN/export/mobileiqa-student.onnx" --csv "$RUN/split/val.csv" --root "$DATA/livec" \
    | tee "$RUN/eval_val.json"
$PY -m training evaluate-synthetic --model "$RUN/export/mobileiqa-student.onnx" \
    --pristine "$DATA/pristine/kodak" "$DATA/pristine/mate" | tee "$RUN/eval_synthetic.json"
cp "$RUN/history.csv" "$RUN/curves.png" "$RUN/export/"
$PY -m training annotate --card "$RUN/export/mobileiqa-student.json" \
    --field "evaluation_val=$RUN/eval_val.json" "evaluation_synthetic=$RUN/eval_synthetic.json" \
    --merge training/recipes/interim_student_card.json
