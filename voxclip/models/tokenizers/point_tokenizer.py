"""Point tokenizer (Point-BERT / Point-MAE style).

Steps per point cloud: farthest point sampling picks M centres; the K nearest points of each centre
form a patch, expressed relative to its centre; a mini-PointNet (shared point MLP, max-pool, concat
of the pooled feature to every point, second MLP, max-pool) embeds each patch into one token; an MLP
on the centre coordinates gives the token's positional embedding.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from voxclip.ops.fps import farthest_point_sample
from voxclip.ops.knn import knn
from voxclip.registry import MODELS

__all__ = ["PointTokenizer", "TokenizerOutput", "MiniPointNet", "split_by_batch", "group_patches"]


@dataclass
class TokenizerOutput:
    """tokens (B, M, D); pos (B, M, D) positional embedding; centers (B, M, 3); patch_idx (B, M, K)
    indices into each sample's own point list."""

    tokens: torch.Tensor
    pos: torch.Tensor
    centers: torch.Tensor
    patch_idx: torch.Tensor


def split_by_batch(points: torch.Tensor, batch: torch.Tensor, batch_size: int | None = None,
                   feats: torch.Tensor | None = None) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Flat (N_total, 3) points (+ optional (N_total, C) feats) -> per-sample list, original order kept."""
    if points.dim() != 2 or points.shape[1] != 3:
        raise ValueError(f"split_by_batch: points must be (N, 3), got {tuple(points.shape)}")
    if batch.shape[0] != points.shape[0]:
        raise ValueError(f"split_by_batch: point_batch has {batch.shape[0]} rows for {points.shape[0]} points")
    bsz = int(batch.max()) + 1 if batch_size is None else batch_size
    out = []
    for b in range(bsz):
        mask = batch == b
        if not bool(mask.any()):
            raise ValueError(f"split_by_batch: batch element {b} has no points")
        out.append((points[mask], feats[mask] if feats is not None else None))
    return out


def group_patches(points: torch.Tensor, num_groups: int, group_size: int, fps_backend: str = "auto"
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """FPS centres (M, 3) of one cloud (N, 3) and the indices (M, K) of their K nearest points.

    With fewer than K points, neighbour lists repeat cyclically (max-pooling ignores repeats).
    """
    n = points.shape[0]
    with torch.no_grad():
        centre_idx = farthest_point_sample(points.detach(), num_groups, backend=fps_backend)
        centres = points[centre_idx]
        k = min(group_size, n)
        _, idx = knn(centres.detach(), points.detach(), k)
        if k < group_size:
            idx = idx[:, torch.arange(group_size, device=idx.device) % k]
    return centres, idx


class MiniPointNet(nn.Module):
    """Patch embedding: (P, K, C_in) -> (P, D). Two shared MLPs with a global-feature concat between."""

    def __init__(self, in_channels: int, embed_dim: int, hidden: tuple[int, int] = (128, 256)):
        super().__init__()
        h1, h2 = hidden
        self.first = nn.Sequential(
            nn.Conv1d(in_channels, h1, 1), nn.BatchNorm1d(h1), nn.ReLU(inplace=True), nn.Conv1d(h1, h2, 1))
        self.second = nn.Sequential(
            nn.Conv1d(2 * h2, 2 * h2, 1), nn.BatchNorm1d(2 * h2), nn.ReLU(inplace=True), nn.Conv1d(2 * h2, embed_dim, 1))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        x = self.first(patches.transpose(1, 2))  # (P, h2, K)
        glob = x.max(dim=2, keepdim=True).values
        x = self.second(torch.cat([glob.expand_as(x), x], dim=1))
        return x.max(dim=2).values


def input_clouds(name: str, in_feat_channels: int, points: torch.Tensor, feats: torch.Tensor | None,
                 batch: torch.Tensor | None, batch_size: int | None) -> list:
    """A tokenizer's input (flat with `batch`, or dense (B, N, 3)) as [(points, feats or None)] per
    cloud; feats are checked against `in_feat_channels` and dropped when it is 0."""
    if in_feat_channels and feats is None:
        raise ValueError(f"{name}: in_feat_channels={in_feat_channels} but no feats given")
    if feats is not None and in_feat_channels and feats.shape[-1] != in_feat_channels:
        raise ValueError(f"{name}: feats have {feats.shape[-1]} channels, expected {in_feat_channels}")
    use_feats = feats if in_feat_channels else None
    if points.dim() == 3:
        return [(p, use_feats[i] if use_feats is not None else None) for i, p in enumerate(points)]
    if batch is None:
        batch = torch.zeros(points.shape[0], dtype=torch.long, device=points.device)
    return split_by_batch(points, batch, batch_size, use_feats)


@MODELS.register_module()
class PointTokenizer(nn.Module):
    """FPS + kNN patches + mini-PointNet tokens + MLP positional embedding.

    Args:
        num_tokens: M, patch centres per cloud.
        patch_size: K, points per patch.
        embed_dim: D, token width.
        in_feat_channels: extra per-point features appended to the relative xyz (0: xyz only).
        pos_hidden: hidden width of the positional-embedding MLP.
        pointnet_hidden: widths of the mini-PointNet's two stages.
        fps_backend: 'auto' | 'fpsample' | 'torch' (voxclip.ops.fps).
    """

    def __init__(self, num_tokens: int = 2048, patch_size: int = 32, embed_dim: int = 384,
                 in_feat_channels: int = 0, pos_hidden: int = 128,
                 pointnet_hidden: tuple[int, int] = (128, 256), fps_backend: str = "auto"):
        super().__init__()
        if num_tokens < 1 or patch_size < 1:
            raise ValueError(f"PointTokenizer: num_tokens ({num_tokens}) and patch_size ({patch_size}) must be >= 1")
        self.num_tokens, self.patch_size, self.embed_dim = num_tokens, patch_size, embed_dim
        self.in_feat_channels = in_feat_channels
        self.fps_backend = fps_backend
        self.embed = MiniPointNet(3 + in_feat_channels, embed_dim, tuple(pointnet_hidden))
        self.pos_embed = nn.Sequential(nn.Linear(3, pos_hidden), nn.GELU(), nn.Linear(pos_hidden, embed_dim))

    def forward(self, points: torch.Tensor, batch: torch.Tensor | None = None, feats: torch.Tensor | None = None,
                batch_size: int | None = None) -> TokenizerOutput:
        """points: flat (N_total, 3) with `batch` (N_total,), or dense (B, N, 3) with batch=None.
        feats: matching (N_total, C) / (B, N, C) when in_feat_channels > 0."""
        clouds = input_clouds("PointTokenizer", self.in_feat_channels, points, feats, batch, batch_size)
        centres, patches, idxs = [], [], []
        for pts, f in clouds:
            c, idx = group_patches(pts, self.num_tokens, self.patch_size, self.fps_backend)
            rel = pts[idx] - c[:, None, :]  # (M, K, 3): patches normalised to their centres
            patches.append(torch.cat([rel, f[idx]], dim=-1) if f is not None else rel)
            centres.append(c)
            idxs.append(idx)
        centres_t = torch.stack(centres)
        bsz, m = centres_t.shape[:2]
        tokens = self.embed(torch.cat(patches, dim=0)).view(bsz, m, self.embed_dim)
        return TokenizerOutput(tokens=tokens, pos=self.pos_embed(centres_t), centers=centres_t,
                               patch_idx=torch.stack(idxs))
