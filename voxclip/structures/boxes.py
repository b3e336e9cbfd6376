"""Box utilities for the project convention `(cx, cy, cz, dx, dy, dz, yaw)`.

Gravity centre, full sizes along the box's own axes, yaw counter-clockwise about +z from +x, z up.
Every function accepts numpy arrays or torch tensors (any device) and returns the same kind.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .array import check_boxes, restore, to_tensor

ArrayLike = np.ndarray | torch.Tensor

# Local corner signs: bottom face counter-clockwise seen from +z, then the top face in the same order.
_CORNER_SIGNS = (
    (-1, -1, -1), (1, -1, -1), (1, 1, -1), (-1, 1, -1),
    (-1, -1, 1), (1, -1, 1), (1, 1, 1), (-1, 1, 1),
)


def limit_yaw(yaw: ArrayLike) -> ArrayLike:
    """Wrap angles (any shape) into [-pi, pi)."""
    t, was_np = to_tensor(yaw)
    if not t.is_floating_point():
        t = t.double()
    out = torch.remainder(t + math.pi, 2 * math.pi) - math.pi
    # remainder can round up to exactly 2*pi for tiny negative inputs; keep the half-open interval.
    out = torch.where(out >= math.pi, out - 2 * math.pi, out)
    return restore(out, was_np)


def normalize_yaw(boxes: ArrayLike) -> ArrayLike:
    """Copy of `boxes` (..., 7) with yaw wrapped into [-pi, pi)."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    out = t.clone()
    out[..., 6] = torch.remainder(t[..., 6] + math.pi, 2 * math.pi) - math.pi
    out[..., 6] = torch.where(out[..., 6] >= math.pi, out[..., 6] - 2 * math.pi, out[..., 6])
    return restore(out, was_np)


def _rot2d(yaw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.cos(yaw), torch.sin(yaw)


def box_corners(boxes: ArrayLike) -> ArrayLike:
    """Corners (..., 8, 3): bottom face CCW from (-x,-y) in the box frame, then the top face."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    signs = torch.tensor(_CORNER_SIGNS, dtype=t.dtype, device=t.device)  # (8,3)
    local = signs * (0.5 * t[..., None, 3:6])  # (...,8,3)
    c, s = _rot2d(t[..., None, 6])
    x = c * local[..., 0] - s * local[..., 1]
    y = s * local[..., 0] + c * local[..., 1]
    out = torch.stack([x, y, local[..., 2]], dim=-1) + t[..., None, 0:3]
    return restore(out, was_np)


def bev_corners(boxes: ArrayLike) -> ArrayLike:
    """Bird's-eye polygons (..., 4, 2), counter-clockwise (positive signed area for positive sizes)."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    return restore(box_corners(t)[..., :4, :2], was_np)


def world_to_box(points: ArrayLike, boxes: ArrayLike) -> ArrayLike:
    """Points (N,3) expressed in every box's frame: (N, M, 3), origin at the box centre."""
    p, was_np = to_tensor(points)
    b, _ = to_tensor(boxes)
    check_boxes(b)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"points: expected shape (N, 3), got {tuple(p.shape)}")
    dtype = torch.promote_types(p.dtype, b.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float32
    p, b = p.to(dtype), b.to(dtype=dtype, device=p.device)
    d = p[:, None, :] - b[None, :, 0:3]  # (N,M,3)
    c, s = _rot2d(b[None, :, 6])
    # Inverse rotation (by -yaw) of the offset.
    lx = c * d[..., 0] + s * d[..., 1]
    ly = -s * d[..., 0] + c * d[..., 1]
    return restore(torch.stack([lx, ly, d[..., 2]], dim=-1), was_np)


def points_in_boxes(points: ArrayLike, boxes: ArrayLike, chunk: int = 65536) -> ArrayLike:
    """Boolean (N, M): point n lies inside (or on the surface of) box m. Yaw-aware.

    Computed in chunks of `chunk` points so that (N, M, 3) temporaries stay small.
    """
    p, was_np = to_tensor(points)
    b, _ = to_tensor(boxes)
    check_boxes(b, "boxes")
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"points: expected shape (N, 3), got {tuple(p.shape)}")
    b = b.to(device=p.device)
    half = 0.5 * b[:, 3:6]
    out = torch.empty((p.shape[0], b.shape[0]), dtype=torch.bool, device=p.device)
    for start in range(0, p.shape[0], chunk):
        local = world_to_box(p[start:start + chunk], b)
        out[start:start + chunk] = (local.abs() <= half.to(local.dtype)).all(dim=-1)
    return restore(out, was_np)


def boxes_from_minmax(mins: ArrayLike, maxs: ArrayLike) -> ArrayLike:
    """Axis-aligned boxes (M, 7), yaw 0, from per-box minimum and maximum corners (M, 3) each."""
    lo, was_np = to_tensor(mins)
    hi, _ = to_tensor(maxs)
    hi = hi.to(device=lo.device, dtype=lo.dtype)
    if lo.shape != hi.shape or lo.shape[-1] != 3:
        raise ValueError(f"mins/maxs: expected equal shapes (..., 3), got {tuple(lo.shape)} and {tuple(hi.shape)}")
    if bool((hi < lo).any()):
        raise ValueError("maxs: some maximum corner is below its minimum corner")
    yaw = torch.zeros_like(lo[..., :1])
    return restore(torch.cat([0.5 * (lo + hi), hi - lo, yaw], dim=-1), was_np)


def boxes_to_minmax(boxes: ArrayLike) -> ArrayLike:
    """Axis-aligned bounds (..., 6) `(xmin, ymin, zmin, xmax, ymax, zmax)` enclosing each (rotated) box."""
    t, was_np = to_tensor(boxes)
    corners = box_corners(t)
    return restore(torch.cat([corners.amin(dim=-2), corners.amax(dim=-2)], dim=-1), was_np)


def rotate_boxes(boxes: ArrayLike, angle: float) -> ArrayLike:
    """Rotate boxes (..., 7) by `angle` radians CCW about the world +z axis (as points p -> R p)."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    c, s = math.cos(angle), math.sin(angle)
    out = t.clone()
    out[..., 0] = c * t[..., 0] - s * t[..., 1]
    out[..., 1] = s * t[..., 0] + c * t[..., 1]
    out[..., 6] = t[..., 6] + angle
    return normalize_yaw(restore(out, was_np))


def flip_boxes(boxes: ArrayLike, axis: int) -> ArrayLike:
    """Mirror boxes (..., 7) as points are mirrored by negating coordinate `axis` (0: x, 1: y)."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    if axis not in (0, 1):
        raise ValueError(f"axis: expected 0 (x) or 1 (y), got {axis}")
    out = t.clone()
    out[..., axis] = -t[..., axis]
    # x -> -x maps heading (cos, sin) to (-cos, sin): yaw -> pi - yaw; y -> -y: yaw -> -yaw.
    out[..., 6] = (math.pi - t[..., 6]) if axis == 0 else -t[..., 6]
    return normalize_yaw(restore(out, was_np))


def scale_boxes(boxes: ArrayLike, factor: float) -> ArrayLike:
    """Scale boxes (..., 7) about the world origin by a uniform `factor` > 0."""
    if factor <= 0:
        raise ValueError(f"factor: expected > 0, got {factor}")
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    out = t.clone()
    out[..., :6] = t[..., :6] * factor
    return restore(out, was_np)


def volume(boxes: ArrayLike) -> ArrayLike:
    """Box volumes (...,)."""
    t, was_np = to_tensor(boxes)
    check_boxes(t)
    return restore(t[..., 3] * t[..., 4] * t[..., 5], was_np)
