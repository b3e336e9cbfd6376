"""Weighted farthest point sampling (S4Token Fig. B): anchors biased towards small superpoints.

Each point i carries w_i = (|S(i)| / N) ** (-gamma), |S(i)| the size of its superpoint. Every
step picks argmax_i w_i * d_i, d_i the distance to the anchors chosen so far (computed as
argmax w_i^2 * d_i^2: the same order, no square root). gamma = 0 gives w = 1, i.e. plain FPS, and is
dispatched to voxclip.ops.fps itself so that it is exactly FPS (fpsample on CPU, the torch loop
elsewhere). The form of w is inferred (the paper gives gamma's range 0.2-0.6, not the formula;
docs/s4token.md).
"""
from __future__ import annotations

import torch

from voxclip.ops.fps import farthest_point_sample

__all__ = ["superpoint_weights", "weighted_fps_torch", "weighted_fps"]


def superpoint_weights(superpoint: torch.Tensor, gamma: float) -> torch.Tensor:
    """(N,) superpoint ids -> (N,) float weights (|S(i)| / N) ** (-gamma)."""
    sp = superpoint.long()
    _, inverse, counts = torch.unique(sp, return_inverse=True, return_counts=True)
    frac = counts[inverse].double() / float(len(sp))
    return frac.pow(-float(gamma))


def weighted_fps_torch(points: torch.Tensor, weights: torch.Tensor, num_samples: int,
                       start_idx: int = 0) -> torch.Tensor:
    """(N, 3) points, (N,) positive weights -> (S,) int64: each index maximises w_i * min-distance.

    With uniform weights this is exactly voxclip.ops.fps.fps_torch (same start, same lowest-index
    tie rule). Fewer points than samples: the order repeats cyclically, as fps_torch does.
    """
    n = points.shape[0]
    if n == 0:
        raise ValueError("weighted_fps: empty point set")
    pts = points.double()
    w2 = weights.to(pts).pow(2)
    min_d = torch.full((n,), float("inf"), dtype=pts.dtype, device=pts.device)
    out = torch.empty(num_samples, dtype=torch.long, device=points.device)
    far = torch.tensor(start_idx, device=points.device)
    steps = min(num_samples, n)
    for i in range(steps):
        out[i] = far
        min_d = torch.minimum(min_d, ((pts - pts[far]) ** 2).sum(-1))
        score = torch.where(torch.isinf(min_d), min_d, min_d * w2)
        far = score.argmax()
    if steps < num_samples:
        out = out[torch.arange(num_samples, device=out.device) % steps]
    return out


def weighted_fps(points: torch.Tensor, superpoint: torch.Tensor | None, num_samples: int, gamma: float = 0.4,
                 fps_backend: str = "auto") -> torch.Tensor:
    """WFPS of one (N, 3) cloud -> (S,) indices; gamma == 0 or no superpoints: plain FPS."""
    if gamma < 0:
        raise ValueError(f"weighted_fps: gamma must be >= 0, got {gamma}")
    if gamma == 0 or superpoint is None:
        return farthest_point_sample(points, num_samples, backend=fps_backend)
    if superpoint.shape[0] != points.shape[0]:
        raise ValueError(f"weighted_fps: {superpoint.shape[0]} superpoint ids for {points.shape[0]} points")
    return weighted_fps_torch(points, superpoint_weights(superpoint, gamma), num_samples)
