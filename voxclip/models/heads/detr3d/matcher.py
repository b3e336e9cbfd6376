"""Hungarian matching of queries to ground-truth boxes (3DETR), solved by scipy.

cost[q, g] = w_cls * (-p_q(class_g)) + w_obj * (-objectness_q) + w_center * |c_q - c_g|_1 (normalised
centres) + w_giou * (-GIoU(box_q, box_g)); probabilities include the no-object class in the softmax.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from voxclip.ops.giou3d import generalized_box3d_iou

__all__ = ["HungarianMatcher", "matching_cost"]


def matching_cost(pred: dict, b: int, gt_boxes: torch.Tensor, gt_labels: torch.Tensor, gt_center_norm: torch.Tensor,
                  weights: dict) -> torch.Tensor:
    """(Q, M) cost matrix of sample b (pred as from decode_boxes)."""
    prob = pred["sem_cls_logits"][b].softmax(-1)
    cost = weights.get("cls", 1.0) * -prob[:, gt_labels]
    if weights.get("objectness", 0.0):
        cost = cost + weights["objectness"] * -pred["objectness_prob"][b][:, None]
    if weights.get("center", 0.0):
        cost = cost + weights["center"] * torch.cdist(pred["center_normalized"][b], gt_center_norm, p=1)
    if weights.get("giou", 0.0):
        cost = cost + weights["giou"] * -generalized_box3d_iou(pred["boxes"][b], gt_boxes.to(pred["boxes"].dtype),
                                                               weights.get("giou_enclosing", "aabb"))
    return cost


class HungarianMatcher:
    """Args: cls, objectness, center, giou: cost weights (3DETR ScanNet: 1, 0, 0, 2); giou_enclosing:
    GIoU enclosing volume for rotated boxes, 'aabb' (3DETR) | 'hull'."""

    def __init__(self, cls: float = 1.0, objectness: float = 0.0, center: float = 0.0, giou: float = 2.0,
                 giou_enclosing: str = "aabb"):
        self.weights = dict(cls=cls, objectness=objectness, center=center, giou=giou, giou_enclosing=giou_enclosing)

    @torch.no_grad()
    def __call__(self, pred: dict, gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor],
                 gt_center_norm: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per sample (query_idx, gt_idx) int64 tensors of equal length min(Q, M)."""
        out = []
        for b, (boxes, labels, cn) in enumerate(zip(gt_boxes, gt_labels, gt_center_norm)):
            if boxes.shape[0] == 0:
                empty = torch.zeros(0, dtype=torch.long)
                out.append((empty, empty))
                continue
            cost = matching_cost(pred, b, boxes, labels, cn, self.weights)
            c = cost.detach().cpu().double().numpy()
            if not np.isfinite(c).all():
                raise ValueError(f"HungarianMatcher: non-finite matching cost in sample {b}")
            qi, gi = linear_sum_assignment(c)
            out.append((torch.as_tensor(qi, dtype=torch.long), torch.as_tensor(gi, dtype=torch.long)))
        return out
