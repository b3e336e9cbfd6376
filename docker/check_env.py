#!/usr/bin/env python
"""Version-consistency check of an environment that docker/install.sh set up (its last step).

    python docker/check_env.py --cuda cpu|MAJOR.MINOR --spconv DIST==VERSION|none [--minkowski]

Fails (exit 1, one `error:` line per problem) when torch is not built for the toolkit's CUDA major
version, nvcc's major differs from torch's (MinkowskiEngine would not build), more than one spconv
variant is installed or the wrong one, a requirement of voxclip is not satisfied, or a module the
code imports does not import. Prints one `ok:` line per component otherwise.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata

# Modules voxclip imports at run time (dependencies in pyproject.toml).
RUNTIME_MODULES = ("numpy", "scipy", "mmengine", "open_clip", "timm", "plyfile", "tqdm", "fpsample", "PIL",
                   "matplotlib", "h5py", "torchvision")


def nvcc_release() -> str | None:
    nvcc = shutil.which("nvcc")
    if nvcc is None and os.environ.get("CUDA_HOME"):
        cand = os.path.join(os.environ["CUDA_HOME"], "bin", "nvcc")
        nvcc = cand if os.access(cand, os.X_OK) else None
    if nvcc is None:
        return None
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"release (\d+\.\d+)", out)
    return m.group(1) if m else None


def major(version: str | None) -> str | None:
    return None if version is None else version.split(".")[0]


def check_torch(cuda: str, errors: list, notes: list):
    try:
        import torch
    except ImportError as exc:
        errors.append(f"torch does not import ({exc}); rerun docker/install.sh")
        return None
    built = torch.version.cuda  # None for a CPU-only build
    if cuda != "cpu" and major(built) != major(cuda):
        errors.append(f"torch {torch.__version__} is built for {'CPU only' if built is None else 'CUDA ' + built} "
                      f"but the toolkit is CUDA {cuda}: install a torch built for CUDA {major(cuda)} "
                      f"(docker/install.sh --cuda {cuda})")
    nvcc = nvcc_release()
    if built is not None and nvcc is not None and major(nvcc) != major(built):
        errors.append(f"nvcc is CUDA {nvcc} but torch {torch.__version__} is built for CUDA {built}: CUDA "
                      "extensions (MinkowskiEngine) refuse to build across major versions")
    notes.append(f"torch {torch.__version__} (CUDA {built or 'none'}; nvcc {nvcc or 'none'}; "
                 f"GPU {'yes' if torch.cuda.is_available() else 'no'})")
    return built


def spconv_distributions() -> dict:
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name == "spconv" or name.startswith("spconv-"):
            found[name] = dist.version
    return found


def _needs_driver(exc: Exception) -> bool:
    """A CUDA wheel imported where no driver is mounted (a `docker build` has no GPU)."""
    return "libcuda" in str(exc)


def check_spconv(expected: str, torch_cuda: str | None, errors: list, notes: list) -> None:
    found = spconv_distributions()
    if expected == "none":
        notes.append(f"spconv not requested ({', '.join(f'{n} {v}' for n, v in found.items()) or 'none installed'})")
        return
    name, _, version = expected.lower().partition("==")
    if len(found) > 1:
        errors.append(f"several spconv variants installed ({', '.join(sorted(found))}): they share the `spconv` "
                      f"module; keep only {name} (pip uninstall the others)")
    if found.get(name) != version:
        have = ", ".join(f"{n} {v}" for n, v in found.items()) or "none"
        errors.append(f"spconv: expected {name} {version}, installed: {have}")
    m = re.fullmatch(r"spconv-cu(\d\d)\d", name)
    if m and torch_cuda is not None and m.group(1) != major(torch_cuda):
        errors.append(f"{name} is built for CUDA {m.group(1)} but torch for CUDA {torch_cuda}")
    try:
        importlib.import_module("spconv.pytorch")
    except Exception as exc:  # a broken cumm/spconv raises more than ImportError
        if _needs_driver(exc):
            notes.append(f"spconv {name} installed; importing it needs the NVIDIA driver (docker run --gpus all)")
        else:
            errors.append(f"spconv.pytorch does not import ({type(exc).__name__}: {exc})")
        return
    notes.append(f"spconv {name} {found.get(name)}")


def check_minkowski(errors: list, notes: list) -> None:
    try:
        import MinkowskiEngine as ME  # noqa: N813
    except Exception as exc:
        if _needs_driver(exc):
            notes.append("MinkowskiEngine installed; importing it needs the NVIDIA driver (docker run --gpus all)")
        else:
            errors.append(f"MinkowskiEngine does not import ({type(exc).__name__}: {exc}); see docker/build_minkowski.sh")
        return
    notes.append(f"MinkowskiEngine {ME.__version__} (CUDA {'yes' if ME.is_cuda_available() else 'no'})")


def check_voxclip(errors: list, notes: list) -> None:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # packaging comes with matplotlib; without it only imports are checked
        Requirement = None
    try:
        requires = metadata.requires("voxclip") or []
    except metadata.PackageNotFoundError:
        errors.append("voxclip is not installed (pip install -e . in the checkout)")
        requires = []
    for line in requires if Requirement else []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            errors.append(f"voxclip needs {req} but {req.name} is not installed")
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            errors.append(f"voxclip needs {req} but {req.name} {have} is installed")
    failed = []
    for name in RUNTIME_MODULES + ("voxclip", "voxclip.models", "voxclip.datasets", "voxclip.evaluation"):
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(name)
            errors.append(f"{name} does not import ({type(exc).__name__}: {exc})")
    if not any(n.startswith("voxclip") for n in failed):
        import voxclip
        import voxclip.sparse as sp

        notes.append(f"voxclip at {os.path.dirname(voxclip.__file__)}; sparse backends: {sp.available_backends()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cuda", required=True, help="cpu or the toolkit's MAJOR.MINOR")
    ap.add_argument("--spconv", required=True, help="expected distribution==version, or none")
    ap.add_argument("--minkowski", action="store_true", help="MinkowskiEngine must import")
    args = ap.parse_args(argv)
    if args.cuda != "cpu" and not re.fullmatch(r"\d+\.\d+", args.cuda):
        ap.error(f"--cuda must be cpu or MAJOR.MINOR, got {args.cuda!r}")
    if args.spconv != "none" and "==" not in args.spconv:
        ap.error(f"--spconv must be DIST==VERSION or none, got {args.spconv!r}")
    errors, notes = [], []
    if sys.version_info < (3, 10):
        errors.append(f"voxclip needs Python >= 3.10, this is {sys.version.split()[0]}")
    torch_cuda = check_torch(args.cuda, errors, notes)
    check_spconv(args.spconv, torch_cuda, errors, notes)
    if args.minkowski:
        check_minkowski(errors, notes)
    check_voxclip(errors, notes)
    for line in notes:
        print(f"ok: {line}")
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
