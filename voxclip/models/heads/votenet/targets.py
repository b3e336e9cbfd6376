"""Training targets: seed votes from point-in-box membership, proposal objectness and assignment."""
from __future__ import annotations

import torch

from voxclip.structures.boxes import points_in_boxes


def vote_targets(seed_xyz: torch.Tensor, gt_boxes: torch.Tensor, seed_instance: torch.Tensor | None = None,
                 box_instance: torch.Tensor | None = None):
    """Which gt boxes each seed votes for, and the boxes' centres.

    With instance labels (ScanNet: `seed_instance` (S,) per-seed instance id, `box_instance` (M,) the
    instance of each box), a seed votes for the box of its own instance, as VoteNet does on ScanNet:
    axis-aligned boxes also contain floor and wall points that carry no clue of the object centre.
    Without them (SUN RGB-D), membership is point-in-box (yaw-aware).

    Args: seed_xyz (S, 3); gt_boxes (M, 7).
    Returns: inside (S, M) bool, centres (M, 3). A seed inside several boxes may vote for any of them
    (the loss takes the nearest); a seed inside none gets no vote loss.
    """
    if gt_boxes.shape[0] == 0:
        return torch.zeros(seed_xyz.shape[0], 0, dtype=torch.bool, device=seed_xyz.device), gt_boxes[:, :3]
    if seed_instance is not None and box_instance is not None:
        inside = (seed_instance[:, None] == box_instance[None, :]) & (box_instance[None, :] > 0)
    else:
        inside = points_in_boxes(seed_xyz.detach(), gt_boxes.to(seed_xyz.dtype))
    return inside, gt_boxes[:, :3].to(seed_xyz.dtype)


def vote_distance(vote_xyz: torch.Tensor, inside: torch.Tensor, centres: torch.Tensor):
    """Per-seed L1 distance of its vote to the nearest centre among its boxes.

    Args: vote_xyz (S, 3); inside (S, M); centres (M, 3).
    Returns: dist (S,) (0 where no box), mask (S,) float (1 = seed inside some box).
    """
    mask = inside.any(1)
    if centres.shape[0] == 0:
        return vote_xyz.new_zeros(vote_xyz.shape[0]), mask.to(vote_xyz.dtype)
    l1 = (vote_xyz[:, None, :] - centres[None, :, :]).abs().sum(-1)  # (S, M)
    l1 = torch.where(inside, l1, torch.full_like(l1, float("inf")))
    dist = torch.where(mask, l1.min(1).values, torch.zeros_like(l1[:, 0]))
    return dist, mask.to(vote_xyz.dtype)


def proposal_targets(centres: torch.Tensor, gt_centres: torch.Tensor, near: float = 0.3, far: float = 0.6):
    """Objectness labels from the distance of each cluster centre to its nearest gt centre.

    Args: centres (P, 3) aggregation centres (sampled votes); gt_centres (M, 3).
    Returns: label (P,) long (1 if nearer than `near`), mask (P,) float (0 between near and far,
    where objectness is not supervised), assign (P,) long index of the nearest gt box (0 if none).
    """
    p = centres.shape[0]
    if gt_centres.shape[0] == 0:
        zeros = torch.zeros(p, dtype=torch.long, device=centres.device)
        return zeros, torch.ones(p, dtype=centres.dtype, device=centres.device), zeros
    d = torch.cdist(centres.detach(), gt_centres.to(centres.dtype), compute_mode="donot_use_mm_for_euclid_dist")
    dmin, assign = d.min(1)
    label = (dmin < near).long()
    mask = ((dmin < near) | (dmin > far)).to(centres.dtype)
    return label, mask, assign
