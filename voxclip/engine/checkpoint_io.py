"""Weights-only checkpoint loading: a checkpoint is data, never code.

Every checkpoint voxclip reads (``--resume``, ``load_from``, ``tools/test.py CHECKPOINT``, ``init_cfg``
``Pretrained``, ``pretrained=dict(checkpoint=...)``) goes through :func:`load_checkpoint_file`, which calls
``torch.load(weights_only=True)`` with an allow-list of exactly the non-tensor types mmengine 0.10 writes
into its checkpoints (numpy arrays and scalars in the message hub, ``HistoryBuffer``). A file holding
anything else is refused with a one-line error naming the file and the type. ``--unsafe-load`` (or
:func:`set_unsafe_load`) switches to full unpickling for a file the user trusts.
"""
from __future__ import annotations

import os
import pickle
import re
import zipfile
from typing import Any, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = ["CheckpointError", "load_checkpoint_file", "set_unsafe_load", "unsafe_load_enabled",
           "register_safe_checkpoint_loader", "SAFE_GLOBALS"]

_UNSAFE = {"enabled": False}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, holds disallowed objects, or does not fit the model."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as the unpickler may call it: only HistoryBuffer's own statistics methods.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (``min``/``max``/``current``/``mean``, or
    methods registered with ``register_statistics``) as ``getattr(HistoryBuffer, name)``. A general
    ``getattr`` would hand a pickle any attribute of any allowed object."""
    value = HistoryBuffer.__dict__.get(name) if obj is HistoryBuffer else None
    if not callable(value) or name.startswith("_"):
        raise pickle.UnpicklingError(f"getattr({obj!r}, {name!r}) is not a HistoryBuffer statistics method")
    return getattr(HistoryBuffer, name)


def _numpy_globals() -> list:
    """numpy pieces of message-hub values, under numpy 2 (`numpy._core`) and numpy 1 (`numpy.core`) names."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1
        from numpy.core import multiarray
    out = [np.ndarray, np.dtype]
    for mod in ("numpy._core.multiarray", "numpy.core.multiarray"):
        out += [(multiarray._reconstruct, f"{mod}._reconstruct"), (multiarray.scalar, f"{mod}.scalar")]
    # dtype classes (numpy >= 1.25 pickles some dtypes through them)
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for name in ("Float64DType", "Float32DType", "Float16DType", "Int64DType", "Int32DType", "Int16DType",
                     "Int8DType", "UInt64DType", "UInt32DType", "UInt16DType", "UInt8DType", "BoolDType"):
            if hasattr(dtypes, name):
                out.append(getattr(dtypes, name))
    return out


SAFE_GLOBALS = [HistoryBuffer, (_history_buffer_getattr, "builtins.getattr"), *_numpy_globals()]


def set_unsafe_load(enabled: bool) -> None:
    """Allow full unpickling (``--unsafe-load``): only for files the user trusts."""
    _UNSAFE["enabled"] = bool(enabled)


def unsafe_load_enabled() -> bool:
    return _UNSAFE["enabled"]


_GLOBAL_RE = re.compile(r"GLOBAL (\S+)")
_REDUCE_RE = re.compile(r"unrecognized function (.+?)(?: which belongs|$)")


def _offending_type(message: str) -> str:
    for pattern in (_GLOBAL_RE, _REDUCE_RE):
        m = pattern.search(message)
        if m:
            return m.group(1).rstrip(".")
    first = message.strip().splitlines()
    return first[0] if first else "an object outside the allow-list"


_REFUSAL_MARKS = ("Unsupported global", "unsupported GLOBAL", "unrecognized function", "Can only create new object",
                  "is not a HistoryBuffer statistics method")


def _is_refusal(exc: BaseException) -> bool:
    """An allow-list refusal (as opposed to bytes that are no pickle at all)."""
    return isinstance(exc, pickle.UnpicklingError) and any(m in str(exc) for m in _REFUSAL_MARKS)


def load_checkpoint_file(path: str, map_location: Any = "cpu", unsafe: Optional[bool] = None,
                         what: str = "checkpoint") -> Any:
    """``torch.load`` of a local file, weights-only with mmengine's allow-list.

    Raises FileNotFoundError (missing), CheckpointError (not a torch file, truncated, or holding a type
    outside the allow-list; the message names the file and the type).
    """
    path = os.path.expanduser(str(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: {what} not found")
    unsafe = unsafe_load_enabled() if unsafe is None else unsafe
    # The variable forces weights_only=False wherever a caller leaves it unset (mmengine does); never rely on it.
    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    try:
        if unsafe:
            return torch.load(path, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if _is_refusal(exc):
            raise CheckpointError(
                f"{path}: refused to load: the {what} holds {_offending_type(str(exc))}, which is not one of "
                f"the types mmengine checkpoints hold (weights-only loading); if you trust this file, "
                f"pass --unsafe-load") from None
        detail = [line for line in str(exc).splitlines() if line.strip() and "Weights only" not in line
                  and "Please file" not in line and "Check the documentation" not in line]
        raise CheckpointError(f"{path}: not a readable {what} (corrupt or not a torch file"
                              f"{': ' + detail[0].strip() if detail else ''})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError,
            AttributeError, TypeError, IndexError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise CheckpointError(f"{path}: not a readable {what} (truncated or corrupt: "
                              f"{_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _mmengine_local_loader(filename: str, map_location: Any = None) -> Any:
    return load_checkpoint_file(filename, map_location=map_location)


def register_safe_checkpoint_loader() -> None:
    """Route mmengine's local-path checkpoint loads (Runner.load_checkpoint/resume, ``init_cfg``
    ``Pretrained``) through :func:`load_checkpoint_file` (idempotent)."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes="", loader=_mmengine_local_loader, force=True)
