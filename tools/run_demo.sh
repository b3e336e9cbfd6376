#!/usr/bin/env bash
# The main job on embedded synthetic data: generate raw ScanNet-format scenes, prepare them,
# train the demo config, evaluate, and print the per-class AP table and the mAP line.
# With a 6th argument (a pretraining config) the job first extracts the RGB-D 2D-3D pairs from the
# scenes' .sens streams, writes a random tiny CLIP, pretrains, and fine-tunes from the checkpoint
# that pretraining just wrote (the Text4Point demo chain).
# Environment: DEMO_SCENES (48; `make demo` 120), DEMO_VAL_FRACTION (0.25; `make demo` 0.4), DEMO_FRAMES
# (RGB-D frames per .sens: 10 with a pretraining config, which reads them, else 0), DEMO_CLIP (data/demo_clip/tiny_rn_clip.pt), DEMO_PRETRAIN_WORK
# (work_dirs/<pretraining config name>), DEMO_TRAIN_OPTIONS / DEMO_PRETRAIN_OPTIONS (extra
# --cfg-options, e.g. a shorter schedule; tests/test_demo_script.py uses them).
# Other pretraining chains (defaults: Text4Point's keys): DEMO_PRETRAIN_CLIP_KEYS (config keys set
# to the CLIP file in pretraining), DEMO_FINETUNE_CKPT_KEY (key set to the pretraining checkpoint),
# DEMO_FINETUNE_CLIP_KEYS (keys set to the CLIP file in fine-tuning), DEMO_CLIPCAP (a random ClipCap
# mapper file, written if missing and set as model.teacher.mapper.checkpoint; concept alignment).
set -euo pipefail
PY="$1"; RAW="$2"; OUT="$3"; CFG="$4"; WORK="$5"; PRETRAIN_CFG="${6:-}"
SCENES="${DEMO_SCENES:-48}"
VAL_FRACTION="${DEMO_VAL_FRACTION:-0.25}"
FRAMES="${DEMO_FRAMES:-$([ -n "$PRETRAIN_CFG" ] && echo 10 || echo 0)}"
CLIP="${DEMO_CLIP:-data/demo_clip/tiny_rn_clip.pt}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)
total=4; [ -n "$PRETRAIN_CFG" ] && total=6
n=0
step() { n=$((n + 1)); echo; echo "=== [demo $(( $(date +%s) - start ))s] $n/$total $*"; }
roots() { for loader in "$@"; do echo "$loader.dataset.data_root=$OUT"; done; }
last_ckpt() { echo "$1/$(xargs basename < "$1/last_checkpoint")"; }
# Training output: the full log goes to LOG (config dump, environment, every logged iteration); the
# screen gets tools/demo_console.py's view (one progress bar, losses, validation, warnings, errors).
# DEMO_VERBOSE=1 shows the full log instead.
quiet() {
    local log="$1"; shift
    mkdir -p "$(dirname "$log")"
    if [ -n "${DEMO_VERBOSE:-}" ]; then "$@" 2>&1 | tee "$log"
    else "$@" 2>&1 | tee "$log" | "$PY" tools/demo_console.py
    fi || { echo "[demo] failed; full log: $log" >&2; exit 1; }
    echo "[demo] full log: $log"
}

source "$(dirname "$0")/demo_trees.sh"
fresh_demo_trees "$RAW" "$OUT"
step "writing $SCENES synthetic ScanNet-format scenes (mesh, segs, aggregation, axis alignment, .sens with $FRAMES frames) to $RAW"
"$PY" tools/make_demo_data.py "$RAW" --scenes "$SCENES" --val-fraction "$VAL_FRACTION" --frames "$FRAMES" --seed 0
step "preparing them with tools/prepare_scannet.py -> $OUT"
"$PY" tools/prepare_scannet.py "$RAW" "$OUT" --workers "$(nproc)"
FINETUNE_OPTIONS=()
if [ -n "$PRETRAIN_CFG" ]; then
    PRETRAIN_WORK="${DEMO_PRETRAIN_WORK:-work_dirs/$(basename "$PRETRAIN_CFG" .py)}"
    step "extracting 2D-3D pairs from the .sens streams -> $OUT/pairs; random tiny CLIP -> $CLIP"
    "$PY" tools/extract_scannet_pairs.py "$RAW" "$OUT" --frame-skip 10 --workers "$(nproc)"
    [ -f "$CLIP" ] || "$PY" tools/make_random_clip.py "$CLIP" --model-cfg tiny
    PRETRAIN_OPTIONS=()
    for key in ${DEMO_PRETRAIN_CLIP_KEYS:-model.image_encoder.weights model.text.text_encoder.weights}; do
        PRETRAIN_OPTIONS+=("$key=$CLIP"); done
    if [ -n "${DEMO_CLIPCAP:-}" ]; then
        [ -f "$DEMO_CLIPCAP" ] || "$PY" tools/make_random_clipcap.py "$DEMO_CLIPCAP"
        PRETRAIN_OPTIONS+=("model.teacher.mapper.checkpoint=$DEMO_CLIPCAP")
    fi
    step "pretraining $PRETRAIN_CFG (RANDOM CLIP: shows the chain runs, not a useful model; work dir $PRETRAIN_WORK)"
    # shellcheck disable=SC2046,SC2086
    quiet "$PRETRAIN_WORK/train.log" "$PY" tools/train.py "$PRETRAIN_CFG" --work-dir "$PRETRAIN_WORK" --cfg-options $(roots train_dataloader) \
        "${PRETRAIN_OPTIONS[@]}" ${DEMO_PRETRAIN_OPTIONS:-}
    FINETUNE_OPTIONS=("${DEMO_FINETUNE_CKPT_KEY:-model.backbone.init_cfg.checkpoint}=$(last_ckpt "$PRETRAIN_WORK")")
    for key in ${DEMO_FINETUNE_CLIP_KEYS-model.text.text_encoder.weights}; do FINETUNE_OPTIONS+=("$key=$CLIP"); done
fi
step "training $CFG (work dir $WORK)"
# shellcheck disable=SC2046,SC2086
quiet "$WORK/train.log" "$PY" tools/train.py "$CFG" --work-dir "$WORK" --cfg-options $(roots train_dataloader val_dataloader test_dataloader) \
    "${FINETUNE_OPTIONS[@]}" ${DEMO_TRAIN_OPTIONS:-}
CKPT="$(last_ckpt "$WORK")"
step "evaluating $CKPT on the validation scenes"
# shellcheck disable=SC2046
"$PY" tools/test.py "$CFG" "$CKPT" --work-dir "$WORK" --show-dir "$WORK/eval" \
    --cfg-options $(roots test_dataloader) "${FINETUNE_OPTIONS[@]}" > "$WORK/eval.log" 2>&1 \
    || { tail -n 30 "$WORK/eval.log"; echo "[demo] evaluation failed; full log: $WORK/eval.log" >&2; exit 1; }
"$PY" tools/plot_logs.py "$WORK" --out "$WORK/training_curves.png" > /dev/null
echo "[demo] finished in $(( $(date +%s) - start ))s; logs and checkpoints in $WORK"
echo "[demo] training curves: $WORK/training_curves.png"
echo "[demo] pictures: $WORK/eval (per scene <id>_bev.png, <id>_persp.png, <id>.ply; pr_sheet.png)"
echo
# The table tools/test.py printed last: per-class AP, then the mAP line.
sed -n '/^class  *AP@0.25  AP@0.5$/,$p' "$WORK/eval.log" | tail -n 30
