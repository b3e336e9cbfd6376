"""Three-nearest-neighbour inverse-distance interpolation (PointNet++ feature propagation)."""
from __future__ import annotations

import torch

from .knn import knn

__all__ = ["three_nn", "three_interpolate", "three_nn_interpolate"]


def three_nn(unknown: torch.Tensor, known: torch.Tensor):
    """The 3 nearest `known` points of each `unknown` point.

    Args: unknown (n, 3) or (B, n, 3); known (m, 3) or (B, m, 3) with m >= 3.
    Returns: (dist, idx) (..., n, 3): Euclidean distances (nearest first) and int64 indices.
    """
    if known.shape[-2] < 3:
        raise ValueError(f"three_nn needs at least 3 known points, got {known.shape[-2]}")
    return knn(unknown, known, 3)


def three_interpolate(feats: torch.Tensor, idx: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted sum of 3 known features per unknown point.

    Args: feats (m, C) or (B, m, C) (channels last); idx, weight (..., n, 3).
    Returns: (..., n, C).
    """
    single = feats.dim() == 2
    f = feats[None] if single else feats
    i = idx[None] if single else idx
    w = weight[None] if single else weight
    bsz, n, _ = i.shape
    gathered = f[torch.arange(bsz, device=f.device)[:, None, None], i]  # (B, n, 3, C)
    out = (gathered * w[..., None].to(f.dtype)).sum(2)
    return out[0] if single else out


def three_nn_interpolate(unknown: torch.Tensor, known: torch.Tensor, known_feats: torch.Tensor,
                         eps: float = 1e-8) -> torch.Tensor:
    """Features of `known` points carried to `unknown` points with weights 1/(d + eps), normalised.

    Args: unknown (..., n, 3); known (..., m, 3); known_feats (..., m, C). Returns (..., n, C).
    """
    dist, idx = three_nn(unknown, known)
    recip = 1.0 / (dist + eps)
    weight = recip / recip.sum(-1, keepdim=True)
    return three_interpolate(known_feats, idx, weight)
