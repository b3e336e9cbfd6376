"""Concept-alignment loss (Eq. 12): L = MSE(C', P), the mean squared difference over every element."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["concept_alignment_loss"]


def concept_alignment_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred C' and target P (B, k_cap, d_cap) -> scalar mean over B * k_cap * d_cap elements."""
    if pred.shape != target.shape:
        raise ValueError(f"concept_alignment_loss: C' {tuple(pred.shape)} and P {tuple(target.shape)} differ")
    return F.mse_loss(pred, target.detach().to(pred.dtype), reduction="mean")
