"""Axis-aligned detection boxes from per-vertex instance ids."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from voxclip.classes import SCANNET_DET_NYU40_IDS

# nyu40 id -> index of the 18 detection classes, -1 elsewhere.
NYU40_TO_DET = np.full(41, -1, dtype=np.int64)
NYU40_TO_DET[list(SCANNET_DET_NYU40_IDS)] = np.arange(len(SCANNET_DET_NYU40_IDS))


def instance_boxes(coords: np.ndarray, instance: np.ndarray, instance_nyu40: np.ndarray
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes of the detection-class instances: min/max of each instance's (aligned) points.

    Args:
        coords: float (N,3) axis-aligned coordinates.
        instance: int (N,) instance id per point (0 = none).
        instance_nyu40: int (K,) nyu40 id per instance id (index 0 unused).
    Returns:
        boxes float32 (M,7) `(cx, cy, cz, dx, dy, dz, 0)` with full sizes, labels int64 (M,)
        indexing SCANNET_DET_CLASSES, instance ids int64 (M,); ordered by instance id. Instances
        without points get no box.
    """
    det = NYU40_TO_DET[np.asarray(instance_nyu40, dtype=np.int64)][instance]
    keep = (instance > 0) & (det >= 0)
    if not keep.any():
        return np.zeros((0, 7), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids = instance[keep]
    pts = np.asarray(coords, dtype=np.float64)[keep]
    order = np.argsort(ids, kind="stable")
    ids, pts = ids[order], pts[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    lo = np.minimum.reduceat(pts, starts, axis=0)
    hi = np.maximum.reduceat(pts, starts, axis=0)
    boxes = np.zeros((len(starts), 7), dtype=np.float64)
    boxes[:, :3] = (lo + hi) / 2
    boxes[:, 3:6] = hi - lo
    inst_ids = ids[starts].astype(np.int64)
    labels = NYU40_TO_DET[np.asarray(instance_nyu40, dtype=np.int64)[inst_ids]]
    return boxes.astype(np.float32), labels, inst_ids
