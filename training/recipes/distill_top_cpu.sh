#!/usr/bin/env bash
# Distillation through the top cache (2026-12-07), on 2 CPU cores. The teacher: the shipped overview (the
# joint stage's trunk) with the cross-dataset run's tops over ImageNet's efficientnet-lite0 trunk (one on
# both rated datasets, one on BIQ2021 alone, one on LIVEC alone). Each scores every cached photo whole, once;
# the labels are their weighted mean on the shipped overview's scale, weighed per dataset on the validation
# photos the command prints (BIQ2021's photos: the shipped overview and the BIQ2021-only top; LIVEC's: the
# shipped overview and half the LIVEC-only top; the ladders: the shipped overview). The student: the shipped
# overview's top, one more epoch with and without the labels (the same recipe otherwise), paired on the same
# validation photos. Each step is resumable: rerun.
#   DATA=../shared/data BIQ=/path/to/biq2021 XD=runs/xd RUN=runs/distill training/recipes/distill_top_cpu.sh
# XD: training/recipes/cross_dataset_cpu.sh's run (its ImageNet student, cache and single-dataset tops).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
BIQ="${BIQ:?the folder scripts/extract_biq2021.py wrote}"
XD="${XD:?the run folder of training/recipes/cross_dataset_cpu.sh}"
RUN="${RUN:-runs/distill}"
PY="${PY:-.venv/bin/python}"
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
    $PY -m training teacher-labels --member "$BASE" "$RUN/cache" --threads 1 --out "$RUN/member-shipped.json"
for name in both biq-only livec-only; do
    [ -f "$RUN/member-$name.json" ] || \
        $PY -m training teacher-labels --member "$XD/$name/best.pt" "$XD/cache" --threads 1 --out "$RUN/member-$name.json"
done
$PY -m training teacher-labels --from "$RUN"/member-{shipped,both,biq-only,livec-only}.json \
    --weights 1 0 0 0 --weights-for biq2021 1 0 1 0 --weights-for livec 1 0 0 0.5 --out "$RUN/teacher.json"

# 3. The two students side by side, one thread each (~23 min), sharing the mapped cache. The gentler pair
#    measured too: the same two commands with --out RUN/plain-gentle and RUN/taught-gentle and, added to
#    each --set: lr_backbone=3.3e-5 lr_head=1e-4 'distill={"l1": 2.0, "rank": 0.6, "ladders": 0}'.
$PY -m training top --config training/configs/top_distill.json --init "$BASE" --cache "$RUN/cache" --anchor livec \
    --out "$RUN/plain" --set threads=1 &
$PY -m training top --config training/configs/top_distill.json --init "$BASE" --cache "$RUN/cache" --anchor livec \
    --out "$RUN/taught" --set threads=1 teacher_labels="$RUN/teacher.json"
wait

# 4. Each student and the shipped overview exported alone (these photos are at most 640 px: the overview reads
#    them all) and scored on the validation photos, paired against the shipped overview.
$PY -m training export --checkpoint "$BASE" --out "$RUN/export/shipped-overview" --version 0.0.1
for name in plain taught; do
    $PY -m training export --checkpoint "$RUN/$name/best.pt" --out "$RUN/export/$name" --version 0.0.1
done
$PY bench/rated_accuracy.py --models "$RUN/export/shipped-overview.onnx" "$RUN/export/plain.onnx" \
    "$RUN/export/taught.onnx" "${BIQSET[@]}" "${LIVEC[@]}" --predictions "$RUN/predictions"
