#!/usr/bin/env bash
# One install recipe, two users: the GPU image (docker/Dockerfile runs exactly this) and a plain
# Python environment (a venv, conda, a cluster module). Every step of the image is here:
#   1. system packages (--system-packages; apt, as root)
#   2. torch + torchvision built for the CUDA major version of the toolkit's nvcc
#   3. spconv 2.3.8: the spconv-cu12x wheel matching the toolkit (the CPU package without CUDA)
#   4. optionally MinkowskiEngine 0.5.4 from its sdist, with the CUDA 12 patches (build_minkowski.sh)
#   5. voxclip and its runtime dependencies (pip install -e .)
#   6. the version-consistency check (docker/check_env.py): torch CUDA == nvcc major, one spconv
#      variant matching it, voxclip's requirements satisfied, every module importing.
#
#   docker/install.sh [--python PY] [--cuda auto|cpu|MAJOR.MINOR] [--system-packages]
#                     [--minkowski SDIST] [--no-spconv] [--extras LIST] [--torch SPEC --torchvision SPEC]
#                     [--wheels DIR] [--offline] [--no-editable] [--dry-run] [--check]
#
# --cuda auto (default) reads nvcc's release (PATH, then $CUDA_HOME/bin); no nvcc means cpu.
# --wheels DIR installs from local wheels first (pip --find-links); --offline never reaches an index
# (what is not installed already must be in DIR). --dry-run prints the plan; --check runs only step 6.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SPCONV_VERSION=2.3.8
# PyPI's torch 2.8.0 wheels are built against CUDA 12.8 (nvidia-cuda-runtime-cu12 12.8); any CUDA 12
# toolkit builds extensions against them (torch refuses only a different major version).
TORCH_CUDA12=torch==2.8.0
TORCHVISION_CUDA12=torchvision==0.23.0
# Python for the image, compilers and OpenBLAS for MinkowskiEngine, libusb/libGL for open3d.
SYSTEM_PACKAGES="python3 python3-dev python3-pip python3-venv python-is-python3 git build-essential ninja-build
libopenblas-dev libusb-1.0-0 libgl1 libgomp1"

PYTHON=python3
CUDA=auto
SYSTEM=0
MINKOWSKI=""
SPCONV=1
EXTRAS="tensorboard"
TORCH_SPEC=""
TORCHVISION_SPEC=""
WHEELS=""
OFFLINE=0
EDITABLE=1
DRY_RUN=0
CHECK_ONLY=0

die() { echo "error: $*" >&2; exit 2; }
usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
need_value() { [ $# -ge 2 ] || die "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --python) need_value "$@"; PYTHON=$2; shift 2 ;;
        --cuda) need_value "$@"; CUDA=$2; shift 2 ;;
        --system-packages) SYSTEM=1; shift ;;
        --minkowski) need_value "$@"; MINKOWSKI=$2; shift 2 ;;
        --no-spconv) SPCONV=0; shift ;;
        --extras) need_value "$@"; EXTRAS=$2; shift 2 ;;
        --torch) need_value "$@"; TORCH_SPEC=$2; shift 2 ;;
        --torchvision) need_value "$@"; TORCHVISION_SPEC=$2; shift 2 ;;
        --wheels) need_value "$@"; WHEELS=$2; shift 2 ;;
        --offline) OFFLINE=1; shift ;;
        --no-editable) EDITABLE=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --check) CHECK_ONLY=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done

# ---- argument checks -------------------------------------------------------------------------
[[ $CUDA =~ ^(auto|cpu|[0-9]+\.[0-9]+)$ ]] || die "--cuda must be auto, cpu or MAJOR.MINOR (e.g. 12.8), got '$CUDA'"
[[ $EXTRAS =~ ^[a-z0-9,_-]*$ ]] || die "--extras is a comma-separated list of voxclip extras, got '$EXTRAS'"
[ -z "$WHEELS" ] || [ -d "$WHEELS" ] || die "--wheels $WHEELS: directory not found"
[ -z "$MINKOWSKI" ] || [ -f "$MINKOWSKI" ] || die "--minkowski $MINKOWSKI: sdist not found (download MinkowskiEngine-0.5.4.tar.gz from PyPI into third_party/)"
if [ "$SYSTEM" = 1 ] && [ "$CHECK_ONLY" = 0 ]; then  # first: the CUDA base image has no Python yet
    [ "$DRY_RUN" = 1 ] || [ "$(id -u)" = 0 ] || die "--system-packages installs with apt-get and needs root"
    echo "[install] system packages: apt-get install ${SYSTEM_PACKAGES//$'\n'/ }"
    if [ "$DRY_RUN" = 0 ]; then
        apt-get update
        # shellcheck disable=SC2086  # a list of package names
        apt-get install -y --no-install-recommends $SYSTEM_PACKAGES
        rm -rf /var/lib/apt/lists/*
    fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "--python $PYTHON: interpreter not found"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "voxclip needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1)"

nvcc_release() {  # prints MAJOR.MINOR of the nvcc that a CUDA build would use, or nothing
    local nvcc
    nvcc=$(command -v nvcc 2>/dev/null || true)
    if [ -z "$nvcc" ] && [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then nvcc=$CUDA_HOME/bin/nvcc; fi
    [ -n "$nvcc" ] || return 0
    "$nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1
}
NVCC=$(nvcc_release)
if [ "$CUDA" = auto ]; then
    CUDA=${NVCC:-cpu}
elif [ "$CUDA" != cpu ] && [ -n "$NVCC" ] && [ "${NVCC%%.*}" != "${CUDA%%.*}" ]; then
    die "--cuda $CUDA but nvcc is CUDA $NVCC: extensions (MinkowskiEngine) need the same major version as torch"
fi
if [ -n "$MINKOWSKI" ] && [ "$CUDA" != cpu ] && [ -z "$NVCC" ]; then
    die "--minkowski with --cuda $CUDA needs nvcc (a CUDA devel toolkit, e.g. the nvidia/cuda *-devel image)"
fi
CUDA_MAJOR=${CUDA%%.*}
CUDA_MINOR=${CUDA#*.}

# ---- the plan ----------------------------------------------------------------------------------
if [ "$CUDA" = cpu ]; then
    TORCH_DEFAULT="torch torchvision"  # the registry build runs on CPU (docs/development.md)
    SPCONV_PKG=spconv
elif [ "$CUDA_MAJOR" = 12 ]; then
    TORCH_DEFAULT="$TORCH_CUDA12 $TORCHVISION_CUDA12"
    if [ "$CUDA_MINOR" -ge 6 ]; then SPCONV_PKG=spconv-cu126
    elif [ "$CUDA_MINOR" -ge 4 ]; then SPCONV_PKG=spconv-cu124
    elif [ "$CUDA_MINOR" -ge 1 ]; then SPCONV_PKG=spconv-cu121
    else SPCONV_PKG=""; fi
elif [ "$CUDA_MAJOR" = 13 ]; then
    TORCH_DEFAULT="torch torchvision"  # the registry's current torch is the CUDA 13 build
    SPCONV_PKG=""
else
    die "CUDA $CUDA is not supported: use a CUDA 12 toolkit (or cpu)"
fi
if [ "$SPCONV" = 1 ] && [ -z "$SPCONV_PKG" ]; then
    die "spconv $SPCONV_VERSION has no wheel for CUDA $CUDA (wheels: cu121, cu124, cu126); use a CUDA 12.1+ toolkit or --no-spconv"
fi
TORCH_PKGS=$TORCH_DEFAULT
if [ -n "$TORCH_SPEC$TORCHVISION_SPEC" ]; then
    [ -n "$TORCH_SPEC" ] && [ -n "$TORCHVISION_SPEC" ] || die "--torch and --torchvision go together (matching versions)"
    TORCH_PKGS="$TORCH_SPEC $TORCHVISION_SPEC"
fi
SPCONV_REQ=""
[ "$SPCONV" = 1 ] && SPCONV_REQ="$SPCONV_PKG==$SPCONV_VERSION"

PIP=("$PYTHON" -m pip install)
[ -n "$WHEELS" ] && PIP+=(--find-links "$WHEELS")
[ "$OFFLINE" = 1 ] && PIP+=(--no-index)
VOXCLIP_TARGET=$REPO
[ -n "$EXTRAS" ] && VOXCLIP_TARGET="$REPO[$EXTRAS]"
VOXCLIP_ARGS=()
# Offline there is no index to fetch setuptools into an isolated build environment.
[ "$OFFLINE" = 1 ] && VOXCLIP_ARGS+=(--no-build-isolation)
[ "$EDITABLE" = 1 ] && VOXCLIP_ARGS+=(-e)
CHECK=("$PYTHON" "$HERE/check_env.py" --cuda "$CUDA" --spconv "${SPCONV_REQ:-none}")
[ -n "$MINKOWSKI" ] && CHECK+=(--minkowski)

step() {  # step NAME CMD...: print, then run unless --dry-run
    local name=$1
    shift
    echo "[install] $name: $(printf '%q ' "$@")"
    [ "$DRY_RUN" = 1 ] || "$@"
}

echo "[install] python=$("$PYTHON" -c 'import sys; print(sys.executable)') cuda=$CUDA nvcc=${NVCC:-none} spconv=${SPCONV_REQ:-none} minkowski=${MINKOWSKI:-no}"
if [ "$CHECK_ONLY" = 1 ]; then
    step check "${CHECK[@]}"
    exit 0
fi

[ "$OFFLINE" = 1 ] || step pip "${PIP[@]}" --upgrade pip
# shellcheck disable=SC2086  # TORCH_PKGS is a list of requirement specs
step torch "${PIP[@]}" $TORCH_PKGS
if [ -n "$SPCONV_REQ" ]; then
    # spconv variants share the `spconv` module: another one installed would shadow this one.
    others=$("$PYTHON" - "$SPCONV_PKG" <<'EOF'
import sys
from importlib import metadata
want = sys.argv[1]
names = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
print(" ".join(sorted(n for n in names if n.startswith("spconv") and n != want)))
EOF
)
    [ -z "$others" ] || step "remove other spconv variants" "$PYTHON" -m pip uninstall -y $others
    step spconv "${PIP[@]}" "$SPCONV_REQ"
fi
if [ -n "$MINKOWSKI" ]; then
    if [ "$CUDA" = cpu ]; then
        step minkowski env PYTHON="$PYTHON" CPU_ONLY=1 bash "$HERE/build_minkowski.sh" "$MINKOWSKI"
    else
        step minkowski env PYTHON="$PYTHON" bash "$HERE/build_minkowski.sh" "$MINKOWSKI"
    fi
fi
step voxclip "${PIP[@]}" "${VOXCLIP_ARGS[@]}" "$VOXCLIP_TARGET"
step check "${CHECK[@]}"
