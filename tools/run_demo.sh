#!/usr/bin/env bash
# The main job on embedded synthetic data: generate raw ScanNet-format scenes, prepare them,
# train the demo config, evaluate, and print the per-class AP table and the mAP line.
# With a 6th argument (a pretraining config) the job first extracts the RGB-D 2D-3D pairs from the
# scenes' .sens streams, writes a random tiny CLIP, and pretrains (the Text4Point demo chain); the
# fine-tuning config names that run's checkpoint (work_dirs/<pretrain config name>/).
set -euo pipefail
PY="$1"; RAW="$2"; OUT="$3"; CFG="$4"; WORK="$5"; PRETRAIN_CFG="${6:-}"
SCENES="${DEMO_SCENES:-48}"
CLIP="${DEMO_CLIP:-data/demo_clip/tiny_rn_clip.pt}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)
total=4; [ -n "$PRETRAIN_CFG" ] && total=6
n=0
step() { n=$((n + 1)); echo; echo "=== [demo $(( $(date +%s) - start ))s] $n/$total $*"; }
roots() { for loader in "$@"; do echo "$loader.dataset.data_root=$OUT"; done; }

step "writing $SCENES synthetic ScanNet-format scenes (mesh, segs, aggregation, axis alignment, .sens) to $RAW"
"$PY" tools/make_demo_data.py "$RAW" --scenes "$SCENES" --seed 0
step "preparing them with tools/prepare_scannet.py -> $OUT"
"$PY" tools/prepare_scannet.py "$RAW" "$OUT" --workers "$(nproc)"
if [ -n "$PRETRAIN_CFG" ]; then
    step "extracting 2D-3D pairs from the .sens streams -> $OUT/pairs; random tiny CLIP -> $CLIP"
    "$PY" tools/extract_scannet_pairs.py "$RAW" "$OUT" --frame-skip 10 --workers "$(nproc)"
    [ -f "$CLIP" ] || "$PY" tools/make_random_clip.py "$CLIP" --model-cfg tiny
    step "pretraining $PRETRAIN_CFG (RANDOM CLIP: shows the chain runs, not a useful model)"
    "$PY" tools/train.py "$PRETRAIN_CFG" --cfg-options $(roots train_dataloader)
fi
step "training $CFG (work dir $WORK)"
"$PY" tools/train.py "$CFG" --work-dir "$WORK" --cfg-options $(roots train_dataloader val_dataloader test_dataloader)
CKPT="$WORK/$(cat "$WORK/last_checkpoint" | xargs basename)"
step "evaluating $CKPT on the validation scenes"
"$PY" tools/test.py "$CFG" "$CKPT" --work-dir "$WORK" --show-dir "$WORK/eval" \
    --cfg-options $(roots test_dataloader) > "$WORK/eval.log" 2>&1 \
    || { tail -n 30 "$WORK/eval.log"; echo "[demo] evaluation failed; full log: $WORK/eval.log" >&2; exit 1; }
echo "[demo] finished in $(( $(date +%s) - start ))s; logs, checkpoints and PR curves in $WORK"
echo
# The table tools/test.py printed last: per-class AP, then the mAP line.
sed -n '/^class  *AP@0.25  AP@0.5$/,$p' "$WORK/eval.log" | tail -n 30
