"""PointNet++ set abstraction as a tokenizer: 3DETR's pre-encoder (models/model_3detr.py
``build_preencoder``: ``PointnetSAModuleVotes(radius=0.2, nsample=64, npoint=2048,
mlp=[3 * use_color, 64, 128, enc_dim], normalize_xyz=True)``).

Per point cloud: farthest point sampling picks M centres (voxclip.ops.fps); a ball query (radius r,
K samples, PointNet++ semantics: the first K points in index order, free slots repeat the first,
voxclip.ops.ball_query) groups the points around each centre; each grouped point is
``[(p - c) / r, features]`` (``normalize_xyz``); a shared MLP of 1x1 convolutions, each followed by
BatchNorm + ReLU (PointNet++ SharedMLP with bn=True, no conv bias), then a max over the K samples
gives the centre's token.
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.ops.ball_query import ball_query
from voxclip.ops.fps import farthest_point_sample
from voxclip.registry import MODELS

from .point_tokenizer import TokenizerOutput, input_clouds

__all__ = ["SetAbstractionTokenizer", "SharedPointMLP"]


class SharedPointMLP(nn.Sequential):
    """(P, C_in, K) grouped points -> (P, C_out, K): 1x1 Conv1d (no bias) + BatchNorm1d + ReLU per layer."""

    def __init__(self, channels: tuple[int, ...]):
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]
        super().__init__(*layers)


@MODELS.register_module()
class SetAbstractionTokenizer(nn.Module):
    """FPS + ball query + PointNet: M tokens of width ``embed_dim`` at FPS centres.

    Args:
        num_tokens: M centres (3DETR: 2048). radius: ball radius in metres (0.2).
        num_samples: K points per ball (64). mlp: hidden widths (64, 128); the last layer is embed_dim (256).
        embed_dim: token width. in_feat_channels: per-point features appended to the grouped xyz
            (3DETR: 0 = xyz only; 3 with --use_color).
        normalize_xyz: divide the grouped offsets by the radius (3DETR: True).
        pos_hidden: None -> ``pos`` is zeros (3DETR's encoder takes no positional embedding); an int
            -> an MLP (Linear-GELU-Linear) on the centre coordinates, as PointTokenizer.
        fps_backend: 'auto' | 'fpsample' | 'torch' (voxclip.ops.fps).
    forward: as PointTokenizer (flat points with batch index, or dense (B, N, 3)) -> TokenizerOutput
    (patch_idx = the ball-query indices (B, M, K)).
    """

    def __init__(self, num_tokens: int = 2048, radius: float = 0.2, num_samples: int = 64,
                 mlp: tuple[int, ...] = (64, 128), embed_dim: int = 256, in_feat_channels: int = 0,
                 normalize_xyz: bool = True, pos_hidden: int | None = None, fps_backend: str = "auto"):
        super().__init__()
        if num_tokens < 1 or num_samples < 1 or radius <= 0:
            raise ValueError(f"SetAbstractionTokenizer: need num_tokens, num_samples >= 1 and radius > 0, got "
                             f"{num_tokens}, {num_samples}, {radius}")
        self.num_tokens, self.radius, self.num_samples = num_tokens, float(radius), num_samples
        self.embed_dim, self.in_feat_channels = embed_dim, in_feat_channels
        self.normalize_xyz, self.fps_backend = normalize_xyz, fps_backend
        self.mlp = SharedPointMLP((3 + in_feat_channels, *mlp, embed_dim))
        self.pos_embed = None
        if pos_hidden is not None:
            self.pos_embed = nn.Sequential(nn.Linear(3, pos_hidden), nn.GELU(), nn.Linear(pos_hidden, embed_dim))

    def group(self, pts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One cloud (N, 3) -> FPS centres (M, 3) and ball-query indices (M, K)."""
        with torch.no_grad():
            idx = farthest_point_sample(pts.detach(), self.num_tokens, backend=self.fps_backend)
            centres = pts[idx]
            nbr = ball_query(centres.detach(), pts.detach(), self.radius, self.num_samples)
        return centres, nbr

    def forward(self, points: torch.Tensor, batch: torch.Tensor | None = None, feats: torch.Tensor | None = None,
                batch_size: int | None = None) -> TokenizerOutput:
        clouds = input_clouds("SetAbstractionTokenizer", self.in_feat_channels, points, feats, batch, batch_size)
        centres, groups, idxs = [], [], []
        for pts, f in clouds:
            c, nbr = self.group(pts)
            rel = pts[nbr] - c[:, None, :]  # (M, K, 3)
            if self.normalize_xyz:
                rel = rel / self.radius
            groups.append(torch.cat([rel, f[nbr]], dim=-1) if f is not None else rel)
            centres.append(c)
            idxs.append(nbr)
        centres_t = torch.stack(centres)
        bsz, m = centres_t.shape[:2]
        x = self.mlp(torch.cat(groups, dim=0).transpose(1, 2))  # (B*M, D, K)
        tokens = x.max(dim=2).values.view(bsz, m, self.embed_dim)
        pos = self.pos_embed(centres_t) if self.pos_embed is not None else torch.zeros_like(tokens)
        return TokenizerOutput(tokens=tokens, pos=pos, centers=centres_t, patch_idx=torch.stack(idxs))
