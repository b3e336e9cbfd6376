"""VoteNet losses; every term is normalised over the whole batch as in the reference method."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .box_coder import VoteBoxCoder
from .targets import proposal_targets, vote_distance, vote_targets

DEFAULT_LOSS_WEIGHTS = dict(vote=10.0, objectness=5.0, center=10.0, heading_cls=1.0, heading_reg=10.0,
                            size_cls=1.0, size_reg=10.0, semantic=1.0)
_EPS = 1e-6


def _wmean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum() / (weights.sum() + _EPS)


def votenet_losses(preds: dict, gt_boxes: list, gt_labels: list, coder: VoteBoxCoder,
                   near_far: tuple = (0.3, 0.6), objectness_weights: tuple = (0.2, 0.8),
                   loss_weights: dict | None = None, seed_instance: torch.Tensor | None = None,
                   box_instance: list | None = None) -> dict:
    """All VoteNet losses for a batch.

    Args:
        preds: head outputs (B, ...): seed_xyz, vote_xyz, agg_xyz, objectness_logits, center,
            heading_logits, heading_residual_norm, size_logits, size_residual_norm, sem_logits.
        gt_boxes: B tensors (M_b, 7); gt_labels: B tensors (M_b,).
        seed_instance: optional (B, S) instance id of each seed; box_instance: optional B tensors
            (M_b,) instance id of each box. Given both, seeds vote for their own instance's box.
    Returns:
        dict of weighted scalar losses named loss_* (heading terms only with yaw).
    """
    w = dict(DEFAULT_LOSS_WEIGHTS, **(loss_weights or {}))
    bsz, p = preds["agg_xyz"].shape[:2]
    device = preds["agg_xyz"].device
    vote_d, vote_m = [], []
    obj_label, obj_mask = [], []
    ctr_d1, ctr_d2, box_mask = [], [], []
    tgt = {k: [] for k in ("heading_class", "heading_residual", "size_class", "size_residual", "label")}
    for b in range(bsz):
        boxes = torch.as_tensor(gt_boxes[b]).to(device=device, dtype=preds["vote_xyz"].dtype).reshape(-1, 7)
        labels = torch.as_tensor(gt_labels[b]).to(device=device, dtype=torch.long).reshape(-1)
        if seed_instance is not None and box_instance is not None:
            inst = torch.as_tensor(box_instance[b]).to(device=device, dtype=torch.long).reshape(-1)
            inside, centres = vote_targets(preds["seed_xyz"][b], boxes, seed_instance[b], inst)
        else:
            inside, centres = vote_targets(preds["seed_xyz"][b], boxes)
        d, m = vote_distance(preds["vote_xyz"][b], inside, centres)
        vote_d.append(d)
        vote_m.append(m)
        label, mask, assign = proposal_targets(preds["agg_xyz"][b], centres, *near_far)
        obj_label.append(label)
        obj_mask.append(mask)
        pc = preds["center"][b]
        if boxes.shape[0]:
            sq = ((pc[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # (P, M) squared L2
            ctr_d1.append(sq.min(1).values)
            ctr_d2.append(sq.min(0).values)
            enc = coder.encode(boxes, labels)
            enc["label"] = labels
            for k in tgt:
                tgt[k].append(enc[k][assign])
        else:  # no gt: nothing is positive, so the gathered targets are never used
            ctr_d1.append(pc.new_zeros(p))
            ctr_d2.append(pc.new_zeros(0))
            tgt["heading_class"].append(torch.zeros(p, dtype=torch.long, device=device))
            tgt["heading_residual"].append(pc.new_zeros(p))
            tgt["size_class"].append(torch.zeros(p, dtype=torch.long, device=device))
            tgt["size_residual"].append(pc.new_zeros(p, 3))
            tgt["label"].append(torch.zeros(p, dtype=torch.long, device=device))
        box_mask.append(torch.ones(boxes.shape[0], device=device))
    vote_d, vote_m = torch.stack(vote_d), torch.stack(vote_m)
    obj_label, obj_mask = torch.stack(obj_label), torch.stack(obj_mask)
    pos = obj_label.to(preds["center"].dtype)  # box terms only on positive proposals
    tgt = {k: torch.stack(v) for k, v in tgt.items()}

    losses = {}
    losses["loss_vote"] = w["vote"] * _wmean(vote_d, vote_m)
    obj_ce = F.cross_entropy(preds["objectness_logits"].reshape(-1, 2), obj_label.reshape(-1),
                             weight=torch.tensor(objectness_weights, device=device, dtype=pos.dtype),
                             reduction="none").reshape(bsz, p)
    losses["loss_objectness"] = w["objectness"] * _wmean(obj_ce, obj_mask)
    d2 = torch.cat(ctr_d2)
    losses["loss_center"] = w["center"] * (_wmean(torch.stack(ctr_d1), pos) + _wmean(d2, torch.cat(box_mask)))

    if coder.with_yaw:
        h = coder.num_heading_bins
        hcls = F.cross_entropy(preds["heading_logits"].reshape(-1, h), tgt["heading_class"].reshape(-1),
                               reduction="none").reshape(bsz, p)
        losses["loss_heading_cls"] = w["heading_cls"] * _wmean(hcls, pos)
        hres = preds["heading_residual_norm"].gather(-1, tgt["heading_class"][..., None])[..., 0]
        hres_t = tgt["heading_residual"] / (math.pi / h)
        losses["loss_heading_reg"] = w["heading_reg"] * _wmean(
            F.huber_loss(hres, hres_t, reduction="none", delta=1.0), pos)

    k = coder.num_size_clusters
    scls = F.cross_entropy(preds["size_logits"].reshape(-1, k), tgt["size_class"].reshape(-1),
                           reduction="none").reshape(bsz, p)
    losses["loss_size_cls"] = w["size_cls"] * _wmean(scls, pos)
    idx = tgt["size_class"][..., None, None].expand(bsz, p, 1, 3)
    sres = preds["size_residual_norm"].gather(-2, idx)[..., 0, :]
    sreg = F.huber_loss(sres, tgt["size_residual"], reduction="none", delta=1.0).mean(-1)
    losses["loss_size_reg"] = w["size_reg"] * _wmean(sreg, pos)
    c = preds["sem_logits"].shape[-1]
    sem = F.cross_entropy(preds["sem_logits"].reshape(-1, c), tgt["label"].reshape(-1),
                          reduction="none").reshape(bsz, p)
    losses["loss_semantic"] = w["semantic"] * _wmean(sem, pos)
    return losses
