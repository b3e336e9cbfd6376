"""3DETR inference: the released ``parse_predictions`` (utils/ap_calculator.py, shared with VoteNet)
with the settings of 3DETR's evaluation (``get_ap_config_dict`` defaults, ``exact_eval=True``):

1. remove_empty_box: a box holding fewer than ``min_points_in_box`` (5) input points is dropped;
   if that drops every box of a scene, the box of highest objectness is kept;
2. NMS (``use_3d_nms``, ``cls_nms``): greedy 3D NMS over the remaining boxes scored by objectness,
   a box suppressing only boxes of the same argmax class, IoU ``> nms_iou`` (0.25) computed on the
   AXIS-ALIGNED boxes enclosing each box's corners (``nms_axis_aligned``; False = rotated IoU);
3. a kept box with objectness ``> score_thr`` (``conf_thresh`` 0.05) is emitted once per class with
   score P(class) * objectness (``per_class_proposal``), or once with its argmax class scored by
   objectness alone when per_class_proposal is False (the released code's third branch). No cap on the number of boxes (``max_per_scene`` None).
"""
from __future__ import annotations

import torch

from voxclip.models.heads.votenet.postprocess import count_points_in_boxes
from voxclip.ops.nms import batched_nms3d
from voxclip.structures.boxes import boxes_from_minmax, boxes_to_minmax

__all__ = ["DEFAULT_TEST_CFG", "axis_aligned_enclosing", "parse_predictions"]

DEFAULT_TEST_CFG = dict(score_thr=0.05, nms_iou=0.25, per_class_proposal=True, remove_empty_box=True,
                        min_points_in_box=5, nms_axis_aligned=True, max_per_scene=None)


def axis_aligned_enclosing(boxes: torch.Tensor) -> torch.Tensor:
    """(K, 7) boxes -> (K, 7) yaw-0 boxes spanning the min/max of each box's 8 corners."""
    if boxes.shape[0] == 0:
        return boxes.clone()
    lo_hi = boxes_to_minmax(boxes)
    return boxes_from_minmax(lo_hi[:, :3], lo_hi[:, 3:])


def parse_predictions(boxes: torch.Tensor, obj_prob: torch.Tensor, sem_prob: torch.Tensor,
                      points: torch.Tensor | None, cfg: dict | None = None) -> dict:
    """One scene: boxes (Q, 7), objectness (Q,), class probabilities (Q, C), input points (N, 3)
    -> dict(boxes (K, 7), labels (K,), scores (K,)) sorted by score (see the module docstring)."""
    cfg = {**DEFAULT_TEST_CFG, **(cfg or {})}
    unknown = set(cfg) - set(DEFAULT_TEST_CFG)
    if unknown:
        raise KeyError(f"parse_predictions: unknown test_cfg key(s) {sorted(unknown)}; known: {sorted(DEFAULT_TEST_CFG)}")
    q = boxes.shape[0]
    valid = torch.ones(q, dtype=torch.bool, device=boxes.device)
    if cfg["remove_empty_box"] and points is not None and q:
        valid = count_points_in_boxes(points[:, :3], boxes) >= cfg["min_points_in_box"]
        if not bool(valid.any()):
            valid[obj_prob.argmax()] = True
    cand = valid.nonzero().flatten()
    nms_boxes = axis_aligned_enclosing(boxes[cand]) if cfg["nms_axis_aligned"] else boxes[cand]
    keep = batched_nms3d(nms_boxes.double(), obj_prob[cand].double(), sem_prob[cand].argmax(-1), cfg["nms_iou"])
    kept = cand[keep.to(cand.device)]
    kept = kept[obj_prob[kept] > cfg["score_thr"]]
    kb, ko, ks = boxes[kept], obj_prob[kept], sem_prob[kept]
    if cfg["per_class_proposal"]:
        c = ks.shape[1]
        out_boxes = kb.repeat_interleave(c, dim=0)
        labels = torch.arange(c, device=kb.device).repeat(kb.shape[0])
        scores = (ko[:, None] * ks).reshape(-1)
    else:
        labels = ks.argmax(-1)
        out_boxes, scores = kb, ko
    order = torch.argsort(scores, descending=True, stable=True)
    if cfg["max_per_scene"] is not None:
        order = order[: int(cfg["max_per_scene"])]
    return dict(boxes=out_boxes[order].float(), labels=labels[order].long(), scores=scores[order].float())
