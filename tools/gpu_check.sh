#!/usr/bin/env bash
# One-shot GPU check (docs/gpu.md): on a machine with an NVIDIA GPU, from a fresh checkout, in a
# few minutes:
#   1. records the GPU, driver and versions; installs what is missing from local wheels (--wheels)
#   2. runs the tests marked `gpu` (tests/test_gpu.py: every GPU sparse backend against dense conv3d
#      and each other, one checkpoint across backends, AMP, a 1-GPU NCCL torchrun, VoteNet/3DETR
#      predict GPU == CPU)
#   3. runs tools/benchmark_sparse.py on the GPU: SR-UNet34C forward and forward+backward at about
#      160k voxels, every backend, fp32 and AMP
#   4. writes OUT/gpu_check.json and OUT/gpu_check.txt (tools/gpu_check_summary.py), with the issue's
#      targets: spconv forward <= 0.04 s, torch backend within 3x of spconv.
#
#   tools/gpu_check.sh [--python PY] [--wheels DIR] [--out DIR] [--voxels N] [--repeats N] [--arch 34C] [--device cpu]
#
# --device cpu: a rehearsal of every step on a machine without a GPU (the gpu tests skip, the
# benchmark runs on CPU): checks the script itself before a GPU session spends its minutes.
#
# --wheels DIR: *.whl and/or gpu_site.tar.xz (tools/fetch_gpu_wheels.sh) for what the machine lacks; they
# go to a private --target folder (no deps resolved, no index), never into the machine's own environment.
# Exit status: 0 when every gpu test passed (skips allowed), 1 otherwise, 2 when there is no GPU.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=python3
[ -x "$REPO/.venv/bin/python" ] && PYTHON=$REPO/.venv/bin/python
WHEELS=""
OUT=$REPO/gpu_check_out
VOXELS=160000
REPEATS=5
DEVICE=cuda
ARCH=34C
TEST_TIMEOUT=${GPU_CHECK_TEST_TIMEOUT:-300}
BENCH_TIMEOUT=${GPU_CHECK_BENCH_TIMEOUT:-150}

die() { echo "error: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --python) PYTHON=${2:?--python needs a value}; shift 2 ;;
        --wheels) WHEELS=${2:?--wheels needs a value}; shift 2 ;;
        --out) OUT=${2:?--out needs a value}; shift 2 ;;
        --voxels) VOXELS=${2:?--voxels needs a value}; shift 2 ;;
        --repeats) REPEATS=${2:?--repeats needs a value}; shift 2 ;;
        --device) DEVICE=${2:?--device needs a value}; shift 2 ;;
        --arch) ARCH=${2:?--arch needs a value}; shift 2 ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
[[ $DEVICE == cuda || $DEVICE == cpu ]] || die "--device takes cuda or cpu (a rehearsal), got '$DEVICE'"
[ -z "$WHEELS" ] || [ -d "$WHEELS" ] || die "--wheels $WHEELS: directory not found"
[[ $VOXELS =~ ^[0-9]+$ && $REPEATS =~ ^[1-9][0-9]*$ ]] || die "--voxels and --repeats take positive integers"
command -v "$PYTHON" >/dev/null 2>&1 || die "--python $PYTHON: interpreter not found"
mkdir -p "$OUT"
start=$(date +%s)
log() { echo "[gpu_check +$(( $(date +%s) - start ))s] $*"; }

# ---- 1. machine and packages
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/nvidia_smi.txt" 2>&1 \
    || echo "nvidia-smi failed" > "$OUT/nvidia_smi.txt"
log "GPU: $(head -n 1 "$OUT/nvidia_smi.txt")"
[ "$DEVICE" = cpu ] || "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || die "$PYTHON: torch does not see a CUDA device (nvidia-smi: $(head -n 1 "$OUT/nvidia_smi.txt"))"

missing() {  # modules voxclip and its GPU checks import, that do not import here
    "$PYTHON" - <<'EOF'
import importlib
mods = ["mmengine", "open_clip", "timm", "plyfile", "fpsample", "scipy", "h5py", "tqdm", "PIL", "matplotlib",
        "pytest", "spconv.pytorch"]
bad = []
for m in mods:
    try:
        importlib.import_module(m)
    except Exception:
        bad.append(m)
print(" ".join(bad))
EOF
}
MISSING=$(missing)
if [ -n "$MISSING" ] && [ -n "$WHEELS" ]; then
    # *.whl files, and/or gpu_site.tar.xz from tools/fetch_gpu_wheels.sh (an unpacked --target folder)
    SITE=${GPU_CHECK_SITE:-/tmp/voxclip_gpu_site}
    mkdir -p "$SITE"
    log "missing: $MISSING; installing from $WHEELS into $SITE"
    for archive in "$WHEELS"/*.tar.xz; do
        [ -e "$archive" ] && tar -C "$SITE" -xJf "$archive"
    done
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
            "$WHEELS"/*.whl > "$OUT/pip_install.log" 2>&1 || { log "wheel install failed:"; tail -n 20 "$OUT/pip_install.log"; }
    fi
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    MISSING=$(missing)
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
echo "$MISSING" > "$OUT/missing_modules.txt"
[ -z "$MISSING" ] || log "still missing: $MISSING (tests that need them skip or fail; tools/fetch_gpu_wheels.sh)"
case " $MISSING " in
    *" mmengine "*|*" pytest "*) die "mmengine and pytest are needed to run the checks: pass --wheels DIR (tools/fetch_gpu_wheels.sh)" ;;
esac
"$PYTHON" "$REPO/docker/check_env.py" --cuda cpu --spconv none > "$OUT/check_env.txt" 2>&1 || true
log "environment: $(grep -h '^ok: torch\|^ok: voxclip' "$OUT/check_env.txt" | tr '\n' ' ')"

# ---- 2. tests marked gpu
log "pytest -m gpu (timeout ${TEST_TIMEOUT}s)"
(cd "$REPO" && timeout "$TEST_TIMEOUT" "$PYTHON" -m pytest -m gpu -q -rA -p no:cacheprovider tests \
    --junitxml "$OUT/gpu_tests.xml") > "$OUT/gpu_tests.log" 2>&1
TEST_RC=$?
tail -n 15 "$OUT/gpu_tests.log"

# ---- 3. benchmark
log "benchmark_sparse.py --device $DEVICE --arch $ARCH --voxels $VOXELS --repeats $REPEATS --precision fp32,amp (timeout ${BENCH_TIMEOUT}s)"
timeout "$BENCH_TIMEOUT" "$PYTHON" "$REPO/tools/benchmark_sparse.py" --device "$DEVICE" --arch "$ARCH" --voxels "$VOXELS" \
    --repeats "$REPEATS" --threads "$OMP_NUM_THREADS" --precision fp32,amp \
    --json "$OUT/benchmark_sparse_gpu.json" > "$OUT/benchmark_sparse_gpu.txt" 2>&1
BENCH_RC=$?
cat "$OUT/benchmark_sparse_gpu.txt" | grep -v "Warning\|warn(" | tail -n 12

# ---- 4. summary
"$PYTHON" "$REPO/tools/gpu_check_summary.py" --out "$OUT" --test-rc "$TEST_RC" --bench-rc "$BENCH_RC" \
    --seconds "$(( $(date +%s) - start ))"
SUMMARY_RC=$?
log "done: $OUT/gpu_check.json, $OUT/gpu_check.txt"
[ "$TEST_RC" = 0 ] && [ "$BENCH_RC" = 0 ] && [ "$SUMMARY_RC" = 0 ] && exit 0
exit 1
