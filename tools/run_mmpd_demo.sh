#!/usr/bin/env bash
# The MMPD chain on embedded synthetic data (`make demo-mmpd`), in tools/run_demo.sh's style:
# generate raw ScanNet-format scenes, prepare them, extract their 2D-3D pairs, write a random tiny
# CLIP and DINOv2, pretrain stage 1 (multi-teacher contrastive), stage 2 (masked distillation from
# stage 1), fine-tune 3DETR from the stage-2 encoder, evaluate, print the AP table.
# Arguments: PY RAW OUT WORK_ROOT. Environment: DEMO_SCENES (48), DEMO_CLIP, DEMO_DINOV2 (random
# files), DEMO_STAGE1_OPTIONS / DEMO_STAGE2_OPTIONS / DEMO_TRAIN_OPTIONS (extra --cfg-options),
# DEMO_SCRATCH=1 (also train 3DETR from scratch and print both mAP lines).
# The teachers are RANDOM: the figures show that the chain runs, not what the method gains.
set -euo pipefail
PY="$1"; RAW="$2"; OUT="$3"; WORK="$4"
SCENES="${DEMO_SCENES:-48}"
CLIP="${DEMO_CLIP:-data/demo_clip/tiny_rn_clip.pt}"
DINO="${DEMO_DINOV2:-data/demo_clip/tiny_dinov2.safetensors}"
S1_CFG=configs/demo/mmpd_stage1_demo.py; S2_CFG=configs/demo/mmpd_stage2_demo.py; DET_CFG=configs/demo/mmpd_3detr_demo.py
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)
total=7; [ "${DEMO_SCRATCH:-0}" = 1 ] && total=8
n=0
step() { n=$((n + 1)); echo; echo "=== [demo $(( $(date +%s) - start ))s] $n/$total $*"; }
roots() { for loader in "$@"; do echo "$loader.dataset.data_root=$OUT"; done; }
last_ckpt() { echo "$1/$(xargs basename < "$1/last_checkpoint")"; }
evaluate() {  # CFG CKPT WORK [cfg options...]
    local cfg="$1" ckpt="$2" work="$3"; shift 3
    # shellcheck disable=SC2046
    "$PY" tools/test.py "$cfg" "$ckpt" --work-dir "$work" --cfg-options $(roots test_dataloader) "$@" \
        > "$work/eval.log" 2>&1 \
        || { tail -n 30 "$work/eval.log"; echo "[demo] evaluation failed; full log: $work/eval.log" >&2; exit 1; }
}

source "$(dirname "$0")/demo_trees.sh"
fresh_demo_trees "$RAW" "$OUT"
step "writing $SCENES synthetic ScanNet-format scenes to $RAW"
"$PY" tools/make_demo_data.py "$RAW" --scenes "$SCENES" --seed 0
step "preparing them with tools/prepare_scannet.py -> $OUT"
"$PY" tools/prepare_scannet.py "$RAW" "$OUT" --workers "$(nproc)"
step "extracting 2D-3D pairs -> $OUT/pairs; random tiny CLIP -> $CLIP, random tiny DINOv2 -> $DINO"
"$PY" tools/extract_scannet_pairs.py "$RAW" "$OUT" --frame-skip 10 --workers "$(nproc)"
[ -f "$CLIP" ] || "$PY" tools/make_random_clip.py "$CLIP" --model-cfg tiny
[ -f "$DINO" ] || "$PY" tools/make_random_dinov2.py "$DINO" --tiny
step "stage 1: $S1_CFG (RANDOM teachers; work dir $WORK/stage1)"
# shellcheck disable=SC2046,SC2086
"$PY" tools/train.py "$S1_CFG" --work-dir "$WORK/stage1" --cfg-options $(roots train_dataloader) \
    "model.teachers.text.weights=$CLIP" "model.teachers.clip_image.weights=$CLIP" \
    "model.teachers.dinov2.weights=$DINO" ${DEMO_STAGE1_OPTIONS:-}
C1="$(last_ckpt "$WORK/stage1")"
step "stage 2: $S2_CFG from $C1 (work dir $WORK/stage2)"
# shellcheck disable=SC2046,SC2086
"$PY" tools/train.py "$S2_CFG" --work-dir "$WORK/stage2" --cfg-options $(roots train_dataloader) \
    "model.teacher.checkpoint=$C1" "model.pretrained.checkpoint=$C1" ${DEMO_STAGE2_OPTIONS:-}
C2="$(last_ckpt "$WORK/stage2")"
step "3DETR fine-tuning: $DET_CFG from $C2 (work dir $WORK/3detr)"
# shellcheck disable=SC2046,SC2086
"$PY" tools/train.py "$DET_CFG" --work-dir "$WORK/3detr" \
    --cfg-options $(roots train_dataloader val_dataloader test_dataloader) "model.pretrained.checkpoint=$C2" \
    ${DEMO_TRAIN_OPTIONS:-}
if [ "${DEMO_SCRATCH:-0}" = 1 ]; then
    step "3DETR from scratch (same config, model.pretrained=None; work dir $WORK/3detr_scratch)"
    # shellcheck disable=SC2046,SC2086
    "$PY" tools/train.py "$DET_CFG" --work-dir "$WORK/3detr_scratch" \
        --cfg-options $(roots train_dataloader val_dataloader test_dataloader) model.pretrained=None \
        ${DEMO_TRAIN_OPTIONS:-}
fi
step "evaluating on the validation scenes"
evaluate "$DET_CFG" "$(last_ckpt "$WORK/3detr")" "$WORK/3detr" "model.pretrained=None"
if [ "${DEMO_SCRATCH:-0}" = 1 ]; then
    evaluate "$DET_CFG" "$(last_ckpt "$WORK/3detr_scratch")" "$WORK/3detr_scratch" "model.pretrained=None"
fi
echo "[demo] finished in $(( $(date +%s) - start ))s; logs and checkpoints in $WORK"
echo
# The table tools/test.py printed last: per-class AP, then the mAP line.
sed -n '/^class  *AP@0.25  AP@0.5$/,$p' "$WORK/3detr/eval.log" | tail -n 30
if [ "${DEMO_SCRATCH:-0}" = 1 ]; then
    echo "from scratch: $(grep -E '^mAP' "$WORK/3detr_scratch/eval.log" | tail -n 1)"
fi
