"""3D IoU of boxes `(cx, cy, cz, dx, dy, dz, yaw)`: axis-aligned fast path and exact rotated IoU.

Rotated IoU = area of the bird's-eye intersection polygon (Sutherland-Hodgman clipping of one
rectangle by the other, vectorised over pairs) x overlap of the z intervals / union of volumes.
Inputs may be numpy arrays or torch tensors (any device); results come back in the same kind.
Computation runs in float64 so that near-degenerate contacts stay exact to ~1e-12.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from voxclip.structures.array import check_boxes, restore, to_tensor
from voxclip.structures.boxes import bev_corners

ArrayLike = np.ndarray | torch.Tensor

# A yaw within this many radians of a multiple of pi/2 counts as axis-aligned for the fast path
# (the extent error it causes is below size * 1e-6, far under any IoU threshold's resolution).
AXIS_ALIGNED_TOL = 1e-6
_PAIR_CHUNK = 1 << 18  # rotated pairs per batch: bounds the (P, 16, 2) clipping temporaries
_CAP = 8  # a rectangle clipped by a convex quadrilateral has at most 8 vertices


def _prepare(a, b, name_a="boxes1", name_b="boxes2"):
    ta, was_np = to_tensor(a)
    tb, _ = to_tensor(b)
    check_boxes(ta, name_a)
    check_boxes(tb, name_b)
    out_dtype = torch.promote_types(ta.dtype, tb.dtype)
    if not out_dtype.is_floating_point:
        out_dtype = torch.float32
    device = ta.device
    return ta.to(device=device, dtype=torch.float64), tb.to(device=device, dtype=torch.float64), out_dtype, was_np


def _axis_aligned_extents(boxes: torch.Tensor) -> torch.Tensor | None:
    """(..., 3) world-axis extents if every yaw is a multiple of pi/2 (within tolerance), else None."""
    yaw = boxes[..., 6]
    k = torch.round(yaw / (math.pi / 2))
    if bool(((yaw - k * (math.pi / 2)).abs() > AXIS_ALIGNED_TOL).any()):
        return None
    odd = torch.remainder(k, 2) == 1
    dx = torch.where(odd, boxes[..., 4], boxes[..., 3])
    dy = torch.where(odd, boxes[..., 3], boxes[..., 4])
    return torch.stack([dx, dy, boxes[..., 5]], dim=-1)


def _iou_from_extents(ca, ea, cb, eb) -> torch.Tensor:
    """Elementwise IoU of axis-aligned boxes given centres and world extents (broadcasting)."""
    lo = torch.maximum(ca - 0.5 * ea, cb - 0.5 * eb)
    hi = torch.minimum(ca + 0.5 * ea, cb + 0.5 * eb)
    inter = (hi - lo).clamp(min=0).prod(dim=-1)
    union = ea.prod(dim=-1) + eb.prod(dim=-1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-300), torch.zeros_like(inter))


def _clip_polygons(poly: torch.Tensor, n: torch.Tensor, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sutherland-Hodgman: clip polygons (P, C, 2) with `n` (P,) live vertices by CCW quads (P, 4, 2)."""
    P, C, _ = poly.shape
    idx = torch.arange(C, device=poly.device)
    for e in range(4):
        e0, e1 = clip[:, e], clip[:, (e + 1) % 4]
        edge = e1 - e0
        # cross(edge, p - e0) >= 0: p is on the inner (left) side of a CCW edge.
        d = edge[:, None, 0] * (poly[..., 1] - e0[:, None, 1]) - edge[:, None, 1] * (poly[..., 0] - e0[:, None, 0])
        prev_idx = torch.remainder(idx[None, :] - 1, n.clamp(min=1)[:, None])  # (P, C)
        prev = torch.gather(poly, 1, prev_idx[..., None].expand(P, C, 2))
        d_prev = torch.gather(d, 1, prev_idx)
        live = idx[None, :] < n[:, None]
        in_cur, in_prev = d >= 0, d_prev >= 0
        crossing = live & (in_cur != in_prev)
        t = d_prev / torch.where(crossing, d_prev - d, torch.ones_like(d))
        hit = prev + t[..., None] * (poly - prev)
        # Edge prev -> cur emits [intersection if it crosses, cur if inside], in that order.
        cand = torch.stack([hit, poly], dim=2).reshape(P, 2 * C, 2)
        keep = torch.stack([crossing, live & in_cur], dim=2).reshape(P, 2 * C)
        # Compact the kept candidates to the front, in order; dropped ones go to a dump slot.
        slot = torch.where(keep, torch.cumsum(keep, dim=1) - 1, torch.full_like(prev_idx[:, :1], 2 * C))
        packed = torch.zeros((P, 2 * C + 1, 2), dtype=poly.dtype, device=poly.device)
        packed.scatter_(1, slot.clamp(max=2 * C)[..., None].expand(P, 2 * C, 2), cand)
        poly = packed[:, :C]
        n = keep.sum(dim=1).clamp(max=C)
    return poly, n


def _polygon_area(poly: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Shoelace area of polygons (P, C, 2) with `n` live (CCW) vertices; 0 for fewer than 3."""
    P, C, _ = poly.shape
    idx = torch.arange(C, device=poly.device)
    nxt_idx = torch.remainder(idx[None, :] + 1, n.clamp(min=1)[:, None])
    nxt = torch.gather(poly, 1, nxt_idx[..., None].expand(P, C, 2))
    cross = poly[..., 0] * nxt[..., 1] - nxt[..., 0] * poly[..., 1]
    cross = torch.where(idx[None, :] < n[:, None], cross, torch.zeros_like(cross))
    area = 0.5 * cross.sum(dim=1)
    return torch.where(n >= 3, area.clamp(min=0), torch.zeros_like(area))


def bev_intersection_area(boxes1: ArrayLike, boxes2: ArrayLike) -> ArrayLike:
    """Elementwise bird's-eye intersection area of boxes1 (P, 7) and boxes2 (P, 7): (P,)."""
    a, b, out_dtype, was_np = _prepare(boxes1, boxes2)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"boxes1/boxes2: expected equal shapes (P, 7), got {tuple(a.shape)} and {tuple(b.shape)}")
    return restore(_bev_inter(a, b).to(out_dtype), was_np)


def _bev_inter(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    P = a.shape[0]
    poly = torch.zeros((P, _CAP, 2), dtype=a.dtype, device=a.device)
    poly[:, :4] = bev_corners(a)
    n = torch.full((P,), 4, dtype=torch.long, device=a.device)
    # Non-positive sizes make inverted polygons: give them no area rather than a negative one.
    degenerate = (a[:, 3] <= 0) | (a[:, 4] <= 0) | (b[:, 3] <= 0) | (b[:, 4] <= 0)
    n = torch.where(degenerate, torch.zeros_like(n), n)
    poly, n = _clip_polygons(poly, n, bev_corners(b))
    return _polygon_area(poly, n)


def _bev_bounds(boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres (..., 3) and world-axis half extents (..., 3) of the box enclosing each (rotated) box."""
    c, s = torch.cos(boxes[..., 6]).abs(), torch.sin(boxes[..., 6]).abs()
    hx = 0.5 * (c * boxes[..., 3] + s * boxes[..., 4])
    hy = 0.5 * (s * boxes[..., 3] + c * boxes[..., 4])
    return boxes[..., :3], torch.stack([hx, hy, 0.5 * boxes[..., 5]], dim=-1)


def _exact_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise rotated IoU of float64 boxes a, b (P, 7), every pair clipped."""
    out = torch.empty(a.shape[0], dtype=a.dtype, device=a.device)
    for s in range(0, a.shape[0], _PAIR_CHUNK):
        pa, pb = a[s:s + _PAIR_CHUNK], b[s:s + _PAIR_CHUNK]
        area = _bev_inter(pa, pb)
        zlo = torch.maximum(pa[:, 2] - 0.5 * pa[:, 5], pb[:, 2] - 0.5 * pb[:, 5])
        zhi = torch.minimum(pa[:, 2] + 0.5 * pa[:, 5], pb[:, 2] + 0.5 * pb[:, 5])
        inter = area * (zhi - zlo).clamp(min=0)
        va = (pa[:, 3] * pa[:, 4] * pa[:, 5]).clamp(min=0)
        vb = (pb[:, 3] * pb[:, 4] * pb[:, 5]).clamp(min=0)
        union = va + vb - inter
        out[s:s + _PAIR_CHUNK] = torch.where(union > 0, inter / union.clamp(min=1e-300), torch.zeros_like(inter))
    return out


def _rotated_iou_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise rotated IoU of float64 boxes a, b (P, 7). Pairs whose enclosing axis-aligned boxes
    do not overlap are 0 without clipping (most pairs in a scene, e.g. in NMS)."""
    (ca, ha), (cb, hb) = _bev_bounds(a), _bev_bounds(b)
    near = ((ca - cb).abs() < ha + hb).all(dim=-1)
    out = torch.zeros(a.shape[0], dtype=a.dtype, device=a.device)
    idx = near.nonzero().flatten()
    if idx.numel():
        out[idx] = _exact_pairs(a[idx], b[idx])
    return out


def iou3d_axis_aligned(boxes1: ArrayLike, boxes2: ArrayLike) -> ArrayLike:
    """Pairwise IoU (K, M) ignoring yaw except for exact quarter turns (which swap dx and dy).

    Raises `ValueError` if some yaw is not a multiple of pi/2 (use `iou3d_rotated`).
    """
    a, b, out_dtype, was_np = _prepare(boxes1, boxes2)
    ea, eb = _axis_aligned_extents(a), _axis_aligned_extents(b)
    if ea is None or eb is None:
        raise ValueError("iou3d_axis_aligned: some yaw is not a multiple of pi/2; use iou3d_rotated")
    iou = _iou_from_extents(a[:, None, :3], ea[:, None], b[None, :, :3], eb[None])
    return restore(iou.to(out_dtype), was_np)


def iou3d_rotated(boxes1: ArrayLike, boxes2: ArrayLike) -> ArrayLike:
    """Pairwise IoU (K, M) with yaw: BEV polygon clip x z overlap / union of volumes."""
    a, b, out_dtype, was_np = _prepare(boxes1, boxes2)
    (ca, ha), (cb, hb) = _bev_bounds(a), _bev_bounds(b)
    near = ((ca[:, None] - cb[None]).abs() < ha[:, None] + hb[None]).all(dim=-1)  # (K, M)
    ia, ib = near.nonzero(as_tuple=True)
    iou = torch.zeros(near.shape, dtype=a.dtype, device=a.device)
    if ia.numel():
        iou[ia, ib] = _exact_pairs(a[ia], b[ib])
    return restore(iou.to(out_dtype), was_np)


def boxes_iou3d(boxes1: ArrayLike, boxes2: ArrayLike) -> ArrayLike:
    """Pairwise 3D IoU (K, M) of boxes1 (K, 7) and boxes2 (M, 7); axis-aligned fast path when possible."""
    a, b, out_dtype, was_np = _prepare(boxes1, boxes2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"boxes1/boxes2: expected (K, 7) and (M, 7), got {tuple(a.shape)} and {tuple(b.shape)}")
    ea, eb = _axis_aligned_extents(a), _axis_aligned_extents(b)
    if ea is not None and eb is not None:
        iou = _iou_from_extents(a[:, None, :3], ea[:, None], b[None, :, :3], eb[None])
    else:
        iou = iou3d_rotated(a, b)
    return restore(iou.to(out_dtype), was_np)


def paired_iou3d(boxes1: ArrayLike, boxes2: ArrayLike) -> ArrayLike:
    """Elementwise 3D IoU (P,) of boxes1 (P, 7) and boxes2 (P, 7); axis-aligned fast path when possible."""
    a, b, out_dtype, was_np = _prepare(boxes1, boxes2)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"boxes1/boxes2: expected equal shapes (P, 7), got {tuple(a.shape)} and {tuple(b.shape)}")
    ea, eb = _axis_aligned_extents(a), _axis_aligned_extents(b)
    if ea is not None and eb is not None:
        iou = _iou_from_extents(a[:, :3], ea, b[:, :3], eb)
    else:
        iou = _rotated_iou_pairs(a, b)
    return restore(iou.to(out_dtype), was_np)
