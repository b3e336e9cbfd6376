"""Camera geometry for 2D-3D pairs (numpy).

Pixel convention (the synthetic renderer's and ScanNet's calibration): pixel (u, v) has its
centre at integer coordinates, so a camera point projects to ``u = fx * x / z + cx`` and the
pixel index is ``floor(u + 0.5)``. Resizing an image by ``s`` maps ``u`` to ``(u + 0.5) s - 0.5``.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def scale_intrinsic(k: np.ndarray, src_size: Tuple[int, int],
                    dst_size: Tuple[int, int]) -> np.ndarray:
    """(3,3) intrinsic for an image resized from ``src_size`` to ``dst_size`` (width, height).

    Accepts a (3,3) or (4,4) ``k``; returns float64 (3,3).
    """
    k = np.asarray(k, np.float64)[:3, :3]
    sx, sy = dst_size[0] / src_size[0], dst_size[1] / src_size[1]
    out = k.copy()
    out[0, 0], out[1, 1] = k[0, 0] * sx, k[1, 1] * sy
    out[0, 2], out[1, 2] = (k[0, 2] + 0.5) * sx - 0.5, (k[1, 2] + 0.5) * sy - 0.5
    return out


def backproject_depth(depth_m: np.ndarray, k: np.ndarray,
                      camera_to_world: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Depth (H,W) metres (0 = invalid) -> world points (M,3) float32 and their flat pixel
    indices (M,) int64 (row-major ``v * W + u``), for the pixels with depth > 0."""
    h, w = depth_m.shape
    k = np.asarray(k, np.float64)
    flat = np.flatnonzero(depth_m.reshape(-1) > 0)
    z = depth_m.reshape(-1)[flat].astype(np.float64)
    u, v = (flat % w).astype(np.float64), (flat // w).astype(np.float64)
    cam = np.stack([(u - k[0, 2]) * z / k[0, 0], (v - k[1, 2]) * z / k[1, 1], z], 1)
    t = np.asarray(camera_to_world, np.float64)
    world = cam @ t[:3, :3].T + t[:3, 3]
    return world.astype(np.float32), flat.astype(np.int64)
