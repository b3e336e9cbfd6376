"""PointGroup instance segmentation pieces: targets and losses, ScoreNet, proposals."""
from .proposals import cluster_proposals, mask_nms
from .scorenet import ScoreNet, cluster_voxels
from .targets import cluster_ious, instance_offsets, offset_losses, score_targets

__all__ = ["ScoreNet", "cluster_ious", "cluster_proposals", "cluster_voxels", "instance_offsets", "mask_nms",
           "offset_losses", "score_targets"]
