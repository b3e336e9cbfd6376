"""3DETR box parameterisation.

centre = query position (normalised to the scene) + sigmoid(offset) - 0.5, un-normalised by the
scene extent; size = sigmoid(s) * scene extent; yaw = bin centre + residual, with `num_angle_bins`
bins over [0, 2 pi) (one bin: yaw fixed to 0, as 3DETR does for ScanNet's axis-aligned boxes).
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


def decode_boxes(raw: dict, query_xyz_norm: torch.Tensor, pc_min: torch.Tensor, pc_max: torch.Tensor,
                 num_angle_bins: int) -> dict:
    """raw: center (B,Q,3), size (B,Q,3), angle_cls (B,Q,A), angle_res (B,Q,A), sem_cls (B,Q,C+1) logits.

    Returns center_normalized, center, size_normalized, size, angle_logits, angle_residual_normalized,
    angle (B,Q), boxes (B,Q,7), sem_cls_logits, sem_cls_prob (B,Q,C), objectness_prob (B,Q).
    """
    scale = (pc_max - pc_min).clamp(min=1e-6)[:, None, :]
    center_norm = query_xyz_norm + raw["center"].sigmoid() - 0.5
    center = center_norm * scale + pc_min[:, None, :]
    size_norm = raw["size"].sigmoid()
    size = size_norm * scale
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
