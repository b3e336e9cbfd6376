"""VoteNet head on a sparse backbone: seeds -> votes -> clusters -> proposals -> losses / boxes."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from voxclip.registry import MODELS

from .aggregation import VoteAggregation
from .box_coder import VoteBoxCoder
from .losses import votenet_losses
from .postprocess import postprocess_sample
from .proposal import ProposalModule
from .seeds import sample_seeds
from .voting import VotingModule


@MODELS.register_module()
class VoteHead(nn.Module):
    """VoteNet detection head taking per-voxel backbone features.

    Args:
        num_classes: detection classes (also the size clusters).
        in_channels: backbone output width.
        mean_sizes: (num_classes, 3) mean full box size per class.
        num_heading_bins: 1 for axis-aligned data (ScanNet: yaw predicted as 0), 12 for SUN RGB-D.
        num_seeds: seeds per sample (FPS over its points). vote_hidden: voting MLP widths (default (C, C)).
        num_proposals, agg_radius, agg_nsample, agg_mlp: vote aggregation.
        proposal_hidden: proposal MLP widths.
        objectness_thresholds: (near, far) distances for positive / negative proposals.
        objectness_class_weights: cross-entropy weights for (negative, positive).
        loss_weights: overrides of losses.DEFAULT_LOSS_WEIGHTS (vote, objectness, center,
            heading_cls, heading_reg, size_cls, size_reg, semantic).
        test_cfg: overrides of postprocess.DEFAULT_TEST_CFG (nms_iou, score_thr, per_class_proposal,
            remove_empty_box, min_points_in_box).
        fps_backend: 'auto' | 'fpsample' | 'torch'.
    """

    def __init__(self, num_classes: int, in_channels: int, mean_sizes: Sequence[Sequence[float]],
                 num_heading_bins: int = 1, num_seeds: int = 1024, vote_hidden: Sequence[int] | None = None,
                 norm_vote_feats: bool = True, num_proposals: int = 256, agg_radius: float = 0.3,
                 agg_nsample: int = 16, agg_mlp: Sequence[int] = (128, 128, 128),
                 proposal_hidden: Sequence[int] = (128, 128), objectness_thresholds: Sequence[float] = (0.3, 0.6),
                 objectness_class_weights: Sequence[float] = (0.2, 0.8), loss_weights: dict | None = None,
                 test_cfg: dict | None = None, fps_backend: str = "auto"):
        super().__init__()
        self.coder = VoteBoxCoder(num_heading_bins, mean_sizes)
        if self.coder.num_size_clusters != num_classes:
            raise ValueError(f"mean_sizes has {self.coder.num_size_clusters} rows, expected num_classes={num_classes}")
        self.num_classes, self.num_seeds, self.fps_backend = num_classes, num_seeds, fps_backend
        self.voting = VotingModule(in_channels, vote_hidden, norm_vote_feats)
        self.aggregation = VoteAggregation(in_channels, agg_mlp, num_proposals, agg_radius, agg_nsample,
                                           fps_backend=fps_backend)
        self.proposal = ProposalModule(self.aggregation.out_channels, num_classes, self.coder, proposal_hidden)
        self.near_far = tuple(objectness_thresholds)
        self.objectness_class_weights = tuple(objectness_class_weights)
        self.loss_weights = dict(loss_weights or {})
        self.test_cfg = dict(test_cfg or {})

    def forward(self, voxel_feats: torch.Tensor, points: torch.Tensor, point_batch: torch.Tensor,
                inverse: torch.Tensor, batch_size: int) -> dict:
        """voxel_feats (V, C); points (N, 3); point_batch, inverse (N,) -> predictions (B, ...)."""
        seed_xyz, seed_feats, seed_inds = sample_seeds(voxel_feats, points[:, :3], point_batch, inverse,
                                                       self.num_seeds, batch_size, self.fps_backend)
        vote_xyz, vote_feats = self.voting(seed_xyz, seed_feats)
        agg_xyz, agg_feats, _ = self.aggregation(vote_xyz, vote_feats)
        preds = self.proposal(agg_xyz, agg_feats)
        preds.update(seed_xyz=seed_xyz, seed_inds=seed_inds, vote_xyz=vote_xyz, agg_xyz=agg_xyz)
        return preds

    def loss(self, preds: dict, gt_boxes: list, gt_labels: list, point_instance: torch.Tensor | None = None,
             box_instance: list | None = None) -> dict:
        """Weighted losses (keys loss_*) against per-sample gt boxes (M_b, 7) and labels (M_b,).

        point_instance (N,) over the batch's points and box_instance (B tensors (M_b,)) switch the
        vote targets from point-in-box to instance membership (see targets.vote_targets).
        """
        seed_instance = None
        if point_instance is not None and box_instance is not None:
            seed_instance = point_instance.to(preds["seed_inds"].device)[preds["seed_inds"]]
        return votenet_losses(preds, gt_boxes, gt_labels, self.coder, self.near_far,
                              self.objectness_class_weights, self.loss_weights, seed_instance, box_instance)

    @torch.no_grad()
    def predict(self, preds: dict, points: torch.Tensor | None = None,
                point_batch: torch.Tensor | None = None) -> list:
        """Per-sample detections: dicts of boxes (K, 7), labels (K,), scores (K,)."""
        boxes = self.proposal.decode_boxes(preds).float()  # float32 even under AMP
        results = []
        for b in range(boxes.shape[0]):
            pts = points[point_batch == b, :3] if points is not None else None
            results.append(postprocess_sample(boxes[b], preds["objectness_logits"][b].float(),
                                              preds["sem_logits"][b].float(), pts, self.test_cfg))
        return results
