"""Random-cuboid crop (DepthContrast, as modified for detection by 3DETR, utils/random_cuboid.py).

Up to ``max_tries`` (100) draws: crop fractions f ~ U(min_crop, max_crop) per axis, rejected unless at
least one of the xy / xz / yz aspect ratios min(f_a, f_b) / max(f_a, f_b) is >= ``aspect``; a centre
is a random input point; the cuboid spans centre +- extent * f / 2 (extent = max - min of the cloud,
bounds inclusive). A draw is rejected when it keeps fewer than ``min_points`` points, or, when the
sample has boxes, when no box centre lies inside the bounds of the kept points
(``box_filter_policy='center'``). The accepted draw keeps those points (every per-point key) and
those boxes (gt_labels / gt_instance_ids with them). If every draw is rejected the sample is
returned unchanged.

3DETR settings: ScanNet min_points 30000, aspect 0.8, crop 0.5-1.0, applied to the full scan before
sampling 40k points; SUN RGB-D min_points 30000, aspect 0.75, crop 0.75-1.0, after flip, rotation and
scale. Place it where the config's paper places it.
"""
from __future__ import annotations

import numpy as np

from voxclip.registry import TRANSFORMS

from .base import RandomTransform, per_point_keys

__all__ = ["RandomCuboid"]

_BOX_KEYS = ("gt_boxes", "gt_labels", "gt_instance_ids")


def aspect_ok(crop: np.ndarray, aspect_min: float) -> bool:
    """3DETR check_aspect: any of the three pairwise ratios reaches aspect_min."""
    pairs = ((0, 1), (0, 2), (1, 2))
    return any(min(crop[a], crop[b]) / max(crop[a], crop[b]) >= aspect_min for a, b in pairs)


@TRANSFORMS.register_module()
class RandomCuboid(RandomTransform):
    """Args: min_points, aspect, min_crop, max_crop, max_tries (see module docstring); rng for tests."""

    def __init__(self, min_points: int = 30000, aspect: float = 0.8, min_crop: float = 0.5, max_crop: float = 1.0,
                 max_tries: int = 100, rng: np.random.Generator | None = None):
        super().__init__(rng)
        if not 0 < min_crop <= max_crop:
            raise ValueError(f"RandomCuboid: need 0 < min_crop <= max_crop, got {min_crop}, {max_crop}")
        self.min_points, self.aspect = int(min_points), float(aspect)
        self.min_crop, self.max_crop, self.max_tries = float(min_crop), float(max_crop), int(max_tries)

    def transform(self, results: dict) -> dict:
        pts = np.asarray(results["points"])[:, :3]
        extent = pts.max(0) - pts.min(0)
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 7))), dtype=np.float64).reshape(-1, 7)
        for _ in range(self.max_tries):
            crop = self.min_crop + self.rng.random(3) * (self.max_crop - self.min_crop)
            if not aspect_ok(crop, self.aspect):
                continue
            centre = pts[self.rng.integers(len(pts))]
            half = extent * crop / 2.0
            keep = np.all((pts >= centre - half) & (pts <= centre + half), axis=1)
            if keep.sum() < self.min_points:
                continue
            box_keep = np.ones(len(boxes), dtype=bool)
            if len(boxes):
                lo, hi = pts[keep].min(0), pts[keep].max(0)
                box_keep = np.all((boxes[:, :3] >= lo) & (boxes[:, :3] <= hi), axis=1)
                if not box_keep.any():
                    continue
            for key in per_point_keys(results):
                results[key] = np.asarray(results[key])[keep]
            for key in _BOX_KEYS:
                if key in results:
                    results[key] = np.asarray(results[key])[box_keep]
            results.setdefault("meta", {}).setdefault("aug", {})["cuboid"] = (centre - half).tolist() + (centre + half).tolist()
            return results
        return results

    def __repr__(self) -> str:
        return (f"RandomCuboid(min_points={self.min_points}, aspect={self.aspect}, min_crop={self.min_crop}, "
                f"max_crop={self.max_crop})")
