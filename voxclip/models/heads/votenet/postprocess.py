"""Inference: decoded proposals -> scored boxes (3D NMS per class, VoteNet's per-class proposals)."""
from __future__ import annotations

import torch

from voxclip.ops.nms import batched_nms3d
from voxclip.structures.boxes import boxes_from_minmax, boxes_to_minmax

DEFAULT_TEST_CFG = dict(nms_iou=0.25, score_thr=0.05, per_class_proposal=True, remove_empty_box=True,
                        min_points_in_box=5, nms_axis_aligned=False)


def count_points_in_boxes(points: torch.Tensor, boxes: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Points (N, 3) inside (or on) each box (P, 7), yaw-aware: (P,) int64.

    Counts only, so no (N, P, 3) temporaries (same rule as structures.points_in_boxes).
    """
    c, s = torch.cos(boxes[:, 6]), torch.sin(boxes[:, 6])
    half = 0.5 * boxes[:, 3:6]
    counts = torch.zeros(boxes.shape[0], dtype=torch.long, device=boxes.device)
    for start in range(0, points.shape[0], chunk):
        p = points[start:start + chunk].to(boxes.dtype)
        dx, dy = p[:, None, 0] - boxes[:, 0], p[:, None, 1] - boxes[:, 1]
        inside = ((p[:, None, 2] - boxes[:, 2]).abs() <= half[:, 2]) & ((c * dx + s * dy).abs() <= half[:, 0])
        inside &= (c * dy - s * dx).abs() <= half[:, 1]
        counts += inside.sum(0)
    return counts


def postprocess_sample(boxes: torch.Tensor, obj_logits: torch.Tensor, sem_logits: torch.Tensor,
                       points: torch.Tensor | None, cfg: dict) -> dict:
    """One sample's proposals to detections.

    Args:
        boxes: (P, 7) decoded; obj_logits (P, 2); sem_logits (P, C); points (N, 3) of the sample
        (used to drop proposals holding fewer than `min_points_in_box` points).
    Steps (VoteNet): keep proposals with objectness > score_thr (and not empty), NMS with IoU
    `nms_iou` among proposals of the same argmax class scored by objectness (`nms_axis_aligned`:
    IoU of the axis-aligned boxes enclosing each box's corners, as VoteNet's parse_predictions does
    for SUN RGB-D's rotated boxes; False: rotated IoU), then emit every kept
    box once per class with score objectness * class probability (per_class_proposal) or once with
    its argmax class.
    Returns: dict boxes (K, 7), labels (K,) int64, scores (K,), detached on the input device.
    """
    cfg = dict(DEFAULT_TEST_CFG, **cfg)
    obj = obj_logits.softmax(-1)[:, 1]
    sem = sem_logits.softmax(-1)
    valid = obj > cfg["score_thr"]
    if cfg["remove_empty_box"] and points is not None and points.shape[0]:
        cand = valid.nonzero().flatten()  # count only for proposals that passed the threshold
        valid[cand] = count_points_in_boxes(points[:, :3], boxes[cand]) >= cfg["min_points_in_box"]
    cand = valid.nonzero().flatten()
    nms_boxes = boxes[cand]
    if cfg["nms_axis_aligned"] and nms_boxes.shape[0]:
        lo_hi = boxes_to_minmax(nms_boxes)
        nms_boxes = boxes_from_minmax(lo_hi[:, :3], lo_hi[:, 3:])
    keep = batched_nms3d(nms_boxes, obj[cand], sem[cand].argmax(-1), cfg["nms_iou"])
    kept = cand[keep.to(cand.device)]
    kb, ko, ks = boxes[kept], obj[kept], sem[kept]
    if cfg["per_class_proposal"]:
        c = ks.shape[1]
        out_boxes = kb.repeat_interleave(c, dim=0)
        labels = torch.arange(c, device=kb.device).repeat(kb.shape[0])
        scores = (ko[:, None] * ks).reshape(-1)
    else:
        out_boxes = kb
        prob, labels = ks.max(-1)
        scores = ko * prob
    return dict(boxes=out_boxes.detach(), labels=labels.long(), scores=scores.detach())
