"""Superpoint feature propagation (S4Token): sparse token features -> superpoints -> points.

Design (the paper names the module, not its equations; docs/s4token.md):
  1. points <- tokens: inverse-distance interpolation from the k = 3 nearest anchors (PointNet++ FP,
     voxclip.ops.three_nn_interpolate), f_i = sum_a w_ia h_a / sum_a w_ia, w = 1 / (d + eps);
  2. superpoints <- points: g_S = mean of f_i over the points of S;
  3. points <- superpoints: f'_i = (1 - alpha) f_i + alpha g_{S(i)}.
``alpha`` = 1 (default) gives every point its superpoint's mean, so a prediction never crosses a
superpoint boundary; 0 is plain FP interpolation. Features are L2-normalised before averaging
when ``normalise`` (cosine-similarity use).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from voxclip.ops.interpolate import three_nn_interpolate

__all__ = ["superpoint_mean", "propagate_features"]


def superpoint_mean(feats: torch.Tensor, superpoint: torch.Tensor) -> torch.Tensor:
    """(N, C) point features, (N,) superpoint ids -> (N, C): each point gets its superpoint's mean."""
    _, inv = torch.unique(superpoint.long(), return_inverse=True)
    s = int(inv.max()) + 1 if len(inv) else 0
    sums = feats.new_zeros(s, feats.shape[1]).index_add_(0, inv, feats)
    counts = torch.bincount(inv, minlength=s).to(feats.dtype).clamp_min(1)
    return (sums / counts[:, None])[inv]


def propagate_features(points: torch.Tensor, anchors: torch.Tensor, token_feats: torch.Tensor,
                       superpoint: torch.Tensor | None = None, alpha: float = 1.0,
                       normalise: bool = True) -> torch.Tensor:
    """points (N, 3), anchors (M, 3) with token_feats (M, C), superpoint (N,) -> (N, C) point features."""
    if anchors.shape[0] < 3:
        raise ValueError(f"propagate_features needs at least 3 anchors, got {anchors.shape[0]}")
    h = F.normalize(token_feats, dim=-1) if normalise else token_feats
    f = three_nn_interpolate(points, anchors, h)
    if superpoint is None or alpha == 0:
        return f
    g = superpoint_mean(f, superpoint)
    return g if alpha == 1 else (1 - alpha) * f + alpha * g
