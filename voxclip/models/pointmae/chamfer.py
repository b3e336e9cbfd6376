"""Chamfer-L2 between point sets (Point-MAE's ``ChamferDistanceL2``: squared distances)."""
from __future__ import annotations

import torch

__all__ = ["chamfer_l2"]


def chamfer_l2(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred (P, K1, 3), target (P, K2, 3) -> scalar

        mean_{p,i} min_j |pred_pi - target_pj|^2 + mean_{p,j} min_i |pred_pi - target_pj|^2,

    i.e. Point-MAE's loss over the flattened masked patches (mean of both directions' squared
    nearest-neighbour distances, summed). Patches are small (K = 32), so the dense (P, K1, K2)
    distance block is cheaper than a KD-tree and differentiable.
    """
    if pred.dim() != 3 or target.dim() != 3 or pred.shape[0] != target.shape[0] or pred.shape[-1] != 3:
        raise ValueError(f"chamfer_l2: expected (P, K1, 3) and (P, K2, 3), got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    d = (pred[:, :, None, :] - target[:, None, :, :]).pow(2).sum(-1)  # (P, K1, K2)
    return d.min(dim=2).values.mean() + d.min(dim=1).values.mean()
