"""Text4Point losses: pixel-voxel contrastive (Eq. 14), auxiliary text score loss (Eq. 15-16),
and the 2D decoder's depth loss."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F


def pixel_voxel_contrastive_loss(pixel_feats: torch.Tensor, voxel_feats: torch.Tensor,
                                 tau: float = 0.4, positive_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Eq. 14 over matched pairs: row k of both inputs is the k-th pair of S.

    ``L = -1/|S| sum_k [log softmax_p(cos(h2D_k, h3D_p)/tau)[k] + log softmax_q(cos(h2D_q,
    h3D_k)/tau)[k]]`` -- both directions summed (no 1/2), as written in the paper; negatives are
    the other pairs of S. Shapes: (M,C), (M,C) -> scalar.

    positive_mask: optional (M, M) bool, True where pixel k and voxel l also correspond (the
    diagonal must be True). Each term then takes the softmax mass of ALL its positives,
    ``log sum_{l: mask[k,l]} softmax_l(...)``, so two pairs sharing a pixel are not each other's
    negatives (identical logits would otherwise bound the loss below by log of their count).
    With an identity mask this is exactly Eq. 14.
    """
    if pixel_feats.shape != voxel_feats.shape or pixel_feats.dim() != 2:
        raise ValueError(f"need two (M,C) tensors, got {tuple(pixel_feats.shape)} and "
                         f"{tuple(voxel_feats.shape)}")
    if len(pixel_feats) == 0:
        return (pixel_feats.sum() + voxel_feats.sum()) * 0.0
    logits = F.normalize(pixel_feats, dim=1) @ F.normalize(voxel_feats, dim=1).T / tau
    if positive_mask is None:
        target = torch.arange(len(logits), device=logits.device)
        return F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)
    if positive_mask.shape != logits.shape or not bool(positive_mask.diagonal().all()):
        raise ValueError(f"positive_mask must be ({len(logits)}, {len(logits)}) with a True diagonal")

    def term(lg: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pos = lg.masked_fill(~mask, float("-inf")).logsumexp(1)
        return (lg.logsumexp(1) - pos).mean()

    return term(logits, positive_mask) + term(logits.T, positive_mask.T)


def neighbour_mode_labels(centres: np.ndarray, points: np.ndarray, labels: np.ndarray,
                          radius: float, num_classes: int, ignore_index: int = -1,
                          p: float = 2.0) -> np.ndarray:
    """Pseudo label per centre: the most frequent label of the points within ``radius``
    (``p``-norm; ``p=inf`` for a cube). Points labelled ``ignore_index`` do not count; centres
    without counted neighbours get ``ignore_index``; ties go to the smallest label.

    Shapes: centres (n,3), points (P,3), labels (P,) -> (n,) int64.
    """
    from scipy.spatial import cKDTree

    keep = labels != ignore_index
    pts, lab = np.asarray(points)[keep], np.asarray(labels)[keep].astype(np.int64)
    out = np.full(len(centres), ignore_index, np.int64)
    if len(pts) == 0 or len(centres) == 0:
        return out
    lists = cKDTree(pts).query_ball_point(np.asarray(centres), r=radius, p=p)
    sizes = np.fromiter((len(x) for x in lists), np.int64, len(lists))
    if sizes.sum() == 0:
        return out
    rows = np.repeat(np.arange(len(centres)), sizes)
    cols = lab[np.concatenate([np.asarray(x, np.int64) for x in lists])]
    counts = np.zeros((len(centres), num_classes), np.int64)
    np.add.at(counts, (rows, cols), 1)
    has = sizes > 0
    out[has] = counts[has].argmax(1)  # argmax returns the first (smallest) label on ties
    return out


def text_auxiliary_loss(voxel_feats: torch.Tensor, text_embeds: torch.Tensor,
                        pseudo_labels: torch.Tensor, tau: float = 0.07,
                        ignore_index: int = -1) -> torch.Tensor:
    """Eq. 15-16: ``s_ij = cos(h_i, t_j)``, cross-entropy of ``softmax(s_i / tau)`` against the
    pseudo label, averaged over voxels with a label (those without neighbours are skipped).

    Shapes: voxel_feats (n,d), text_embeds (K,d), pseudo_labels (n,) int64 -> scalar.
    """
    scores = F.normalize(voxel_feats, dim=1) @ F.normalize(text_embeds, dim=1).T
    valid = pseudo_labels != ignore_index
    if not bool(valid.any()):
        return scores.sum() * 0.0
    return F.cross_entropy(scores[valid] / tau, pseudo_labels[valid])


def depth_l1_loss(pred: torch.Tensor, target: torch.Tensor,
                  valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean absolute depth error (metres) over valid pixels (target > 0 unless ``valid`` given).

    The paper supervises the 2D decoder "by depth prediction" without the formula; L1 on
    metric depth is our choice. Shapes: pred/target (B,H,W) or (B,1,H,W).
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    mask = target > 0 if valid is None else valid
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return (pred[mask] - target[mask]).abs().mean()
