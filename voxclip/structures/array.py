"""numpy <-> torch bridging: box code computes in torch and hands back what it was given."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


def to_tensor(x: Any, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, bool]:
    """Return `(tensor, was_numpy)`; numpy arrays and sequences become CPU tensors (no copy if possible)."""
    if isinstance(x, torch.Tensor):
        return (x if dtype is None else x.to(dtype)), False
    t = torch.as_tensor(np.asarray(x))
    return (t if dtype is None else t.to(dtype)), True


def to_numpy(x: Any) -> np.ndarray:
    """Detached CPU numpy copy-free view of a tensor (or `np.asarray` of anything else)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def restore(t: torch.Tensor, was_numpy: bool) -> torch.Tensor | np.ndarray:
    """Hand back a result in the kind of array the caller passed."""
    return t.detach().cpu().numpy() if was_numpy else t


def check_boxes(boxes: torch.Tensor, name: str = "boxes") -> None:
    """Raise `ValueError` unless `boxes` is (..., 7)."""
    if boxes.ndim < 1 or boxes.shape[-1] != 7:
        raise ValueError(f"{name}: expected shape (..., 7) (cx, cy, cz, dx, dy, dz, yaw), got {tuple(boxes.shape)}")
