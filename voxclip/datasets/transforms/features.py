"""Per-point input features: colour normalisation, height above the floor, and their assembly."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from voxclip.registry import TRANSFORMS


@TRANSFORMS.register_module()
class NormalizeColor:
    """colors <- (rgb - mean) / std, float32.

    Default mean = std = 127.5 maps uint8 rgb to [-1, 1]. VoteNet's ScanNet recipe is
    mean=(109.8, 97.2, 83.8), std=256.
    """

    def __init__(self, mean: float | Sequence[float] = 127.5, std: float | Sequence[float] = 127.5):
        self.mean = np.broadcast_to(np.asarray(mean, dtype=np.float32), (3,)).copy()
        self.std = np.broadcast_to(np.asarray(std, dtype=np.float32), (3,)).copy()
        if (self.std <= 0).any():
            raise ValueError(f"NormalizeColor: std must be positive, got {self.std.tolist()}")

    def __call__(self, results: dict) -> dict:
        if results.get("meta", {}).get("color_normalized"):
            raise RuntimeError("NormalizeColor applied twice to the same sample")
        rgb = np.asarray(results["colors"], dtype=np.float32)
        results["colors"] = (rgb - self.mean) / self.std
        results.setdefault("meta", {})["color_normalized"] = True
        return results

    def __repr__(self) -> str:
        return f"NormalizeColor(mean={self.mean.tolist()}, std={self.std.tolist()})"


@TRANSFORMS.register_module()
class HeightFeature:
    """height (N,1) = z - floor, floor = np.percentile(z, percentile).

    The default 0.99 is a percentile on numpy's 0-100 scale, i.e. the ~1% quantile of point
    heights: a floor estimate robust to a few stray points below it. This is what VoteNet computes
    (`np.percentile(z, 0.99)`), not the 99% quantile. Computed on the points as they are when this
    step runs, so place it after PointSample/RandomScale to match the augmented geometry.
    """

    def __init__(self, percentile: float = 0.99):
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"HeightFeature: percentile is on the 0-100 scale, got {percentile}")
        self.percentile = float(percentile)

    def __call__(self, results: dict) -> dict:
        z = np.asarray(results["points"], dtype=np.float64)[:, 2]
        floor = float(np.percentile(z, self.percentile))
        results["height"] = (z - floor).astype(np.float32)[:, None]
        results.setdefault("meta", {})["floor_height"] = floor
        return results

    def __repr__(self) -> str:
        return f"HeightFeature(percentile={self.percentile})"


@TRANSFORMS.register_module()
class PointFeatures:
    """point_feats (N,C) float32 = the per-point arrays named in `keys`, concatenated in order.

    Default ('colors', 'height'): normalised rgb then height above floor, C = 4.
    """

    def __init__(self, keys: Sequence[str] = ("colors", "height")):
        if not keys:
            raise ValueError("PointFeatures: keys must not be empty")
        self.keys = tuple(keys)

    def __call__(self, results: dict) -> dict:
        n = len(results["points"])
        parts = []
        for key in self.keys:
            if key not in results:
                raise KeyError(f"PointFeatures: sample has no {key!r} (add the transform that makes it)")
            arr = np.asarray(results[key])
            if key == "colors" and arr.dtype == np.uint8:
                raise ValueError("PointFeatures: colors are raw uint8; add NormalizeColor before PointFeatures")
            if arr.ndim not in (1, 2) or arr.shape[0] != n:
                raise ValueError(f"PointFeatures: {key!r} has shape {arr.shape} for {n} points")
            parts.append(arr.reshape(n, -1).astype(np.float32))
        results["point_feats"] = np.concatenate(parts, axis=1)
        return results

    def __repr__(self) -> str:
        return f"PointFeatures(keys={self.keys})"
