"""Geometric augmentations: points and boxes move together (flip, rotation about z, scale, shift)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from voxclip.registry import TRANSFORMS

from .base import RandomTransform
from .box_np import limit_yaw, rotate_boxes_z, rotation_z


def _boxes(results: dict) -> np.ndarray:
    return np.asarray(results.get("gt_boxes", np.zeros((0, 7))), dtype=np.float64).reshape(-1, 7)


def _record(results: dict, key: str, value) -> None:
    results.setdefault("meta", {}).setdefault("aug", {})[key] = value


def _range(value: float | Sequence[float], name: str, symmetric_about: float = 0.0) -> tuple[float, float]:
    """A scalar r means (c - r, c + r); a pair is taken as (low, high)."""
    if np.isscalar(value):
        return symmetric_about - float(value), symmetric_about + float(value)
    lo, hi = (float(v) for v in value)
    if lo > hi:
        raise ValueError(f"{name}: low {lo} > high {hi}")
    return lo, hi


@TRANSFORMS.register_module()
class RandomFlip(RandomTransform):
    """Mirror the scene across the yz-plane (x -> -x) and/or the xz-plane (y -> -y).

    Boxes: the centre is mirrored; yaw -> pi - yaw for an x-flip, -yaw for a y-flip (then wrapped to
    [-pi, pi)). Normals are mirrored too.

    Args:
        prob_x: probability of the x-flip. prob_y: probability of the y-flip.
        heading: True (default) when yaw carries a facing direction (SUN RGB-D): x-flip gives
            pi - yaw. False for boxes without a front (ScanNet, yaw 0): x-flip gives -yaw, the same
            box geometrically, so yaw 0 stays 0 instead of becoming -pi.
    """

    def __init__(self, prob_x: float = 0.5, prob_y: float = 0.5, heading: bool = True,
                 rng: np.random.Generator | None = None):
        super().__init__(rng)
        self.heading = bool(heading)
        for name, p in (("prob_x", prob_x), ("prob_y", prob_y)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"RandomFlip: {name} must be in [0, 1], got {p}")
        self.prob_x, self.prob_y = float(prob_x), float(prob_y)

    def transform(self, results: dict) -> dict:
        # Always draw both numbers so the RNG stream does not depend on the outcome.
        flip_x = bool(self.rng.random() < self.prob_x)
        flip_y = bool(self.rng.random() < self.prob_y)
        for axis, flip in ((0, flip_x), (1, flip_y)):
            if flip:
                self.flip(results, axis, self.heading)
        _record(results, "flip_x", flip_x)
        _record(results, "flip_y", flip_y)
        return results

    @staticmethod
    def flip(results: dict, axis: int, heading: bool = True) -> dict:
        """Deterministic mirror of `axis` (0: x -> -x, 1: y -> -y)."""
        for key in ("points", "normals"):
            if key in results:
                arr = np.array(results[key], copy=True)
                arr[:, axis] = -arr[:, axis]
                results[key] = arr
        if "gt_boxes" in results:
            boxes = _boxes(results).copy()
            boxes[:, axis] = -boxes[:, axis]
            boxes[:, 6] = limit_yaw(np.pi - boxes[:, 6] if axis == 0 and heading else -boxes[:, 6])
            results["gt_boxes"] = boxes.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f"RandomFlip(prob_x={self.prob_x}, prob_y={self.prob_y}, heading={self.heading})"


@TRANSFORMS.register_module()
class RandomRotateZ(RandomTransform):
    """Rotate the scene about +z by an angle drawn uniformly from `degrees`.

    Args:
        degrees: scalar d for [-d, d] or a (low, high) pair, in degrees.
        box_mode: 'rotate' (yaw += angle, sizes kept; oriented boxes, SUN RGB-D) or 'enclose'
            (axis-aligned box around the rotated box, yaw 0; ScanNet, as VoteNet does).
    """

    def __init__(self, degrees: float | Sequence[float] = 5.0, box_mode: str = "rotate",
                 rng: np.random.Generator | None = None):
        super().__init__(rng)
        if box_mode not in ("rotate", "enclose"):
            raise ValueError(f"RandomRotateZ: box_mode must be 'rotate' or 'enclose', got {box_mode!r}")
        self.degrees = _range(degrees, "RandomRotateZ.degrees")
        self.box_mode = box_mode

    def transform(self, results: dict) -> dict:
        angle = float(np.deg2rad(self.rng.uniform(*self.degrees)))
        _record(results, "rotate_z", angle)
        return self.rotate(results, angle, self.box_mode)

    @staticmethod
    def rotate(results: dict, angle: float, box_mode: str = "rotate") -> dict:
        """Deterministic rotation by `angle` radians counter-clockwise about +z."""
        rot = rotation_z(angle)
        for key in ("points", "normals"):
            if key in results:
                arr = np.asarray(results[key])
                results[key] = (arr.astype(np.float64) @ rot.T).astype(arr.dtype)
        if "gt_boxes" in results:
            results["gt_boxes"] = rotate_boxes_z(_boxes(results), angle, box_mode).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f"RandomRotateZ(degrees={self.degrees}, box_mode={self.box_mode!r})"


@TRANSFORMS.register_module()
class RandomScale(RandomTransform):
    """Scale the scene uniformly by a factor drawn from `scale_range` (box centres and sizes too).

    Uniform scaling keeps yaw and the height-above-floor feature consistent when that feature is
    computed afterwards (HeightFeature after RandomScale).
    """

    def __init__(self, scale_range: Sequence[float] = (0.9, 1.1), rng: np.random.Generator | None = None):
        super().__init__(rng)
        self.scale_range = _range(scale_range, "RandomScale.scale_range")
        if self.scale_range[0] <= 0:
            raise ValueError(f"RandomScale: scales must be positive, got {scale_range}")

    def transform(self, results: dict) -> dict:
        scale = float(self.rng.uniform(*self.scale_range))
        _record(results, "scale", scale)
        return self.scale(results, scale)

    @staticmethod
    def scale(results: dict, scale: float) -> dict:
        if "points" in results:
            results["points"] = (np.asarray(results["points"]) * scale).astype(np.float32)
        if "height" in results:  # already computed: keep it consistent
            results["height"] = (np.asarray(results["height"]) * scale).astype(np.float32)
        if "gt_boxes" in results:
            boxes = _boxes(results).copy()
            boxes[:, :6] *= scale
            results["gt_boxes"] = boxes.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f"RandomScale(scale_range={self.scale_range})"


@TRANSFORMS.register_module()
class RandomTranslate(RandomTransform):
    """Shift the scene by a Gaussian offset with per-axis standard deviation `std` (metres)."""

    def __init__(self, std: float | Sequence[float] = 0.0, rng: np.random.Generator | None = None):
        super().__init__(rng)
        std = np.broadcast_to(np.asarray(std, dtype=np.float64), (3,)).copy()
        if (std < 0).any():
            raise ValueError(f"RandomTranslate: std must be >= 0, got {std.tolist()}")
        self.std = std

    def transform(self, results: dict) -> dict:
        shift = self.rng.normal(size=3) * self.std
        _record(results, "translate", shift.tolist())
        return self.translate(results, shift)

    @staticmethod
    def translate(results: dict, shift: np.ndarray) -> dict:
        shift = np.asarray(shift, dtype=np.float64)
        if "points" in results:
            results["points"] = (np.asarray(results["points"], dtype=np.float64) + shift).astype(np.float32)
        if "gt_boxes" in results:
            boxes = _boxes(results).copy()
            boxes[:, :3] += shift
            results["gt_boxes"] = boxes.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f"RandomTranslate(std={self.std.tolist()})"
