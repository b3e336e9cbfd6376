"""PointGroup's ScoreNet: a small sparse U-Net over each cluster's voxelised point features.

Each cluster is voxelised on its own grid (one "batch" element per cluster): coordinates relative
to the cluster's minimum, scaled by ``scale`` voxels per metre but never more than ``full_scale``
voxels across its largest extent (released: 50 and 14), features averaged per voxel; the U-Net
output is max-pooled per cluster and mapped to one score logit.
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip import sparse as sp

__all__ = ["ScoreNet", "cluster_voxels"]


def cluster_voxels(points: torch.Tensor, feats: torch.Tensor, point_idx: torch.Tensor, cluster_idx: torch.Tensor,
                   scale: float, full_scale: int) -> sp.SparseTensor:
    """(point, cluster) membership pairs -> SparseTensor with batch index = cluster id."""
    pts = points[point_idx]
    n = int(cluster_idx.max()) + 1
    idx3 = cluster_idx[:, None].expand(-1, 3)
    lo = pts.new_full((n, 3), float("inf")).scatter_reduce(0, idx3, pts, "amin")
    hi = pts.new_full((n, 3), float("-inf")).scatter_reduce(0, idx3, pts, "amax")
    extent = (hi - lo).max(1).values.clamp_min(1e-6)
    s = torch.minimum(torch.full_like(extent, float(scale)), (full_scale - 1e-3) / extent)
    grid = torch.floor((pts - lo[cluster_idx]) * s[cluster_idx, None]).to(torch.int64)
    key = torch.cat([cluster_idx[:, None], grid], 1)
    uniq, inv = torch.unique(key, dim=0, return_inverse=True)
    f = torch.zeros(len(uniq), feats.shape[1], dtype=feats.dtype, device=feats.device).index_add_(0, inv, feats[point_idx])
    f = f / torch.bincount(inv, minlength=len(uniq)).to(feats.dtype)[:, None]
    return sp.SparseTensor(f, uniq.to(torch.int32))


class _Block(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(sp.BatchNorm(cin), sp.ReLU(), sp.SubMConv3d(cin, cout, 3))


class ScoreNet(nn.Module):
    """U-Net with two levels (released: widths m, 2m with m=16) -> BN-ReLU -> max pool -> Linear(m, 1)."""

    def __init__(self, in_channels: int, width: int = 16):
        super().__init__()
        m = int(width)
        self.stem = sp.SubMConv3d(in_channels, m, 3)
        self.enc = _Block(m, m)
        self.down = nn.Sequential(sp.BatchNorm(m), sp.ReLU(), sp.SparseConv3d(m, 2 * m))
        self.mid = _Block(2 * m, 2 * m)
        self.up = nn.Sequential(sp.BatchNorm(2 * m), sp.ReLU(), sp.SparseInverseConv3d(2 * m, m))
        self.dec = _Block(2 * m, m)
        self.out = nn.Sequential(sp.BatchNorm(m), sp.ReLU())
        self.linear = nn.Linear(m, 1)

    def forward(self, x: sp.SparseTensor, num_clusters: int) -> torch.Tensor:
        skip = self.enc(self.stem(x))
        y = self.up(self.mid(self.down(skip)))
        y = self.out(self.dec(sp.cat(y, skip)))
        return self.linear(sp.global_max_pool(y, num_clusters)).squeeze(1)
