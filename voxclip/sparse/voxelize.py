"""Points -> voxels (with feature averaging) and voxel features -> points."""
from __future__ import annotations

import torch

from .kernel_map import unique_coords
from .tensor import SparseTensor


def voxel_coords(points: torch.Tensor, voxel_size: float, batch: torch.Tensor | None = None):
    """Unique (batch, x, y, z) voxel indices of points and the point -> voxel inverse map.

    Voxel index = floor(xyz / voxel_size), so voxel v spans [v, v + 1) * voxel_size.
    Returns (coords int32 (V, 4) sorted by (batch, x, y, z), inverse int64 (N,)).
    """
    if points.dim() != 2 or points.shape[1] < 3:
        raise ValueError(f"points must be (N, >=3), got {tuple(points.shape)}")
    grid = torch.floor(points[:, :3] / voxel_size).to(torch.int64)
    if batch is None:
        batch = torch.zeros(points.shape[0], dtype=torch.int64, device=points.device)
    coords, inverse = unique_coords(grid, batch)
    return coords.to(torch.int32), inverse


def voxelize(points: torch.Tensor, voxel_size: float, feats: torch.Tensor | None = None,
             batch: torch.Tensor | None = None):
    """Build a SparseTensor from points.

    Args:
        points: (N, 3+) coordinates in metres.
        voxel_size: edge length in metres.
        feats: (N, C) point features, averaged per voxel; defaults to the xyz coordinates.
        batch: (N,) batch index of each point (default: all 0).
    Returns:
        (SparseTensor, inverse) where inverse (N,) maps each point to its voxel row.
    """
    coords, inverse = voxel_coords(points, voxel_size, batch)
    if feats is None:
        feats = points[:, :3]
    n_vox = coords.shape[0]
    summed = torch.zeros(n_vox, feats.shape[1], dtype=feats.dtype, device=feats.device)
    summed.index_add_(0, inverse, feats)
    counts = torch.bincount(inverse, minlength=n_vox).clamp_min(1).to(feats.dtype)
    return SparseTensor(summed / counts[:, None], coords), inverse


def devoxelize(x: SparseTensor | torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Voxel features back to the points they came from: (N, C)."""
    feats = x.feats if isinstance(x, SparseTensor) else x
    return feats[inverse]
