"""Numpy box helpers for augmentation, in the project convention (cx, cy, cz, dx, dy, dz, yaw).

Kept here (not in voxclip.structures) because transforms work on numpy before packing.
"""
from __future__ import annotations

import numpy as np


def limit_yaw(yaw: np.ndarray) -> np.ndarray:
    """Wrap angles into [-pi, pi)."""
    return (np.asarray(yaw) + np.pi) % (2 * np.pi) - np.pi


def bev_corners(boxes: np.ndarray) -> np.ndarray:
    """The 4 bird's-eye corners of each box: (M,4,2) (x, y), counter-clockwise."""
    boxes = np.asarray(boxes, dtype=np.float64)
    half = boxes[:, None, 3:5] / 2.0 * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (M,2,2)
    return boxes[:, None, :2] + np.einsum("mij,mkj->mki", rot, half)


def rotation_z(angle: float) -> np.ndarray:
    """3x3 rotation by `angle` radians counter-clockwise about +z (acts on column vectors)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotate_boxes_z(boxes: np.ndarray, angle: float, mode: str = "rotate") -> np.ndarray:
    """Boxes after rotating the scene by `angle` about +z.

    mode 'rotate': centres rotate and yaw += angle (sizes kept).
    mode 'enclose': the result is the axis-aligned (yaw 0) bounding box of the rotated box, so every
    point inside the old box stays inside the new one; for heads that predict no heading (VoteNet on
    ScanNet).
    """
    boxes = np.asarray(boxes, dtype=np.float64).copy()
    if len(boxes) == 0:
        return boxes
    if mode == "rotate":
        boxes[:, :3] = boxes[:, :3] @ rotation_z(angle).T
        boxes[:, 6] = limit_yaw(boxes[:, 6] + angle)
        return boxes
    if mode == "enclose":
        corners = bev_corners(boxes) @ rotation_z(angle)[:2, :2].T  # (M,4,2)
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        boxes[:, :2] = (lo + hi) / 2.0
        boxes[:, 3:5] = hi - lo
        boxes[:, 6] = 0.0
        return boxes
    raise ValueError(f"box mode must be 'rotate' or 'enclose', got {mode!r}")
