#!/usr/bin/env bash
# The "top" candidate (2026-12-06), on 2 CPU cores: the joint run's first stage gives the trunk;
# its top is retrained on whole 512-px photos of BIQ2021's training split and LIVEC (LIVEC the
# anchor: the score keeps v0.4's LIVEC scale) with verdict ladders of Kodak and the training half
# of the high-resolution photos; v0.4.0's detail graph gets its views retrained on native tiles of
# the same photos, so heavy damage seen only at 100 % is failed. Each step is resumable: rerun.
#   DATA=../shared/data BIQ=/path/to/biq2021 JOINT=runs/joint/stage1/last.pt RUN=runs/top \
#       training/recipes/top_candidate_cpu.sh
# JOINT: training/recipes/joint_candidate_cpu.sh's stage 1 (2 epochs). BIQ: scripts/extract_biq2021.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
BIQ="${BIQ:?the folder scripts/extract_biq2021.py wrote}"
JOINT="${JOINT:?the joint stage 1 checkpoint}"
RUN="${RUN:-runs/top}"
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-$RUN/export/mobileiqa-student}"
DETAIL=resources/models/mobileiqa-student-detail.onnx
BIQSET=(--data biq2021 "$BIQ/Train (Images and MOS).csv" "$BIQ")
LIVEC=(--data livec "$DATA/livec/train.csv" "$DATA/livec")
PRISTINE=(--kodak "$DATA/pristine/kodak" --hires "$DATA/pristine/lomiri" "$DATA/pristine/mate")

# 1. The overview network: its trunk's features once (~12 min), then the top (3 epochs of 384-px feature crops, ~15 min each).
[ -f "$RUN/cache/ladders/index.json" ] || \
    $PY -m training top-cache --init "$JOINT" "${BIQSET[@]}" "${LIVEC[@]}" "${PRISTINE[@]}" --out "$RUN/cache"
$PY -m training top --init "$JOINT" --cache "$RUN/cache" --anchor livec --out "$RUN/overview" --set threads=1

# 2. The detail reader: v0.4.0's graph, its views retrained on 320-px tiles (9 per photo) of the photos at
#    native size and reduced to 2048 and 1024 px.
[ -f "$RUN/detail_cache/ladders/index.json" ] || \
    $PY -m training top-cache --views-onnx "$DETAIL" --config training/configs/views_detail.json "${LIVEC[@]}" \
        "${PRISTINE[@]}" --tiles 320 9 --tile-sides 0 2048 1024 --out "$RUN/detail_cache"
$PY -m training top --config training/configs/views_detail.json --cache "$RUN/detail_cache" --anchor livec \
    --out "$RUN/detail" --set views_onnx="$DETAIL" threads=2

# 3. Export, with the reading in which the worse reader weighs most, and the evaluations.
$PY -m training export --checkpoint "$RUN/overview/best.pt" --detail-onnx "$RUN/detail/views.onnx" "$RUN/detail/best.pt" \
    --out "$OUT" --version "${VERSION:-0.5.0}" --torch-weights --parity --card-extra "${CARD_EXTRA:-training/recipes/top_card.json}"
DATA="$DATA" RUN="$RUN" OUT="$OUT" PY="$PY" training/recipes/evaluate_release.sh
$PY bench/verdict_table.py --models resources/models/mobileiqa-student.onnx "$OUT.onnx" \
    --folders "$DATA/pristine/lomiri" "$DATA/pristine/mate"
$PY bench/rated_accuracy.py --models resources/models/mobileiqa-student.onnx "$OUT.onnx" \
    "${BIQSET[@]}" "${LIVEC[@]}"
