#!/usr/bin/env bash
# How stable is the `make demo` headline? Trains and evaluates the demo config once per
# (seed, thread count) on the same generated scenes and writes one line per run, then the spread.
# Usage: tools/measure_demo_spread.sh PY OUT_DIR [SCHEDULE]
#   SCHEDULE: groups run one after another, the seed:threads runs of a group side by side; default
#   "0:1,1:1,2:1 0:2 1:2 2:2" (the 1-thread runs together, each 2-thread run alone: a 2-thread run
#   sharing its cores waits on every barrier). Results depend on seed and thread count, not on load.
# Writes OUT_DIR/spread.tsv (seed, threads, mAP@0.25, mAP@0.5, wall s, cpu s) and OUT_DIR/<run>/.
# docs/benchmarks.md records the figures; the range it finds is what tools/run_demo.sh prints.
set -euo pipefail
PY="$1"; OUT="$2"; SCHEDULE="${3:-0:1,1:1,2:1 0:2 1:2 2:2}"
CFG="${DEMO_CFG:-configs/demo/votenet_srunet_demo.py}"
RAW="$OUT/raw"; DATA="$OUT/data"
mkdir -p "$OUT"
if [ ! -f "$DATA/.prepared" ]; then
    # the scenes `make demo` writes (Makefile: DEMO_SCENES, DEMO_VAL_FRACTION)
    "$PY" tools/make_demo_data.py "$RAW" --scenes "${DEMO_SCENES:-120}" --val-fraction "${DEMO_VAL_FRACTION:-0.4}" \
        --frames 0 --seed 0 > "$OUT/data.log" 2>&1
    "$PY" tools/prepare_scannet.py "$RAW" "$DATA" --workers "$(nproc)" >> "$OUT/data.log" 2>&1
    touch "$DATA/.prepared"
fi
roots() { for loader in "$@"; do echo "$loader.dataset.data_root=$DATA"; done; }

one_run() {  # seed threads
    local seed="$1" threads="$2" work="$OUT/seed${1}_t${2}"
    mkdir -p "$work"
    # shellcheck disable=SC2046
    OMP_NUM_THREADS="$threads" /usr/bin/time -f "%e %U %S" -o "$work/time.txt" \
        "$PY" tools/train.py "$CFG" --work-dir "$work" --cfg-options randomness.seed="$seed" \
        $(roots train_dataloader val_dataloader test_dataloader) > "$work/train.log" 2>&1
    local ckpt; ckpt="$work/$(xargs basename < "$work/last_checkpoint")"
    # shellcheck disable=SC2046
    OMP_NUM_THREADS="$threads" "$PY" tools/test.py "$CFG" "$ckpt" --work-dir "$work" \
        --cfg-options $(roots test_dataloader) > "$work/eval.log" 2>&1
    local line; line=$(grep -E '^mAP@0.25: ' "$work/eval.log" | tail -n 1)
    read -r wall user sys < "$work/time.txt"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$seed" "$threads" "$(awk '{print $2}' <<< "$line")" \
        "$(awk '{print $4}' <<< "$line")" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
        >> "$OUT/spread.tsv"
}

printf 'seed\tthreads\tmAP@0.25\tmAP@0.5\twall_s\tcpu_s\n' > "$OUT/spread.tsv"
for group in $SCHEDULE; do
    pids=()
    for run in ${group//,/ }; do
        s="${run%%:*}"; t="${run##*:}"
        ( one_run "$s" "$t" || echo "run seed $s threads $t failed: $OUT/seed${s}_t${t}" >&2 ) &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
done
"$PY" - "$OUT/spread.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
vals = [float(r["mAP@0.25"]) for r in rows if r["mAP@0.25"]]
if vals:
    print(f"{len(vals)} runs: mAP@0.25 {min(vals):.4f}-{max(vals):.4f} (spread {max(vals) - min(vals):.4f})")
EOF
