"""Superpoint-guided patches and per-patch scale normalisation (S4Token Sec. tokenization).

Grouping (inferred; the paper shows only that its patches follow superpoint boundaries, Fig. A):
the K nearest points of an anchor, where points outside the anchor's superpoint have their
distance multiplied by ``outside_penalty`` (lambda). lambda = 1 is Point-MAE's plain kNN patch;
lambda = inf fills the patch from the anchor's own superpoint first, then from the nearest other
points. Everything is relative, so the grouping does not depend on the scene's metric scale.

Normalisation: x~ = (p - a) / r_a with r_a the patch radius (max distance to the anchor, or the RMS
distance): each patch lies in the unit ball at any scale. Anchor positions for the positional
embedding: (a - centroid) / R with R the cloud's RMS distance to its centroid (or half the
bounding-box diagonal). Scaling the input by s > 0 scales r_a and R by s: tokens unchanged.
"""
from __future__ import annotations

import torch

from voxclip.ops.knn import pairwise_sq_dist

__all__ = ["superpoint_groups", "normalise_patches", "normalise_anchors"]


def superpoint_groups(points: torch.Tensor, anchor_idx: torch.Tensor, group_size: int,
                      superpoint: torch.Tensor | None = None, outside_penalty: float = 2.0,
                      chunk_size: int = 512) -> torch.Tensor:
    """(M, K) int64 indices of each anchor's patch, nearest (penalised) first; the anchor itself is first.

    With fewer than K points, the lists repeat cyclically (max-pooling ignores repeats).
    """
    n = points.shape[0]
    k = min(group_size, n)
    out = []
    use_sp = superpoint is not None and outside_penalty != 1.0
    for s in range(0, len(anchor_idx), chunk_size):
        a = anchor_idx[s:s + chunk_size]
        d2 = pairwise_sq_dist(points[a], points)  # (m, N)
        if use_sp:
            outside = superpoint[a][:, None] != superpoint[None, :]
            if outside_penalty == float("inf"):
                d2 = d2 + outside.to(d2.dtype) * (d2.max() + 1.0)  # own superpoint strictly first
            else:
                d2 = torch.where(outside, d2 * float(outside_penalty) ** 2, d2)
        out.append(d2.topk(k, dim=1, largest=False, sorted=True).indices)
    idx = torch.cat(out) if out else torch.zeros(0, k, dtype=torch.long, device=points.device)
    if k < group_size:
        idx = idx[:, torch.arange(group_size, device=idx.device) % k]
    return idx


def normalise_patches(points: torch.Tensor, anchors: torch.Tensor, idx: torch.Tensor, mode: str = "max",
                      eps: float = 1e-9) -> torch.Tensor:
    """(M, K, 3) patch coordinates relative to their anchor, divided by the patch radius ('max' |
    'rms'); 'none' keeps metric offsets (Point-MAE)."""
    rel = points[idx] - anchors[:, None, :]
    if mode == "none":
        return rel
    d = rel.norm(dim=-1)
    if mode == "max":
        r = d.max(dim=1, keepdim=True).values
    elif mode == "rms":
        r = d.pow(2).mean(dim=1, keepdim=True).sqrt()
    else:
        raise ValueError(f"normalise_patches: unknown mode {mode!r} (max, rms, none)")
    return rel / r.clamp_min(eps)[..., None]


def normalise_anchors(points: torch.Tensor, anchors: torch.Tensor, mode: str = "rms", eps: float = 1e-9
                      ) -> torch.Tensor:
    """(M, 3) anchors in scene-normalised coordinates: (a - centroid) / R ('rms' | 'bbox'); 'none': raw."""
    if mode == "none":
        return anchors
    c = points.mean(dim=0)
    if mode == "rms":
        r = (points - c).pow(2).sum(-1).mean().sqrt()
    elif mode == "bbox":
        r = 0.5 * (points.max(0).values - points.min(0).values).norm()
    else:
        raise ValueError(f"normalise_anchors: unknown mode {mode!r} (rms, bbox, none)")
    return (anchors - c) / r.clamp_min(eps)
