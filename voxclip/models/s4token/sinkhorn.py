"""Sinkhorn-Knopp balanced assignments (SwAV, Caron et al. 2020) of teacher features to prototypes.

Q = diag(u) exp(S / eps) diag(v) with S the (B, K) prototype scores: rows (samples) sum to 1 and
columns (prototypes) to B / K, so every prototype gets an equal share of the batch (no collapse).
The iterations alternate the two normalisations and end with the row one, so the row marginals
are exact and the column marginals converge with the number of iterations.
"""
from __future__ import annotations

import torch

__all__ = ["sinkhorn_knopp"]


@torch.no_grad()
def sinkhorn_knopp(scores: torch.Tensor, eps: float = 0.05, n_iters: int = 3) -> torch.Tensor:
    """(B, K) scores -> (B, K) soft assignments, rows summing to 1, columns to ~B/K."""
    if scores.dim() != 2:
        raise ValueError(f"sinkhorn_knopp: expected (B, K) scores, got {tuple(scores.shape)}")
    b, k = scores.shape
    s = scores.double() / eps
    q = torch.exp(s - s.max()).t()  # (K, B); the shift cancels in the normalisations
    q /= q.sum()
    for _ in range(n_iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).t().to(scores.dtype)
