"""S4Token losses: assignment cross-entropy, feature reconstruction, 2D-3D distillation (cosine)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["assignment_loss", "cosine_loss"]


def assignment_loss(targets: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """-(1/M) sum_j sum_k Q_jk log softmax(logits)_jk; targets (M, K) rows summing to 1."""
    if len(targets) == 0:
        return logits.sum() * 0.0
    return -(targets * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def cosine_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean over rows of 1 - cos(pred, target); 0 * sum when there are no rows (keeps the graph)."""
    if len(pred) == 0:
        return pred.sum() * 0.0
    return (1.0 - F.cosine_similarity(pred, target.to(pred.dtype), dim=-1)).mean()
