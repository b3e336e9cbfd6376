"""Hierarchical point tokenizer (EPCL's segmentation tokenizer: e.g. 4096 points -> 2048 -> 1024 by FPS).

Stage 1 groups the input points around FPS centres (kNN patches, relative xyz + point features,
mini-PointNet) as PointTokenizer does; every later stage groups the previous stage's centres the
same way, with the previous stage's features appended to the relative xyz (PointNet++ set
abstraction with kNN grouping). The last stage's features are the tokens (with an MLP positional
embedding of their centres); every stage's (centres, features) are returned for the decoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import nn

from voxclip.registry import MODELS

from .point_tokenizer import MiniPointNet, TokenizerOutput, group_patches, split_by_batch

__all__ = ["HierarchicalTokenizer", "HierarchicalTokenizerOutput"]


@dataclass
class HierarchicalTokenizerOutput(TokenizerOutput):
    """levels: [(centres (B, n_s, 3), feats (B, n_s, C_s))] of every stage but the last, fine to coarse."""

    levels: list = field(default_factory=list)


@MODELS.register_module()
class HierarchicalTokenizer(nn.Module):
    """Args:
        num_tokens: centres per stage, fine to coarse (EPCL S3DIS: (2048, 1024)).
        patch_size: kNN group size per stage (int or one per stage).
        channels: feature width per stage; the last is embed_dim (= the encoder width).
        in_feat_channels: per-point features appended to the relative xyz at stage 1.
        pointnet_hidden: mini-PointNet widths (one pair for all stages). pos_hidden: pos-MLP width.
    forward(points (N_total, 3), batch, feats, batch_size) -> HierarchicalTokenizerOutput.
    """

    def __init__(self, num_tokens: Sequence[int] = (2048, 1024), patch_size: int | Sequence[int] = 32,
                 channels: Sequence[int] = (384, 768), in_feat_channels: int = 0,
                 pointnet_hidden: Sequence[int] = (128, 256), pos_hidden: int = 128, fps_backend: str = "auto"):
        super().__init__()
        self.num_stages = len(num_tokens)
        sizes = [patch_size] * self.num_stages if isinstance(patch_size, int) else list(patch_size)
        if len(sizes) != self.num_stages or len(channels) != self.num_stages:
            raise ValueError(f"HierarchicalTokenizer: {self.num_stages} stages need as many patch sizes and channels, "
                             f"got {sizes} and {list(channels)}")
        self.num_tokens, self.patch_sizes, self.channels = list(num_tokens), sizes, list(channels)
        self.embed_dim, self.in_feat_channels, self.fps_backend = int(channels[-1]), in_feat_channels, fps_backend
        ins = [3 + in_feat_channels] + [3 + c for c in channels[:-1]]
        self.stages = nn.ModuleList([MiniPointNet(i, c, tuple(pointnet_hidden)) for i, c in zip(ins, channels)])
        self.pos_embed = nn.Sequential(nn.Linear(3, pos_hidden), nn.GELU(), nn.Linear(pos_hidden, self.embed_dim))

    def _stage(self, s: int, clouds):
        """clouds: per-sample (xyz (n, 3), feats (n, C) or None) -> (centres (B, m, 3), feats (B, m, C_s), idx)."""
        cs, patches, idxs = [], [], []
        for pts, f in clouds:
            c, idx = group_patches(pts, self.num_tokens[s], self.patch_sizes[s], self.fps_backend)
            rel = pts[idx] - c[:, None, :]
            patches.append(torch.cat([rel, f[idx]], dim=-1) if f is not None else rel)
            cs.append(c)
            idxs.append(idx)
        centres = torch.stack(cs)
        b, m = centres.shape[:2]
        return centres, self.stages[s](torch.cat(patches)).view(b, m, -1), torch.stack(idxs)

    def forward(self, points: torch.Tensor, batch: torch.Tensor | None = None, feats: torch.Tensor | None = None,
                batch_size: int | None = None) -> HierarchicalTokenizerOutput:
        if self.in_feat_channels and (feats is None or feats.shape[-1] != self.in_feat_channels):
            raise ValueError(f"HierarchicalTokenizer: needs {self.in_feat_channels}-channel point feats")
        use = feats if self.in_feat_channels else None
        if points.dim() == 3:
            clouds = [(p, use[i] if use is not None else None) for i, p in enumerate(points)]
        else:
            if batch is None:
                batch = torch.zeros(points.shape[0], dtype=torch.long, device=points.device)
            clouds = split_by_batch(points, batch, batch_size, use)
        levels = []
        for s in range(self.num_stages):
            centres, f, idx = self._stage(s, clouds)
            if s < self.num_stages - 1:
                levels.append((centres, f))
                clouds = list(zip(centres, f))
        return HierarchicalTokenizerOutput(tokens=f, pos=self.pos_embed(centres), centers=centres, patch_idx=idx,
                                           levels=levels)
