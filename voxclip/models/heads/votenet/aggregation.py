"""Vote aggregation: FPS cluster centres among votes, ball-query grouping, PointNet (MLP + max-pool)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from voxclip.ops.ball_query import ball_query
from voxclip.ops.fps import farthest_point_sample

from .mlp import SharedMLP


class VoteAggregation(nn.Module):
    """Set abstraction over votes.

    Args:
        in_channels: vote feature width C. mlp_channels: shared MLP widths (output width = last).
        num_proposals: P cluster centres by FPS on vote positions. radius, nsample: ball query.
        normalize_xyz: divide relative positions by the radius before the MLP.
    """

    def __init__(self, in_channels: int, mlp_channels: Sequence[int] = (128, 128, 128), num_proposals: int = 256,
                 radius: float = 0.3, nsample: int = 16, normalize_xyz: bool = True, fps_backend: str = "auto"):
        super().__init__()
        self.mlp = SharedMLP(in_channels + 3, mlp_channels)
        self.out_channels = self.mlp.out_channels
        self.num_proposals, self.radius, self.nsample = num_proposals, radius, nsample
        self.normalize_xyz, self.fps_backend = normalize_xyz, fps_backend

    def forward(self, vote_xyz: torch.Tensor, vote_feats: torch.Tensor):
        """vote_xyz (B, S, 3), vote_feats (B, S, C) -> centres (B, P, 3), feats (B, P, C'), inds (B, P)."""
        inds = farthest_point_sample(vote_xyz.detach(), self.num_proposals, backend=self.fps_backend)
        rows = torch.arange(vote_xyz.shape[0], device=vote_xyz.device)
        centres = vote_xyz[rows[:, None], inds]  # (B, P, 3)
        group = ball_query(centres.detach(), vote_xyz.detach(), self.radius, self.nsample)  # (B, P, ns)
        rel = vote_xyz[rows[:, None, None], group] - centres[:, :, None, :]
        if self.normalize_xyz:
            rel = rel / self.radius
        grouped = torch.cat([rel, vote_feats[rows[:, None, None], group]], dim=-1)  # (B, P, ns, 3+C)
        feats = self.mlp(grouped).max(dim=2).values
        return centres, feats, inds
