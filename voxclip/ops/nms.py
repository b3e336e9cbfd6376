"""Greedy 3D non-maximum suppression over the IoU matrix (axis-aligned or rotated boxes)."""
from __future__ import annotations

import numpy as np
import torch

from voxclip.structures.array import check_boxes, to_numpy, to_tensor

from .iou3d import boxes_iou3d

ArrayLike = np.ndarray | torch.Tensor


def _greedy(over: np.ndarray) -> np.ndarray:
    """Rows/cols in score order; `over[i, j]` = box j would be suppressed by box i. Returns kept rows."""
    suppressed = np.zeros(over.shape[0], dtype=bool)
    keep = []
    for i in range(over.shape[0]):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= over[i]
    return np.asarray(keep, dtype=np.int64)


def _nms_numpy(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    # Stable sort: equal scores keep their input order, so results are deterministic.
    order = np.argsort(-scores, kind="stable")
    if order.size == 0:
        return order.astype(np.int64)
    iou = boxes_iou3d(boxes[order], boxes[order])
    return order[_greedy(iou > iou_threshold)]


def _check(boxes, scores, labels=None):
    b, was_np = to_tensor(boxes)
    check_boxes(b)
    s, _ = to_tensor(scores)
    if b.ndim != 2 or s.ndim != 1 or s.shape[0] != b.shape[0]:
        raise ValueError(f"nms3d: expected boxes (K, 7) and scores (K,), got {tuple(b.shape)} and {tuple(s.shape)}")
    if labels is not None:
        lab, _ = to_tensor(labels)
        if lab.shape != s.shape:
            raise ValueError(f"batched_nms3d: labels shape {tuple(lab.shape)} differs from scores {tuple(s.shape)}")
    return b, was_np


def _out(keep: np.ndarray, ref: torch.Tensor, was_np: bool):
    return keep if was_np else torch.as_tensor(keep, dtype=torch.long, device=ref.device)


def nms3d(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> ArrayLike:
    """Indices (int64) of the boxes (K, 7) kept by greedy NMS, sorted by score, highest first.

    A box is dropped when its IoU with an already kept, higher-scored box is strictly greater
    than `iou_threshold`. Returns numpy for numpy input, a long tensor on the input's device otherwise.
    """
    b, was_np = _check(boxes, scores)
    keep = _nms_numpy(to_numpy(boxes).astype(np.float64), to_numpy(scores).astype(np.float64), iou_threshold)
    return _out(keep, b, was_np)


def batched_nms3d(boxes: ArrayLike, scores: ArrayLike, labels: ArrayLike, iou_threshold: float) -> ArrayLike:
    """Per-class NMS: boxes only suppress boxes with the same label. Kept indices, sorted by score."""
    b, was_np = _check(boxes, scores, labels)
    bn = to_numpy(boxes).astype(np.float64)
    sn = to_numpy(scores).astype(np.float64)
    ln = to_numpy(labels)
    kept = [np.flatnonzero(ln == c)[_nms_numpy(bn[ln == c], sn[ln == c], iou_threshold)] for c in np.unique(ln)]
    keep = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    keep = keep[np.lexsort((keep, -sn[keep]))]  # score desc, ties by input order
    return _out(keep.astype(np.int64), b, was_np)
