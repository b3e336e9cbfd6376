"""Ball query with PointNet++ semantics, written with torch ops."""
from __future__ import annotations

import torch

from .knn import pairwise_sq_dist

__all__ = ["ball_query"]


def ball_query(query: torch.Tensor, ref: torch.Tensor, radius: float, nsample: int,
               chunk_size: int = 2048, return_count: bool = False):
    """Up to `nsample` ref points within `radius` (strictly closer) of each query point.

    PointNet++ rule: the first `nsample` neighbours in ref index order; free slots repeat the first
    neighbour; a query with no neighbour gets index 0 everywhere (count 0 tells it apart).

    Args:
        query: (M, 3) or (B, M, 3); ref: (N, 3) or (B, N, 3).
    Returns:
        idx (..., M, nsample) int64 into ref; with return_count also count (..., M) neighbours found
        (capped at nsample).
    """
    if query.dim() != ref.dim() or query.dim() not in (2, 3):
        raise ValueError(f"ball_query: query {tuple(query.shape)} and ref {tuple(ref.shape)} must both be (M,3)/(B,M,3)")
    if nsample < 1 or radius <= 0:
        raise ValueError(f"ball_query: need nsample >= 1 and radius > 0, got {nsample}, {radius}")
    single = query.dim() == 2
    q = query[None] if single else query
    r = ref[None] if single else ref
    n = r.shape[1]
    arange = torch.arange(n, device=r.device)
    k = min(nsample, n)
    out_idx, out_cnt = [], []
    for s in range(0, q.shape[1], chunk_size):
        inside = pairwise_sq_dist(q[:, s:s + chunk_size], r) < radius * radius
        # Key = own index inside the ball, n outside: the k smallest keys are the first k neighbours.
        key = torch.where(inside, arange, torch.full_like(arange, n))
        first = key.topk(k, dim=-1, largest=False, sorted=True).values
        cnt = inside.sum(-1).clamp_max(nsample)
        if k < nsample:
            first = torch.cat([first, first.new_full((*first.shape[:-1], nsample - k), n)], -1)
        # Slots past the count repeat the first neighbour (0 when there is none).
        fill = torch.where(cnt > 0, first[..., 0], torch.zeros_like(cnt))
        slot = torch.arange(nsample, device=r.device)
        idx = torch.where(slot < cnt[..., None], first, fill[..., None])
        out_idx.append(idx)
        out_cnt.append(cnt)
    if out_idx:
        idx, cnt = torch.cat(out_idx, 1), torch.cat(out_cnt, 1)
    else:
        idx = torch.zeros(q.shape[0], 0, nsample, dtype=torch.long, device=q.device)
        cnt = torch.zeros(q.shape[0], 0, dtype=torch.long, device=q.device)
    if single:
        idx, cnt = idx[0], cnt[0]
    return (idx, cnt) if return_count else idx
