#!/usr/bin/env bash
# Distillation through the top cache (2026-12-07), on 2 CPU cores. The teacher: two networks trained on all
# rated photos (BIQ2021's training split and LIVEC, LIVEC the anchor) over different trunks, the shipped
# overview (the joint stage's trunk) and a top over ImageNet's efficientnet-lite0 trunk. Each scores every
# cached photo whole, once; their weighted mean is the label. The student: the shipped overview's top, one
# more epoch with and without the labels (the same recipe otherwise), paired on the same validation photos.
# Each step is resumable: rerun.
#   DATA=../shared/data BIQ=/path/to/biq2021 XD=runs/xd RUN=runs/distill WEIGHTS="0.6 0.4" \
#       training/recipes/distill_top_cpu.sh
# XD: training/recipes/cross_dataset_cpu.sh's run (its ImageNet student and cache).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
BIQ="${BIQ:?the folder scripts/extract_biq2021.py wrote}"
XD="${XD:?the run folder of training/recipes/cross_dataset_cpu.sh}"
RUN="${RUN:-runs/distill}"
PY="${PY:-.venv/bin/python}"
WEIGHTS="${WEIGHTS:-1 1}"
BASE=resources/models/mobileiqa-student.pt
BIQSET=(--data biq2021 "$BIQ/Train (Images and MOS).csv" "$BIQ")
LIVEC=(--data livec "$DATA/livec/train.csv" "$DATA/livec")
PRISTINE=(--kodak "$DATA/pristine/kodak" --hires "$DATA/pristine/lomiri" "$DATA/pristine/mate")

# 1. The shipped overview's trunk over every rated photo and ladder (~20 min), and the ImageNet-trunk
#    member: v0.6.0's top recipe over the cross-dataset run's cache (2 epochs of ~20 min; epoch 1 is best).
[ -f "$RUN/cache/ladders/index.json" ] || \
    $PY -m training top-cache --init "$BASE" "${BIQSET[@]}" "${LIVEC[@]}" "${PRISTINE[@]}" --threads 2 --out "$RUN/cache"
[ -f "$XD/both/best.pt" ] || \
    $PY -m training top --init "$XD/imagenet/student.pt" --cache "$XD/cache" --anchor livec --out "$XD/both" \
        --set threads=2 epochs=2

# 2. Each member scores its cache once (~5 min each); the labels are their weighted mean (instant, so the
#    weights can be chosen on the validation photos the command prints).
[ -f "$RUN/member-shipped.json" ] || \
    $PY -m training teacher-labels --member "$BASE" "$RUN/cache" --out "$RUN/member-shipped.json"
[ -f "$RUN/member-imagenet.json" ] || \
    $PY -m training teacher-labels --member "$XD/both/best.pt" "$XD/cache" --out "$RUN/member-imagenet.json"
# shellcheck disable=SC2086
$PY -m training teacher-labels --from "$RUN/member-shipped.json" "$RUN/member-imagenet.json" --weights $WEIGHTS \
    --out "$RUN/teacher.json"

# 3. The two students side by side, one thread each (~25 min), sharing the mapped cache.
$PY -m training top --config training/configs/top_distill.json --init "$BASE" --cache "$RUN/cache" --anchor livec \
    --out "$RUN/plain" --set threads=1 &
$PY -m training top --config training/configs/top_distill.json --init "$BASE" --cache "$RUN/cache" --anchor livec \
    --out "$RUN/taught" --set threads=1 teacher_labels="$RUN/teacher.json"
wait

# 4. Exported as overviews alone and scored on the validation photos, paired.
for name in plain taught; do
    $PY -m training export --checkpoint "$RUN/$name/best.pt" --out "$RUN/export/$name" --version 0.0.1 --torch-weights
done
$PY bench/rated_accuracy.py --models resources/models/mobileiqa-student.onnx "$RUN/export/plain.onnx" \
    "$RUN/export/taught.onnx" "${BIQSET[@]}" "${LIVEC[@]}"
