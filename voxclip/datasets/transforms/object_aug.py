"""Object-level sampling and augmentation (Point-MAE fine-tuning recipe).

``FPSSample``: farthest point sampling to ``pool`` points, then (when ``num_points < pool``) a random
subset of ``num_points`` of them: Point-MAE trains on 1024 of 1200 FPS points (2048 of 2400), and
tests on the first 1024 FPS points (``pool=None``).
``ScaleAndTranslate``: per-axis scale from U(2/3, 3/2) and per-axis shift from U(-0.2, 0.2)
(Point-MAE's PointcloudScaleAndTranslate); boxes follow (axis-aligned boxes stay exact).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from voxclip.ops.fps import farthest_point_sample
from voxclip.registry import TRANSFORMS

from .base import RandomTransform, per_point_keys

__all__ = ["FPSSample", "ScaleAndTranslate", "scale_and_translate"]


@TRANSFORMS.register_module()
class FPSSample(RandomTransform):
    """Args:
        num_points: points kept.
        pool: FPS first to this many points (None: = num_points, deterministic) and draw
            num_points of them at random without replacement.
    """

    def __init__(self, num_points: int = 1024, pool: int | None = None, rng: np.random.Generator | None = None):
        super().__init__(rng)
        self.num_points = int(num_points)
        self.pool = int(pool) if pool is not None else self.num_points
        if self.num_points <= 0 or self.pool < self.num_points:
            raise ValueError(f"FPSSample: need 0 < num_points <= pool, got {num_points}, {pool}")

    def transform(self, results: dict) -> dict:
        pts = np.asarray(results["points"], np.float32)
        pool = min(self.pool, len(pts))
        idx = farthest_point_sample(torch.from_numpy(pts), pool).numpy()
        if self.num_points < pool:
            idx = idx[self.rng.choice(pool, self.num_points, replace=False)]
        elif pool < self.num_points:  # fewer points than asked: FPS order repeated cyclically
            idx = idx[np.arange(self.num_points) % pool]
        for key in per_point_keys(results):
            results[key] = np.asarray(results[key])[idx]
        return results

    def __repr__(self) -> str:
        return f"FPSSample(num_points={self.num_points}, pool={self.pool})"


def scale_and_translate(results: dict, scale: np.ndarray, shift: np.ndarray) -> dict:
    """Deterministic p -> p * scale + shift (per axis); normals are left as they are (Point-MAE
    transforms xyz only); axis-aligned boxes: centre likewise, sizes * scale."""
    scale, shift = np.asarray(scale, np.float64), np.asarray(shift, np.float64)
    results["points"] = (np.asarray(results["points"], np.float64) * scale + shift).astype(np.float32)
    if "gt_boxes" in results:
        boxes = np.asarray(results["gt_boxes"], np.float64).reshape(-1, 7).copy()
        boxes[:, :3] = boxes[:, :3] * scale + shift
        boxes[:, 3:6] *= scale
        results["gt_boxes"] = boxes.astype(np.float32)
    return results


@TRANSFORMS.register_module()
class ScaleAndTranslate(RandomTransform):
    def __init__(self, scale_range: Sequence[float] = (2.0 / 3.0, 1.5), translate_range: float = 0.2,
                 rng: np.random.Generator | None = None):
        super().__init__(rng)
        lo, hi = (float(v) for v in scale_range)
        if not 0 < lo <= hi or translate_range < 0:
            raise ValueError(f"ScaleAndTranslate: need 0 < low <= high and translate_range >= 0, got "
                             f"{scale_range}, {translate_range}")
        self.scale_range, self.translate_range = (lo, hi), float(translate_range)

    def transform(self, results: dict) -> dict:
        scale = self.rng.uniform(*self.scale_range, size=3)
        shift = self.rng.uniform(-self.translate_range, self.translate_range, size=3)
        aug = results.setdefault("meta", {}).setdefault("aug", {})
        aug["scale_xyz"], aug["translate"] = scale.tolist(), shift.tolist()
        return scale_and_translate(results, scale, shift)

    def __repr__(self) -> str:
        return f"ScaleAndTranslate(scale_range={self.scale_range}, translate_range={self.translate_range})"
