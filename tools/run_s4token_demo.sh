#!/usr/bin/env bash
# The S4Token demo chain (`make demo-s4token`) on embedded synthetic data: generate raw ScanNet-format
# scenes with RGB-D streams, prepare them (superpoint.npy from segs.json), extract the 2D-3D pairs,
# write a random tiny CLIP ViT, pre-train S4Token self-supervised, segment the validation scenes
# open-vocabulary (no labels, no fine-tuning), print the per-class IoU table and the mIoU line, and
# write one query picture ("a chair").
# The CLIP is RANDOM: the figures show that the chain runs, not what the method gains.
# Arguments: PY RAW OUT WORK. Environment: DEMO_SCENES (24), DEMO_CLIP
# (data/demo_clip/tiny_vit_clip.pt), DEMO_PRETRAIN_OPTIONS / DEMO_TEST_OPTIONS (extra --cfg-options).
set -euo pipefail
PY="$1"; RAW="$2"; OUT="$3"; WORK="$4"
SCENES="${DEMO_SCENES:-24}"
CLIP="${DEMO_CLIP:-data/demo_clip/tiny_vit_clip.pt}"
PRE_CFG=configs/demo/s4token_pretrain_demo.py
OV_CFG=configs/demo/s4token_openvocab_demo.py
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)
n=0
step() { n=$((n + 1)); echo; echo "=== [s4token demo $(( $(date +%s) - start ))s] $n/6 $*"; }
last_ckpt() { echo "$1/$(xargs basename < "$1/last_checkpoint")"; }

step "writing $SCENES synthetic ScanNet-format scenes to $RAW"
"$PY" tools/make_demo_data.py "$RAW" --scenes "$SCENES" --seed 0
step "preparing them with tools/prepare_scannet.py -> $OUT (superpoint.npy per scene)"
"$PY" tools/prepare_scannet.py "$RAW" "$OUT" --workers "$(nproc)"
step "extracting 2D-3D pairs -> $OUT/pairs; random tiny CLIP ViT -> $CLIP"
"$PY" tools/extract_scannet_pairs.py "$RAW" "$OUT" --frame-skip 10 --workers "$(nproc)"
[ -f "$CLIP" ] || "$PY" tools/make_random_clip.py "$CLIP" --model-cfg tiny_vit
step "self-supervised pre-training $PRE_CFG (RANDOM CLIP; work dir $WORK/pretrain)"
# shellcheck disable=SC2086
"$PY" tools/train.py "$PRE_CFG" --work-dir "$WORK/pretrain" --cfg-options "train_dataloader.dataset.data_root=$OUT" \
    "model.encoder.weights=$CLIP" "model.image_encoder.weights=$CLIP" ${DEMO_PRETRAIN_OPTIONS:-}
CKPT="$(last_ckpt "$WORK/pretrain")"
CLIP_OPTS=("model.encoder.weights=$CLIP" "model.text_encoder.weights=$CLIP")
step "open-vocabulary segmentation of the validation scenes with $CKPT (no labels, no fine-tuning)"
# shellcheck disable=SC2086
"$PY" tools/test.py "$OV_CFG" "$CKPT" --work-dir "$WORK/openvocab" \
    --cfg-options "test_dataloader.dataset.data_root=$OUT" "${CLIP_OPTS[@]}" ${DEMO_TEST_OPTIONS:-} \
    > "$WORK/openvocab.log" 2>&1 \
    || { tail -n 30 "$WORK/openvocab.log"; echo "[s4token demo] evaluation failed; log: $WORK/openvocab.log" >&2; exit 1; }
SCENE="$OUT/scans/$(head -n 1 "$OUT/splits/val.txt")"
step "query picture: \"a chair\" in $SCENE -> $WORK/query"
"$PY" tools/query.py "$OV_CFG" "$CKPT" "$SCENE" "a chair" --out-dir "$WORK/query" --cfg-options "${CLIP_OPTS[@]}" \
    2>&1 | grep '^\[query\]'
echo "[s4token demo] finished in $(( $(date +%s) - start ))s; logs, checkpoint and query files in $WORK"
echo
# The table tools/test.py printed last: per-class IoU, then the mIoU line.
sed -n '/^class  *IoU$/,$p' "$WORK/openvocab.log" | tail -n 30
