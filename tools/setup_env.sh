#!/usr/bin/env bash
# Create the virtual environment and install voxclip with its test and CPU-backend extras.
set -euo pipefail
PYTHON="${1:-python3}"
VENV="${2:-.venv}"

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "error: voxclip needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "error: $PYTHON lacks venv/ensurepip; on Debian: apt-get install python3-venv" >&2
    exit 1
fi

# open3d (used to render the synthetic RGB-D frames) links against libusb-1.0.
if [ "$(uname -s)" = Linux ] && ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[setup] installing libusb-1.0-0 (needed by open3d)"
        (apt-get install -y -q libusb-1.0-0 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libusb-1.0-0 >/dev/null; }) \
            || echo "[setup] warning: could not install libusb-1.0-0; open3d-based rendering will fail" >&2
    else
        echo "[setup] warning: libusb-1.0 is missing and this is not root: run 'sudo apt-get install libusb-1.0-0' so open3d imports" >&2
    fi
fi

# The registry torch is a CUDA build: the finished venv holds about 7 GiB. Say so before pip runs
# out of space minutes in with a bare OSError.
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    parent="$(dirname "$VENV")"
    free_kb="$(df -Pk "$parent" 2>/dev/null | awk 'NR == 2 {print $4}')"
    if [ -n "$free_kb" ] && [ "$free_kb" -lt $((8 * 1024 * 1024)) ]; then
        echo "[setup] warning: $((free_kb / 1024 / 1024)) GiB free on the file system of $parent; the venv needs about 8 GiB (torch's CUDA build)" >&2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# Registry torch first, so that no package pulls another build of it later.
echo "[setup] installing torch + torchvision (registry build; a few minutes on first run)"
"$VENV/bin/python" -m pip install -q torch torchvision
echo "[setup] installing voxclip and its dev extras"
"$VENV/bin/python" -m pip install -q -e ".[dev]"
"$VENV/bin/python" -c "import torch, torchvision, mmengine, open_clip, timm, spconv.pytorch; print('[setup] ok: torch', torch.__version__, 'torchvision', torchvision.__version__)"
