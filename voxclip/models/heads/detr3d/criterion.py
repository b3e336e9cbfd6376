"""3DETR set losses on matched queries, for the final decoder layer and each auxiliary layer.

- classification: cross-entropy over C + 1 classes, every query (unmatched -> no-object, weighted
  by `no_object`), mean;
- centre: L1 of scene-normalised centres; size: L1 of scene-normalised sizes; GIoU: 1 - GIoU;
  angle: bin cross-entropy + Huber on the normalised residual of the true bin. These are summed
  over matched queries and divided by the number of ground-truth boxes in the batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from voxclip.ops.giou3d import paired_generalized_box3d_iou

from .box_coder import angle_to_bin
from .matcher import HungarianMatcher

__all__ = ["SetCriterion"]

_DEFAULT_WEIGHTS = dict(cls=1.0, no_object=0.25, center=5.0, size=1.0, giou=1.0, angle_cls=0.1, angle_reg=0.5)


class SetCriterion:
    def __init__(self, num_classes: int, num_angle_bins: int, matcher: HungarianMatcher, weights: dict | None = None):
        self.num_classes, self.num_angle_bins, self.matcher = num_classes, num_angle_bins, matcher
        unknown = set(weights or {}) - set(_DEFAULT_WEIGHTS)
        if unknown:
            raise KeyError(f"SetCriterion: unknown loss weight(s) {sorted(unknown)}; known: {sorted(_DEFAULT_WEIGHTS)}")
        self.weights = {**_DEFAULT_WEIGHTS, **(weights or {})}

    def single_layer(self, pred: dict, targets: dict) -> dict:
        """Weighted losses of one decoder layer. targets: lists gt_boxes, gt_labels, gt_center_norm,
        gt_size_norm (per sample)."""
        w = self.weights
        match = self.matcher(pred, targets["gt_boxes"], targets["gt_labels"], targets["gt_center_norm"])
        logits = pred["sem_cls_logits"]
        bsz, nq, _ = logits.shape
        device = logits.device
        cls_target = torch.full((bsz, nq), self.num_classes, dtype=torch.long, device=device)
        b_idx, q_idx, g_boxes, g_cn, g_sn, g_labels = [], [], [], [], [], []
        for b, (qi, gi) in enumerate(match):
            qi, gi = qi.to(device), gi.to(device)
            cls_target[b, qi] = targets["gt_labels"][b][gi]
            b_idx.append(torch.full_like(qi, b))
            q_idx.append(qi)
            g_boxes.append(targets["gt_boxes"][b][gi])
            g_cn.append(targets["gt_center_norm"][b][gi])
            g_sn.append(targets["gt_size_norm"][b][gi])
            g_labels.append(targets["gt_labels"][b][gi])
        class_weight = torch.ones(self.num_classes + 1, device=device, dtype=logits.dtype)
        class_weight[-1] = w["no_object"]
        losses = {"loss_cls": w["cls"] * F.cross_entropy(logits.reshape(-1, logits.shape[-1]), cls_target.reshape(-1),
                                                         weight=class_weight)}
        num_boxes = max(sum(int(t.shape[0]) for t in targets["gt_labels"]), 1)
        bi, qi = torch.cat(b_idx), torch.cat(q_idx)
        gb = torch.cat(g_boxes).to(logits.dtype)
        zero = logits.sum() * 0.0  # keeps the graph connected when nothing is matched
        if bi.numel() == 0:
            for k in ("center", "size", "giou", "angle_cls", "angle_reg"):
                losses[f"loss_{k}"] = zero
            return losses
        losses["loss_center"] = w["center"] * (pred["center_normalized"][bi, qi] - torch.cat(g_cn)).abs().sum() / num_boxes
        losses["loss_size"] = w["size"] * (pred["size_normalized"][bi, qi] - torch.cat(g_sn)).abs().sum() / num_boxes
        giou = paired_generalized_box3d_iou(pred["boxes"][bi, qi], gb, self.matcher.weights["giou_enclosing"])
        losses["loss_giou"] = w["giou"] * (1 - giou).sum() / num_boxes
        gt_bin, gt_res = angle_to_bin(gb[:, 6], self.num_angle_bins)
        losses["loss_angle_cls"] = w["angle_cls"] * F.cross_entropy(pred["angle_logits"][bi, qi], gt_bin,
                                                                    reduction="sum") / num_boxes
        res = pred["angle_residual_normalized"][bi, qi].gather(-1, gt_bin[:, None])[:, 0]
        losses["loss_angle_reg"] = w["angle_reg"] * F.huber_loss(res, gt_res, reduction="sum", delta=1.0) / num_boxes
        return losses

    def __call__(self, preds: list[dict], targets: dict) -> dict:
        """preds: per decoder layer, last = final. Returns final-layer losses + 'loss_aux' (sum of the
        auxiliary layers' weighted totals)."""
        losses = self.single_layer(preds[-1], targets)
        if len(preds) > 1:
            aux = [sum(self.single_layer(p, targets).values()) for p in preds[:-1]]
            losses["loss_aux"] = torch.stack(aux).sum()
        return losses
