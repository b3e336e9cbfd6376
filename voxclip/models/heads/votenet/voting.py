"""Voting module: each seed regresses an offset to its object's centre and a feature residual."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .mlp import SharedMLP


class VotingModule(nn.Module):
    """vote_factor 1: vote_xyz = seed_xyz + dxyz, vote_feats = seed_feats + dfeat (L2-normalised).

    Args: in_channels C; hidden widths (default (C, C)); norm_feats: L2-normalise vote features
    (as VoteNet does before aggregation).
    """

    def __init__(self, in_channels: int, hidden: Sequence[int] | None = None, norm_feats: bool = True):
        super().__init__()
        hidden = (in_channels, in_channels) if hidden is None else tuple(hidden)
        self.mlp = SharedMLP(in_channels, hidden, 3 + in_channels)
        self.norm_feats = norm_feats

    def forward(self, seed_xyz: torch.Tensor, seed_feats: torch.Tensor):
        """seed_xyz (B, S, 3), seed_feats (B, S, C) -> vote_xyz (B, S, 3), vote_feats (B, S, C)."""
        out = self.mlp(seed_feats)
        vote_xyz = seed_xyz + out[..., :3]
        vote_feats = seed_feats + out[..., 3:]
        if self.norm_feats:
            vote_feats = F.normalize(vote_feats, p=2, dim=-1)
        return vote_xyz, vote_feats
