"""Voxelisation of one sample: unique voxels, averaged features and the point -> voxel map."""
from __future__ import annotations

import numpy as np
import torch

from voxclip.registry import TRANSFORMS
from voxclip.sparse import voxelize


@TRANSFORMS.register_module()
class Voxelize:
    """voxel_coords int32 (V,3) = unique floor(points / voxel_size); voxel_feats float32 (V,C) =
    point_feats averaged per voxel; inverse int64 (N,) = voxel row of each point.

    Uses voxclip.sparse.voxelize, so the voxel order (sorted x, y, z) matches what models build.
    Needs `point_feats` (PointFeatures) in the sample.
    """

    def __init__(self, voxel_size: float = 0.05):
        if not float(voxel_size) > 0:
            raise ValueError(f"Voxelize: voxel_size must be positive, got {voxel_size}")
        self.voxel_size = float(voxel_size)

    def __call__(self, results: dict) -> dict:
        if "point_feats" not in results:
            raise KeyError("Voxelize: sample has no 'point_feats' (add PointFeatures before Voxelize)")
        points = torch.as_tensor(np.asarray(results["points"], dtype=np.float32))
        feats = torch.as_tensor(np.asarray(results["point_feats"], dtype=np.float32))
        sparse, inverse = voxelize(points, self.voxel_size, feats)
        results["voxel_coords"] = sparse.coords[:, 1:].numpy().astype(np.int32)
        results["voxel_feats"] = sparse.feats.numpy().astype(np.float32)
        results["inverse"] = inverse.numpy().astype(np.int64)
        results.setdefault("meta", {})["voxel_size"] = self.voxel_size
        return results

    def __repr__(self) -> str:
        return f"Voxelize(voxel_size={self.voxel_size})"
