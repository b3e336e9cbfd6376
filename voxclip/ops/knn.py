"""k nearest neighbours by exact pairwise distances (torch.cdist without the matmul shortcut) + topk."""
from __future__ import annotations

import torch

__all__ = ["knn", "pairwise_sq_dist"]


def pairwise_sq_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (..., M, N) between (..., M, D) and (..., N, D).

    Uses the direct difference form: the |a|^2 + |b|^2 - 2ab shortcut loses the ordering of close
    neighbours in float32.
    """
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist") ** 2


def knn(query: torch.Tensor, ref: torch.Tensor, k: int, chunk_size: int = 2048):
    """The k nearest `ref` points of every `query` point.

    Args:
        query: (M, D) or (B, M, D); ref: (N, D) or (B, N, D) (same batching as query).
        k: neighbours per query, 1 <= k <= N.
        chunk_size: queries processed per step (bounds memory to chunk_size x N distances).
    Returns:
        (dist, idx): Euclidean distances and int64 indices into ref, (..., M, k), nearest first.
    """
    if query.dim() != ref.dim() or query.dim() not in (2, 3):
        raise ValueError(f"knn: query {tuple(query.shape)} and ref {tuple(ref.shape)} must both be (M,D)/(B,M,D)")
    single = query.dim() == 2
    q = query[None] if single else query
    r = ref[None] if single else ref
    if q.shape[0] != r.shape[0] or q.shape[-1] != r.shape[-1]:
        raise ValueError(f"knn: batch/dim mismatch between query {tuple(query.shape)} and ref {tuple(ref.shape)}")
    n = r.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"knn: k={k} must be in [1, {n}] (number of reference points)")
    dists, idxs = [], []
    for s in range(0, q.shape[1], chunk_size):
        d2 = pairwise_sq_dist(q[:, s:s + chunk_size], r)
        val, idx = d2.topk(k, dim=-1, largest=False, sorted=True)
        dists.append(val.clamp_min(0).sqrt())
        idxs.append(idx)
    if not dists:  # zero queries
        empty = q.new_zeros(q.shape[0], 0, k)
        dists, idxs = [empty], [empty.long()]
    dist, idx = torch.cat(dists, 1), torch.cat(idxs, 1)
    return (dist[0], idx[0]) if single else (dist, idx)
