#!/usr/bin/env bash
# Pack what a GPU machine without network lacks for tools/gpu_check.sh into one archive (docs/gpu.md).
# Run on a machine WITH network; the archive then travels to the GPU machine:
#
#   tools/fetch_gpu_wheels.sh OUT_DIR [PYTHON_VERSION]     (default 3.12: the lent H200 machine's python3)
#   tools/gpu_check.sh --wheels OUT_DIR                      (on the GPU machine)
#
# The set: mmengine, open_clip_torch, plyfile, fpsample and spconv-cu126 2.3.8 with their pure-Python
# needs that such an image lacks (torch, numpy, scipy, timm, h5py, ... are expected there). Wheels are
# unpacked into a --target folder and packed as OUT_DIR/gpu_site.tar.xz: spconv's 284 MB library is a
# 70 MB wheel but about 26 MB in xz, which fits a 64 MiB transfer.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [PYTHON_VERSION]" >&2; exit 2; }
OUT=$1
PYV=${2:-3.12}
[[ $PYV =~ ^3\.[0-9]+$ ]] || { echo "error: PYTHON_VERSION must look like 3.12, got '$PYV'" >&2; exit 2; }
PYTHON=${PYTHON:-python3}
PKGS=(mmengine==0.10.7 addict yapf termcolor platformdirs open_clip_torch ftfy wcwidth plyfile fpsample
      spconv-cu126==2.3.8 "cumm-cu126>=0.7.11,<0.8" pccm ccimport fire lark)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m pip install -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --target "$work/site" "${PKGS[@]}"
mkdir -p "$OUT"
tar -C "$work/site" -cf - . | xz -T0 -6 > "$OUT/gpu_site.tar.xz.tmp"
mv "$OUT/gpu_site.tar.xz.tmp" "$OUT/gpu_site.tar.xz"
ls -la "$OUT/gpu_site.tar.xz"
