"""PointGroup training targets and losses (Jiang et al. 2020, Sec. 3.2-3.4; released settings).

- offset target of an annotated point: its instance's centre (mean of the instance's points) minus
  the point; loss = mean L1 norm ``sum |o - o*|`` plus the direction loss ``-cos(o, o*)``, both over
  annotated points;
- ScoreNet target of a cluster from its IoU with the best-matching ground-truth instance:
  1 above ``fg_thresh`` (0.75), 0 below ``bg_thresh`` (0.25), linear in between; binary cross-entropy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["instance_offsets", "offset_losses", "cluster_ious", "score_targets"]


def instance_offsets(points: torch.Tensor, instance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """points (N, 3), instance (N,) ids (negative = none; ids need not be dense) -> (offsets (N, 3),
    valid (N,) bool). Call per sample: ids of different samples are different instances."""
    valid = instance >= 0
    offsets = torch.zeros_like(points)
    if bool(valid.any()):
        ids, inv = torch.unique(instance[valid], return_inverse=True)
        pts = points[valid]
        sums = torch.zeros(len(ids), 3, dtype=points.dtype, device=points.device).index_add_(0, inv, pts)
        counts = torch.bincount(inv, minlength=len(ids)).to(points.dtype)
        offsets[valid] = (sums / counts[:, None])[inv] - pts
    return offsets, valid


def offset_losses(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L1-norm loss, direction loss), means over ``valid`` points (0 with grad when none)."""
    w = valid.to(pred.dtype)
    denom = w.sum() + 1e-6
    l1 = ((pred - target).abs().sum(1) * w).sum() / denom
    cos = F.normalize(pred, dim=1, eps=1e-8) * F.normalize(target, dim=1, eps=1e-8)
    direction = (-cos.sum(1) * w).sum() / denom
    return l1, direction


def cluster_ious(point_idx: torch.Tensor, cluster_idx: torch.Tensor, instance: torch.Tensor,
                 num_clusters: int) -> torch.Tensor:
    """Best IoU (C,) of each cluster with a ground-truth instance. Clusters are membership pairs
    (``point_idx``, ``cluster_idx``) (they may overlap); ``instance`` (N,) per point, -1 = none."""
    out = torch.zeros(num_clusters, dtype=torch.float32, device=instance.device)
    valid = instance >= 0
    if num_clusters == 0 or not bool(valid.any()):
        return out
    ids, inst = torch.unique(instance[valid], return_inverse=True)
    inst_all = torch.full_like(instance, -1)
    inst_all[valid] = inst
    member_inst = inst_all[point_idx]
    hit = member_inst >= 0
    key = cluster_idx[hit] * len(ids) + member_inst[hit]
    inter = torch.bincount(key, minlength=num_clusters * len(ids)).view(num_clusters, len(ids)).float()
    c_size = torch.bincount(cluster_idx, minlength=num_clusters).float()
    i_size = torch.bincount(inst, minlength=len(ids)).float()
    iou = inter / (c_size[:, None] + i_size[None, :] - inter).clamp_min(1)
    return iou.max(1).values


def score_targets(iou: torch.Tensor, fg_thresh: float = 0.75, bg_thresh: float = 0.25) -> torch.Tensor:
    if not bg_thresh < fg_thresh:
        raise ValueError(f"score_targets: bg_thresh {bg_thresh} must be below fg_thresh {fg_thresh}")
    return ((iou - bg_thresh) / (fg_thresh - bg_thresh)).clamp(0.0, 1.0)
