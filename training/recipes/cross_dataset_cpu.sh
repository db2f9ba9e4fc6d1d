#!/usr/bin/env bash
# Cross-dataset models (issue 20's diagnostics, issue 24's sites), on 2 CPU cores: a top trained
# on BIQ2021's training split alone and one on LIVEC alone, over the same frozen trunk, scored on
# both datasets' validation photos. The trunk is ImageNet's efficientnet-lite0 (no rated photo
# has moved it), so "trained on one dataset" holds for the whole network, not only for its top.
# Each step resumes: rerun.
#   DATA=../shared/data BIQ=/path/to/biq2021 RUN=runs/cross training/recipes/cross_dataset_cpu.sh
# BIQ: scripts/extract_biq2021.py. Then the site benchmark on the dataset a base never saw:
#   scripts/site_benchmark.py --base RUN/export/biq-only.onnx --csv DATA/livec/train.csv --root DATA/livec ...
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
BIQ="${BIQ:?the folder scripts/extract_biq2021.py wrote}"
RUN="${RUN:-runs/cross}"
PY="${PY:-.venv/bin/python}"
BIQSET=(--data biq2021 "$BIQ/Train (Images and MOS).csv" "$BIQ")
LIVEC=(--data livec "$DATA/livec/train.csv" "$DATA/livec")
PRISTINE=(--kodak "$DATA/pristine/kodak" --hires "$DATA/pristine/lomiri" "$DATA/pristine/mate")
INIT="$RUN/imagenet/student.pt"

# 1. The ImageNet student (its heads random) and its trunk's features of every rated photo and ladder (~15 min).
[ -f "$INIT" ] || $PY -m training export --config student --out "$RUN/imagenet/student" --torch-weights --version 0.0.0
[ -f "$RUN/cache/ladders/index.json" ] || \
    $PY -m training top-cache --init "$INIT" "${BIQSET[@]}" "${LIVEC[@]}" "${PRISTINE[@]}" --threads 2 --out "$RUN/cache"

# 2. The two tops, side by side on one thread each (BIQ2021: ~20 min an epoch; LIVEC: a few minutes).
#    Each picks its epoch on its own dataset's validation photos; the other's is only scored.
#    The cache is mapped, not read in: the two share one copy (7 GB) in the page cache.
$PY -m training top --init "$INIT" --cache "$RUN/cache" --anchor biq2021 --out "$RUN/biq-only" \
    --set 'train_on=["biq2021"]' threads=1 epochs=3 cache_in_memory=false &
$PY -m training top --init "$INIT" --cache "$RUN/cache" --anchor livec --out "$RUN/livec-only" \
    --set 'train_on=["livec"]' threads=1 epochs=8 patience=3 cache_in_memory=false
wait

# 3. Export (one reader: these photos are at most 640 px) and the paired table on both validation sets.
for name in biq-only livec-only; do
    $PY -m training export --checkpoint "$RUN/$name/best.pt" --out "$RUN/export/$name" --version 0.0.1 --torch-weights
done
$PY bench/rated_accuracy.py --models resources/models/mobileiqa-student.onnx "$RUN/export/biq-only.onnx" \
    "$RUN/export/livec-only.onnx" "${BIQSET[@]}" "${LIVEC[@]}"
