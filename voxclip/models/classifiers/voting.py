"""Test-time voting (Point-MAE's ``test_vote``): the logits of ``votes`` augmented copies of each cloud
are averaged and the argmax of the mean is the prediction.

Each copy takes ``num_points`` points drawn without replacement from the cloud it is given (the test
pipeline hands over 1200 FPS points for 1024-point models) and a per-sample per-axis scale from
U(2/3, 3/2) and shift from U(-0.2, 0.2) (PointcloudScaleAndTranslate, Point-MAE's test transform).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

__all__ = ["vote_copy", "vote_logits"]


def vote_copy(cloud: torch.Tensor, num_points: int | None, scale_range: Sequence[float], translate_range: float,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """One augmented copy (num_points, 3) of a cloud (N, 3)."""
    n = cloud.shape[0]
    if num_points is not None and num_points < n:
        cloud = cloud[torch.randperm(n, generator=generator)[:num_points].to(cloud.device)]
    lo, hi = scale_range
    scale = torch.empty(3).uniform_(lo, hi, generator=generator).to(cloud)
    shift = torch.empty(3).uniform_(-translate_range, translate_range, generator=generator).to(cloud)
    return cloud * scale + shift


def vote_logits(logits_fn: Callable[[torch.Tensor], torch.Tensor], clouds: Sequence[torch.Tensor], votes: int = 10,
                num_points: int | None = None, scale_range: Sequence[float] = (2.0 / 3.0, 1.5),
                translate_range: float = 0.2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean over ``votes`` of logits_fn((B, P, 3) batch of augmented copies) -> (B, K)."""
    if votes < 1:
        raise ValueError(f"vote_logits: votes must be >= 1, got {votes}")
    total = None
    for _ in range(votes):
        batch = torch.stack([vote_copy(c, num_points, scale_range, translate_range, generator) for c in clouds])
        logits = logits_fn(batch)
        total = logits if total is None else total + logits
    return total / votes
