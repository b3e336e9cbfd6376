"""Differentiable generalized 3D IoU (GIoU) of boxes `(cx, cy, cz, dx, dy, dz, yaw)`.

GIoU = IoU - (|C| - |U|) / |C| with C the smallest enclosing box (Rezatofighi et al., 2019).
- Boxes whose yaws are all multiples of pi/2 (ScanNet): exact axis-aligned IoU, C = enclosing
  axis-aligned box (3DETR's non-rotated path).
- Otherwise: exact rotated intersection (bird's-eye polygon clipping of voxclip.ops.iou3d x z overlap);
  |C| = ``enclosing='hull'`` (default): area of the bird's-eye convex hull of both boxes' corners x
  the joint z extent; ``enclosing='aabb'``: volume of the axis-aligned box enclosing both boxes'
  corners, as 3DETR's released code does for rotated boxes too (utils/box_util.py enclosing_box3d_vol).
  The hull of 8 points is found by testing every directed corner pair as a hull edge (all other
  corners on its left, none strictly inside it); its area is the shoelace sum over those edges.
Everything is torch and differentiable with respect to the box parameters.
"""
from __future__ import annotations

import math

import torch

from voxclip.structures.array import check_boxes
from voxclip.structures.boxes import box_corners

from .iou3d import _axis_aligned_extents, _bev_inter

__all__ = ["generalized_box3d_iou", "paired_generalized_box3d_iou"]

_EPS = 1e-9


def _giou_aligned(ca, ea, cb, eb) -> torch.Tensor:
    """Elementwise GIoU (broadcasting) from centres and world extents (..., 3)."""
    lo_a, hi_a = ca - 0.5 * ea, ca + 0.5 * ea
    lo_b, hi_b = cb - 0.5 * eb, cb + 0.5 * eb
    inter = (torch.minimum(hi_a, hi_b) - torch.maximum(lo_a, lo_b)).clamp(min=0).prod(-1)
    va, vb = ea.clamp(min=0).prod(-1), eb.clamp(min=0).prod(-1)
    union = va + vb - inter
    hull = (torch.maximum(hi_a, hi_b) - torch.minimum(lo_a, lo_b)).clamp(min=0).prod(-1)
    return inter / union.clamp(min=_EPS) - (hull - union) / hull.clamp(min=_EPS)


def _giou_rotated_pairs(a: torch.Tensor, b: torch.Tensor, enclosing: str = "hull") -> torch.Tensor:
    """Elementwise GIoU of (P, 7) boxes a, b (float64)."""
    area = _bev_inter(a, b)
    zlo = torch.maximum(a[:, 2] - 0.5 * a[:, 5], b[:, 2] - 0.5 * b[:, 5])
    zhi = torch.minimum(a[:, 2] + 0.5 * a[:, 5], b[:, 2] + 0.5 * b[:, 5])
    inter = area * (zhi - zlo).clamp(min=0)
    va = (a[:, 3] * a[:, 4] * a[:, 5]).clamp(min=0)
    vb = (b[:, 3] * b[:, 4] * b[:, 5]).clamp(min=0)
    union = va + vb - inter
    bev = torch.cat([box_corners(a)[:, :4, :2], box_corners(b)[:, :4, :2]], dim=1)  # (P, 8, 2)
    z_ext = torch.maximum(a[:, 2] + 0.5 * a[:, 5], b[:, 2] + 0.5 * b[:, 5]) - \
        torch.minimum(a[:, 2] - 0.5 * a[:, 5], b[:, 2] - 0.5 * b[:, 5])
    if enclosing == "aabb":
        hull = (bev.amax(1) - bev.amin(1)).prod(-1) * z_ext
    else:
        hull = _convex_hull_area(bev) * z_ext
    return inter / union.clamp(min=_EPS) - (hull - union) / hull.clamp(min=_EPS)


def _convex_hull_area(pts: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Area (P,) of the convex hull of point sets (P, N, 2); differentiable in the coordinates."""
    n = pts.shape[1]
    scale = pts.detach().abs().amax(dim=(1, 2), keepdim=True).clamp(min=1.0)
    tol = eps * scale[..., 0] ** 2  # (P, 1)
    # Drop exact duplicates: a point equal to an earlier one is not a separate vertex.
    same = (pts[:, :, None] - pts[:, None]).abs().amax(-1) <= eps * scale  # (P, N, N)
    dup = (same & torch.ones(n, n, dtype=torch.bool, device=pts.device).tril(-1)).any(-1)  # (P, N)
    live = ~dup
    e = pts[:, None, :, :] - pts[:, :, None, :]  # (P, i, j, 2): p_j - p_i
    r = pts[:, None, None, :, :] - pts[:, :, None, None, :]  # (P, i, 1, k, 2): p_k - p_i
    cross = e[..., None, 0] * r[..., 1] - e[..., None, 1] * r[..., 0]  # (P, i, j, k)
    cross = cross.detach()
    dot = (e[..., None, :] * r).sum(-1).detach()  # projection of p_k on i->j, times |e|^2
    len2 = (e ** 2).sum(-1).detach()[..., None]
    k_live = live[:, None, None, :]
    left = (cross >= -tol[..., None, None]) | ~k_live
    inside = k_live & (cross.abs() <= tol[..., None, None]) & (dot > tol[..., None, None]) & (dot < len2 - tol[..., None, None])
    edge = left.all(-1) & ~inside.any(-1) & live[:, :, None] & live[:, None, :]
    edge &= ~torch.eye(n, dtype=torch.bool, device=pts.device)
    xi, yi = pts[:, :, None, 0], pts[:, :, None, 1]
    xj, yj = pts[:, None, :, 0], pts[:, None, :, 1]
    shoelace = xi * yj - xj * yi  # (P, i, j)
    return 0.5 * torch.where(edge, shoelace, torch.zeros_like(shoelace)).sum((1, 2))


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise TypeError("generalized_box3d_iou: expects torch tensors (it is meant for losses)")
    check_boxes(a, "boxes1")
    check_boxes(b, "boxes2")


def _check_enclosing(enclosing: str) -> None:
    if enclosing not in ("hull", "aabb"):
        raise ValueError(f"generalized_box3d_iou: enclosing must be 'hull' or 'aabb', got {enclosing!r}")


def paired_generalized_box3d_iou(boxes1: torch.Tensor, boxes2: torch.Tensor, enclosing: str = "hull") -> torch.Tensor:
    """Elementwise GIoU (P,) of boxes1 (P, 7) and boxes2 (P, 7); differentiable. enclosing: 'hull' | 'aabb'
    (rotated boxes only; see the module docstring)."""
    _check_pair(boxes1, boxes2)
    _check_enclosing(enclosing)
    if boxes1.shape != boxes2.shape or boxes1.ndim != 2:
        raise ValueError(f"boxes1/boxes2: expected equal shapes (P, 7), got {tuple(boxes1.shape)} and {tuple(boxes2.shape)}")
    ea, eb = _axis_aligned_extents(boxes1.detach()), _axis_aligned_extents(boxes2.detach())
    if ea is not None and eb is not None:
        # Re-derive extents from the (differentiable) sizes; the quarter-turn swap is a constant.
        ea, eb = _extents_like(boxes1), _extents_like(boxes2)
        return _giou_aligned(boxes1[:, :3], ea, boxes2[:, :3], eb)
    if boxes1.shape[0] == 0:
        return boxes1.new_zeros(0)
    out = _giou_rotated_pairs(boxes1.double(), boxes2.double(), enclosing)
    return out.to(torch.promote_types(boxes1.dtype, boxes2.dtype))


def _extents_like(boxes: torch.Tensor) -> torch.Tensor:
    """World extents with gradients: (dx, dy, dz), or (dy, dx, dz) for odd quarter turns of yaw."""
    odd = torch.remainder(torch.round(boxes[..., 6].detach() / (math.pi / 2)), 2) == 1
    dx = torch.where(odd, boxes[..., 4], boxes[..., 3])
    dy = torch.where(odd, boxes[..., 3], boxes[..., 4])
    return torch.stack([dx, dy, boxes[..., 5]], dim=-1)


def generalized_box3d_iou(boxes1: torch.Tensor, boxes2: torch.Tensor, enclosing: str = "hull") -> torch.Tensor:
    """Pairwise GIoU (K, M) of boxes1 (K, 7) and boxes2 (M, 7); differentiable. enclosing: 'hull' | 'aabb'."""
    _check_pair(boxes1, boxes2)
    _check_enclosing(enclosing)
    if boxes1.ndim != 2 or boxes2.ndim != 2:
        raise ValueError(f"boxes1/boxes2: expected (K, 7) and (M, 7), got {tuple(boxes1.shape)} and {tuple(boxes2.shape)}")
    k, m = boxes1.shape[0], boxes2.shape[0]
    ea, eb = _axis_aligned_extents(boxes1.detach()), _axis_aligned_extents(boxes2.detach())
    if ea is not None and eb is not None:
        ea, eb = _extents_like(boxes1), _extents_like(boxes2)
        return _giou_aligned(boxes1[:, None, :3], ea[:, None], boxes2[None, :, :3], eb[None])
    a = boxes1[:, None].expand(k, m, 7).reshape(-1, 7)
    b = boxes2[None].expand(k, m, 7).reshape(-1, 7)
    return paired_generalized_box3d_iou(a, b, enclosing).reshape(k, m)
