"""Random horizontal block crop (the S3DIS "1 m x 1 m block, 4096 points" training samples of
PointNet and its successors; EPCL's S3DIS recipe)."""
from __future__ import annotations

import numpy as np

from voxclip.registry import TRANSFORMS

from .base import RandomTransform, per_point_keys


@TRANSFORMS.register_module()
class RandomBlockCrop(RandomTransform):
    """Keep the points whose x, y lie in a ``block_size`` square centred on a random point's x, y
    (every height kept). Redrawn up to ``max_tries`` times until at least ``min_points`` fall
    inside; after that the largest block drawn is kept. Indexes every per-point key together.
    """

    def __init__(self, block_size: float = 1.0, min_points: int = 1024, max_tries: int = 10,
                 rng: np.random.Generator | None = None):
        super().__init__(rng)
        if not float(block_size) > 0 or int(max_tries) < 1:
            raise ValueError(f"RandomBlockCrop: block_size ({block_size}) must be > 0 and max_tries ({max_tries}) >= 1")
        self.block_size, self.min_points, self.max_tries = float(block_size), int(min_points), int(max_tries)

    def transform(self, results: dict) -> dict:
        xy = np.asarray(results["points"])[:, :2]
        if len(xy) == 0:
            raise ValueError(f"RandomBlockCrop: scene {results.get('meta', {}).get('scene_id', '?')} has no points")
        half, best = self.block_size / 2, None
        for _ in range(self.max_tries):
            centre = xy[self.rng.randint(len(xy)) if self.rng is np.random else self.rng.integers(len(xy))]
            keep = np.nonzero((np.abs(xy - centre) <= half).all(axis=1))[0]
            if best is None or len(keep) > len(best):
                best = keep
            if len(keep) >= self.min_points:
                break
        for key in per_point_keys(results):
            results[key] = np.asarray(results[key])[best]
        return results

    def __repr__(self) -> str:
        return f"RandomBlockCrop(block_size={self.block_size}, min_points={self.min_points})"
