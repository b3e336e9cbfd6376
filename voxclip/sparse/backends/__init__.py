"""Backend selection for the sparse modules.

`torch` (pure PyTorch, CPU and GPU, always available), `spconv` (2.x) and `minkowski`
(MinkowskiEngine 0.5.x). `auto` resolves per call from the input's device: a GPU backend for CUDA
tensors (spconv, else minkowski, else torch) and `torch` on CPU. spconv's CPU build is never picked
automatically: its backward needs CUDA and its CPU scatter-add races with more than one thread.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import warnings

import torch

BACKENDS = ("torch", "spconv", "minkowski")
_INSTALL_HINT = {
    "spconv": "install it with `pip install voxclip[spconv]` (CPU) or spconv-cu12x==2.3.8 matching your CUDA "
              "(`docker/install.sh` picks the wheel from nvcc; docs/gpu.md)",
    "minkowski": "MinkowskiEngine has no usable wheels: build 0.5.4 from source as described in docs/sparse_backends.md",
}
_MODULES = {"torch": "torch_backend", "spconv": "spconv_backend", "minkowski": "minkowski_backend"}
_current = os.environ.get("VOXCLIP_SPARSE_BACKEND", "auto")
_instances: dict = {}
_import_errors: dict = {}


class BackendUnavailableError(RuntimeError):
    """A requested sparse backend is not installed (or does not import)."""


def _load(name: str):
    if name in _instances:
        return _instances[name]
    if name in _import_errors:
        return None
    try:
        with warnings.catch_warnings():  # a CPU-only MinkowskiEngine warns on every import
            warnings.filterwarnings("ignore", message=".*CPU_ONLY.*")
            mod = importlib.import_module(f"{__name__}.{_MODULES[name]}")
        _instances[name] = mod.Backend()
    except ImportError as err:  # the optional package is missing or broken
        _import_errors[name] = err
        return None
    return _instances[name]


def available_backends() -> list[str]:
    """Names of the backends that import on this machine (always includes 'torch')."""
    return [name for name in BACKENDS if _load(name) is not None]


def _check_name(name: str) -> None:
    if name != "auto" and name not in BACKENDS:
        raise ValueError(f"unknown sparse backend {name!r}; choose one of {('auto',) + BACKENDS}")


def get_backend(name: str | None = None):
    """The backend object for `name` (default: the current setting); raises if it is missing."""
    name = _current if name is None else name
    _check_name(name)
    if name == "auto":
        raise ValueError("'auto' resolves per input; call resolve_backend(x) instead")
    backend = _load(name)
    if backend is None:
        raise BackendUnavailableError(
            f"sparse backend {name!r} is not available ({_import_errors[name]}); {_INSTALL_HINT[name]}")
    return backend


def current_backend() -> str:
    """The configured backend name ('auto', 'torch', 'spconv' or 'minkowski')."""
    return _current


def set_backend(name: str) -> None:
    """Select the backend for every sparse module from now on (e.g. from a config key)."""
    global _current
    _check_name(name)
    if name != "auto":
        get_backend(name)  # fail now, with the install hint, rather than at the first layer
    _current = name


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager: run the enclosed sparse modules on backend `name`."""
    global _current
    previous = _current
    set_backend(name)
    try:
        yield get_backend(name) if name != "auto" else None
    finally:
        _current = previous


def resolve_backend(device: torch.device):
    """The backend object that runs tensors on `device` under the current setting."""
    if _current != "auto":
        return get_backend(_current)
    if device.type == "cuda":
        for name in ("spconv", "minkowski"):
            backend = _load(name)
            if backend is not None and backend.supports_cuda():
                return backend
    return get_backend("torch")
