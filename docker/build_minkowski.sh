#!/usr/bin/env bash
# Build MinkowskiEngine 0.5.4 from its sdist (steps and patches: docs/sparse_backends.md).
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
    flags="--blas=openblas"
fi
# setup.py uninstalls any installed MinkowskiEngine whenever it runs: build a wheel, then install it.
MAX_JOBS="${MAX_JOBS:-4}" "$PY" setup.py bdist_wheel $flags
"$PY" -m pip install --no-deps dist/*.whl
"$PY" -c "import MinkowskiEngine as ME; print('MinkowskiEngine', ME.__version__)"
