"""3DETR box parameterisation.

As the released 3DETR (models/model_3detr.py, BoxProcessor):
centre = query position + sigmoid(offset) - 0.5 IN METRES (at most 0.5 m per axis from the query),
then normalised to [0, 1] by the scene bounds for the centre loss; size = sigmoid(s) * scene extent
(extent clamped to >= 0.1 m); yaw = bin centre + residual, with `num_angle_bins` bins over [0, 2 pi)
(one bin: yaw fixed to 0, as 3DETR does for ScanNet's axis-aligned boxes).
``center_offset='normalized'`` keeps voxclip's earlier rule (offset in scene-normalised units, up
to half the scene extent) for old checkpoints.
"""
from __future__ import annotations

import math

import torch

__all__ = ["angle_to_bin", "bin_to_angle", "decode_boxes"]


def angle_to_bin(angle: torch.Tensor, num_bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Yaw (...,) -> (bin index (...,) int64, residual normalised to [-1, 1] of half a bin)."""
    per_bin = 2 * math.pi / num_bins
    shifted = torch.remainder(torch.remainder(angle, 2 * math.pi) + per_bin / 2, 2 * math.pi)
    idx = torch.floor(shifted / per_bin).long().clamp(max=num_bins - 1)
    residual = shifted - (idx.to(angle.dtype) * per_bin + per_bin / 2)
    return idx, residual / (per_bin / 2)


def bin_to_angle(idx: torch.Tensor, residual_normalized: torch.Tensor, num_bins: int) -> torch.Tensor:
    """Inverse of angle_to_bin, wrapped into [-pi, pi)."""
    per_bin = 2 * math.pi / num_bins
    angle = idx.to(residual_normalized.dtype) * per_bin + residual_normalized * (per_bin / 2)
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


def decode_boxes(raw: dict, query_xyz: torch.Tensor, pc_min: torch.Tensor, pc_max: torch.Tensor,
                 num_angle_bins: int, center_offset: str = "metric") -> dict:
    """raw: center (B,Q,3), size (B,Q,3), angle_cls (B,Q,A), angle_res (B,Q,A), sem_cls (B,Q,C+1) logits.
    query_xyz: (B,Q,3) query positions in metres. center_offset: 'metric' (3DETR) | 'normalized'.

    Returns center_normalized, center, size_normalized, size, angle_logits, angle_residual_normalized,
    angle (B,Q), boxes (B,Q,7), sem_cls_logits, sem_cls_prob (B,Q,C), objectness_prob (B,Q).
    """
    lo = pc_min[:, None, :]
    span = (pc_max - pc_min)[:, None, :]
    offset = raw["center"].sigmoid() - 0.5
    if center_offset == "metric":
        center = query_xyz + offset
        center_norm = (center - lo) / span.clamp(min=1e-6)
    elif center_offset == "normalized":
        scale = span.clamp(min=1e-6)
        center_norm = (query_xyz - lo) / scale + offset
        center = center_norm * scale + lo
    else:
        raise ValueError(f"decode_boxes: center_offset must be 'metric' or 'normalized', got {center_offset!r}")
    size_norm = raw["size"].sigmoid()
    size = size_norm * span.clamp(min=0.1)
    if num_angle_bins == 1:
        angle = torch.zeros_like(center[..., 0])
    else:
        best = raw["angle_cls"].argmax(-1)
        res = raw["angle_res"].gather(-1, best[..., None])[..., 0]
        angle = bin_to_angle(best, res, num_angle_bins)
    prob = raw["sem_cls"].softmax(-1)
    return dict(
        center_normalized=center_norm, center=center, size_normalized=size_norm, size=size,
        angle_logits=raw["angle_cls"], angle_residual_normalized=raw["angle_res"], angle=angle,
        boxes=torch.cat([center, size, angle[..., None]], dim=-1),
        sem_cls_logits=raw["sem_cls"], sem_cls_prob=prob[..., :-1], objectness_prob=1 - prob[..., -1])
