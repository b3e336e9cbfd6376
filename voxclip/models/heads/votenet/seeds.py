"""Seed points for voting: per-sample FPS over the input points, features from their voxels."""
from __future__ import annotations

import torch

from voxclip.ops.fps import fps_ragged


def sample_seeds(voxel_feats: torch.Tensor, points: torch.Tensor, point_batch: torch.Tensor,
                 inverse: torch.Tensor, num_seeds: int, batch_size: int, fps_backend: str = "auto"):
    """Pick `num_seeds` points per sample by FPS and give each its voxel's backbone feature.

    Args:
        voxel_feats: (V, C) backbone output rows, aligned with inputs['coords'].
        points: (N, 3) all points of the batch; point_batch: (N,) sample index; inverse: (N,) point -> voxel.
    Returns:
        seed_xyz (B, S, 3), seed_feats (B, S, C), seed_inds (B, S) indices into `points`.
    """
    inds = fps_ragged(points.detach(), point_batch, num_seeds, batch_size, backend=fps_backend)
    return points[inds], voxel_feats[inverse[inds]], inds
