"""Point sampling to a fixed count."""
from __future__ import annotations

import numpy as np

from voxclip.registry import TRANSFORMS

from .base import RandomTransform, per_point_keys


@TRANSFORMS.register_module()
class PointSample(RandomTransform):
    """Keep `num_points` points chosen at random, indexing every per-point key together.

    With at least `num_points` points: a random subset without replacement. With fewer: every point
    once plus random repeats to fill the count (no point is lost), then shuffled.
    `replace=True`: `num_points` independent draws with replacement whatever the count (the released
    ShapeNetPart loaders: np.random.choice(N, 2048, replace=True)).
    """

    def __init__(self, num_points: int = 40000, replace: bool = False, rng: np.random.Generator | None = None):
        super().__init__(rng)
        if int(num_points) <= 0:
            raise ValueError(f"PointSample: num_points must be positive, got {num_points}")
        self.num_points, self.replace = int(num_points), bool(replace)

    def transform(self, results: dict) -> dict:
        n = len(results["points"])
        if n == 0:
            scene = results.get("meta", {}).get("scene_id", "?")
            raise ValueError(f"PointSample: scene {scene} has no points")
        if self.replace:
            idx = self.rng.choice(n, self.num_points, replace=True)
        elif n >= self.num_points:
            idx = self.rng.choice(n, self.num_points, replace=False)
        else:
            extra = self.rng.choice(n, self.num_points - n, replace=True)
            idx = self.rng.permutation(np.concatenate([np.arange(n), extra]))
        for key in per_point_keys(results):
            results[key] = np.asarray(results[key])[idx]
        results.setdefault("meta", {})["num_points_raw"] = int(n)
        return results

    def __repr__(self) -> str:
        return f"PointSample(num_points={self.num_points}" + (", replace=True)" if self.replace else ")")
