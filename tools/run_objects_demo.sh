#!/usr/bin/env bash
# `make demo-objects`: synthetic objects in the ModelNet40 normal_resampled layout -> validated FPS cache
# (tools/prepare_objects.py) -> training of the demo classifier -> evaluation without and with voting
# -> accuracy table (OA, mAcc). Arguments: PY RAW PREPARED CONFIG WORK.
# Environment: DEMO_OBJ_TRAIN (24 objects per class), DEMO_OBJ_TEST (8), DEMO_TRAIN_OPTIONS (extra
# --cfg-options, e.g. a shorter schedule; tests/test_objects_demo.py uses it).
set -euo pipefail
PY="$1"; RAW="$2"; PREP="$3"; CFG="$4"; WORK="$5"
VOTE_CFG="${CFG%_demo.py}_vote_demo.py"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)
n=0
step() { n=$((n + 1)); echo; echo "=== [demo-objects $(( $(date +%s) - start ))s] $n/4 $*"; }
roots() { for loader in train_dataloader val_dataloader test_dataloader; do echo "$loader.dataset.data_root=$PREP"; done; }

step "writing synthetic ModelNet40-format objects (modelnet40_normal_resampled; jittered, random yaw) to $RAW"
"$PY" tools/make_object_demo.py "$RAW" --formats modelnet40_txt --train-per-class "${DEMO_OBJ_TRAIN:-24}" \
    --test-per-class "${DEMO_OBJ_TEST:-8}" --seed 0 --noise 0.02 --random-yaw
step "validating and FPS-resampling them with tools/prepare_objects.py -> $PREP"
"$PY" tools/prepare_objects.py modelnet40 "$RAW/modelnet40_normal_resampled" "$PREP" --num-points 2048 \
    --workers "$(nproc)" --overwrite --no-progress
step "training $CFG (work dir $WORK)"
# shellcheck disable=SC2046,SC2086
"$PY" tools/train.py "$CFG" --work-dir "$WORK" --cfg-options $(roots) ${DEMO_TRAIN_OPTIONS:-}
CKPT="$WORK/$(xargs basename < "$WORK/last_checkpoint")"
step "evaluating $CKPT without and with voting (10 votes)"
for pair in "plain:$CFG" "vote:$VOTE_CFG"; do
    name="${pair%%:*}"; cfg="${pair#*:}"
    # shellcheck disable=SC2046
    "$PY" tools/test.py "$cfg" "$CKPT" --work-dir "$WORK/test_$name" --cfg-options $(roots) \
        "test_evaluator.out_file=$WORK/test_$name.json" > "$WORK/test_$name.log" 2>&1 \
        || { tail -n 30 "$WORK/test_$name.log"; echo "[demo-objects] $name evaluation failed" >&2; exit 1; }
done
echo "[demo-objects] finished in $(( $(date +%s) - start ))s; logs and checkpoints in $WORK"
"$PY" - "$WORK" "$PREP" <<'PYEOF'
import json, sys
work, prep = sys.argv[1], sys.argv[2]
index = json.load(open(f"{prep}/index.json"))
print(f"\nsynthetic ModelNet40-format objects: {index['splits']['train']['count']} train / "
      f"{index['splits']['test']['count']} test, {len(index['classes'])} classes")
print(f"{'protocol':<24}{'OA':>8}{'mAcc':>8}")
for name, label in (("plain", "1024 FPS points"), ("vote", "10 votes")):
    r = json.load(open(f"{work}/test_{name}.json"))["results"]
    print(f"{label:<24}{r['OA']:>8.2f}{r['mAcc']:>8.2f}")
PYEOF
