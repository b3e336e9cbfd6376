"""Cluster proposals on original and shifted coordinates, and greedy mask NMS (PointGroup Sec. 3.3-3.5).

A proposal set is held as membership pairs ``(point_idx, cluster_idx)`` over one sample's points,
so clusters from the two coordinate sets may overlap (they usually do).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from voxclip.ops import radius_clusters

__all__ = ["cluster_proposals", "mask_nms"]


def cluster_proposals(points: torch.Tensor, offsets: torch.Tensor, sem_pred: torch.Tensor, radius: float,
                      shift_radius: float | None, min_points: int, ignore_labels: Sequence[int] = ()):
    """-> (point_idx (K,), cluster_idx (K,), cluster_label (C,)) int64 tensors on the points' device.
    Clusters of the original coordinates come first, then those of the shifted ones (P + O)."""
    pts = points.detach().cpu().numpy()
    lab = sem_pred.detach().cpu().numpy()
    point_idx, cluster_idx, labels, base = [], [], [], 0
    sets = [(pts, radius)]
    if shift_radius is not None:
        sets.append((pts + offsets.detach().cpu().numpy(), shift_radius))
    for coords, r in sets:
        cluster, cl_label = radius_clusters(coords, lab, r, min_points, ignore_labels)
        members = np.flatnonzero(cluster >= 0)
        point_idx.append(members)
        cluster_idx.append(cluster[members] + base)
        labels.append(cl_label)
        base += len(cl_label)
    dev = points.device
    cat = (lambda xs: torch.from_numpy(np.concatenate(xs).astype(np.int64)).to(dev))
    return cat(point_idx), cat(cluster_idx), cat(labels)


def mask_nms(point_idx: torch.Tensor, cluster_idx: torch.Tensor, scores: torch.Tensor, num_points: int,
             iou_thr: float) -> torch.Tensor:
    """Indices of kept clusters, highest score first: a cluster is dropped when its point-set IoU with
    a kept one exceeds ``iou_thr``."""
    n = len(scores)
    if n == 0:
        return torch.zeros(0, dtype=torch.int64)
    masks = torch.zeros(n, num_points, dtype=torch.float32)
    masks[cluster_idx.cpu(), point_idx.cpu()] = 1.0
    inter = masks @ masks.T
    size = masks.sum(1)
    iou = inter / (size[:, None] + size[None, :] - inter).clamp_min(1)
    order = torch.argsort(scores.detach().cpu(), descending=True, stable=True)
    suppressed = torch.zeros(n, dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_thr
    return torch.tensor(keep, dtype=torch.int64)
