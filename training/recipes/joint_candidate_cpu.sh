#!/usr/bin/env bash
# The joint candidate of 2026-12-06 (not shipped: see the training README's "joint run" section):
# v0.4.0's overview network trained on BIQ2021's training split (the anchor: the score takes its
# laboratory scale) and LIVEC (ranked within itself), with synthetic ranking / map / verdict terms
# on Kodak; then one epoch more with the verdict term at each kind's own heavy level, also on the
# training half of the high-resolution photos reduced to 1536 px (the detail reader's scale).
# 2 CPU cores, one training thread: ~30 min per epoch of 611 steps. Resumable: rerun.
#   DATA=../shared/data BIQ=/path/to/biq2021 RUN=runs/joint training/recipes/joint_candidate_cpu.sh
# BIQ: scripts/extract_biq2021.py SOURCE "$BIQ" brings the training split alone (never the test split).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${DATA:-../shared/data}"
BIQ="${BIQ:?the folder scripts/extract_biq2021.py wrote}"
RUN="${RUN:-runs/joint}"
PY="${PY:-.venv/bin/python}"
SETS=(--data biq2021 "$BIQ/Train (Images and MOS).csv" "$BIQ" --data livec "$DATA/livec/train.csv" "$DATA/livec" --anchor biq2021)
# Stage 1: stopped after 2 of its 4 scheduled epochs (validation had levelled off: mean SRCC 0.798, 0.796).
$PY -m training joint "${SETS[@]}" --init resources/models/mobileiqa-student.pt --pristine "$DATA/pristine/kodak" \
    --out "$RUN/stage1" --epochs 4 --stop-after 2 --crop 288 --set threads=1
# The training half of the high-resolution photos (training.data.hires.split_hires), at 1536 px.
$PY - "$DATA" "$RUN/hires1536" <<'PYEOF'
import sys
from pathlib import Path
from PIL import Image
from app.core.imageio.decode import load_rgb
from app.core.scoring.reading import overview
from training.data.hires import split_hires
data, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for p in split_hires([data / "pristine/lomiri", data / "pristine/mate"])[0]:
    Image.fromarray(overview(load_rgb(p), 1536)).save(out / (p.stem + ".png"))
PYEOF
$PY -m training joint "${SETS[@]}" --init "$RUN/stage1/last.pt" --pristine "$DATA/pristine/kodak" "$RUN/hires1536" \
    --out "$RUN/verdict" --epochs 1 --crop 288 \
    --set threads=1 lr_backbone=3e-5 lr_head=1e-4 warmup_epochs=0.1 aux.crop=288
