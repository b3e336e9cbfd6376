#!/usr/bin/env bash
# Build MinkowskiEngine 0.5.4 from its sdist (steps and patches: docs/sparse_backends.md); step 4 of
# docker/install.sh (--minkowski SDIST).
# Usage: build_minkowski.sh [SDIST] ; CPU_ONLY=1 for a CPU build. Needs torch installed first.
set -euo pipefail
SDIST="${1:-/opt/voxclip/third_party/MinkowskiEngine-0.5.4.tar.gz}"
PY="${PYTHON:-python3}"
if [ ! -f "$SDIST" ]; then
    echo "error: $SDIST not found: download the MinkowskiEngine-0.5.4.tar.gz sdist from PyPI and pass its path" >&2
    exit 1
fi
work=$(mktemp -d)
tar xzf "$SDIST" -C "$work"
cd "$work/MinkowskiEngine-0.5.4"
# Python >= 3.10 removed collections.Sequence.
sed -i 's/^from collections import Sequence, namedtuple/from collections import namedtuple\nfrom collections.abc import Sequence/; s/^from collections import Sequence$/from collections.abc import Sequence/' \
    MinkowskiEngine/MinkowskiCoordinateManager.py MinkowskiEngine/MinkowskiKernelGenerator.py \
    MinkowskiEngine/MinkowskiTensorField.py MinkowskiEngine/MinkowskiCommon.py MinkowskiEngine/utils/quantization.py
if [ "${CPU_ONLY:-0}" = 1 ]; then
    flags="--cpu_only --blas=openblas"
else
    # CUDA 12 thrust no longer pulls these headers in transitively.
    sed -i '1i #include <thrust/execution_policy.h>' src/convolution_kernel.cuh src/3rdparty/concurrent_unordered_map.cuh
    sed -i '1i #include <thrust/unique.h>\n#include <thrust/remove.h>' src/coordinate_map_gpu.cu
    sed -i '1i #include <thrust/execution_policy.h>\n#include <thrust/reduce.h>\n#include <thrust/sort.h>' src/spmm.cu
    # NVTX3: the cuDF headers bundled in src/3rdparty carry their own nvtx3 namespace, which collides
    # with the NVTX3 headers that CUDA 12's thrust/cub include ("ambiguous domain/category";
    # MinkowskiEngine issues #614 and #621): compile every unit with NVTX disabled. nvcc reads
    # NVCC_APPEND_FLAGS, the host compiler CFLAGS/CXXFLAGS.
    export NVCC_APPEND_FLAGS="${NVCC_APPEND_FLAGS:-} -DNVTX_DISABLE"
    export CFLAGS="${CFLAGS:-} -DNVTX_DISABLE" CXXFLAGS="${CXXFLAGS:-} -DNVTX_DISABLE"
    # --force_cuda: a docker build sees no GPU, and setup.py would otherwise fall back to a CPU build.
    flags="--force_cuda --blas=openblas"
fi
# setup.py uninstalls any installed MinkowskiEngine whenever it runs: build a wheel, then install it.
MAX_JOBS="${MAX_JOBS:-4}" "$PY" setup.py bdist_wheel $flags
"$PY" -m pip install --no-deps dist/*.whl
cd /
"$PY" -c "import MinkowskiEngine as ME; print('MinkowskiEngine', ME.__version__)"
