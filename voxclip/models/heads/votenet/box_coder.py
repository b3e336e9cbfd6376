"""VoteNet box parameterisation: heading bins + residual, size as class mean size + residual.

ScanNet uses one heading bin and no yaw (decoded yaw is 0); SUN RGB-D uses 12 bins. Size clusters
are the classes: cluster k's template is mean_sizes[k] and the size class target is the label.
Heading bin b covers yaw in [b*w - w/2, b*w + w/2), w = 2*pi/num_heading_bins; residuals are in
radians (the head predicts them divided by w/2); size residuals are relative to the template
(size = mean * (1 + residual)).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from voxclip.structures.boxes import limit_yaw


class VoteBoxCoder:
    """Encode (M,7) boxes into VoteNet targets and decode predictions back to boxes.

    Args:
        num_heading_bins: 1 (no yaw, ScanNet) or more (oriented boxes, SUN RGB-D: 12).
        mean_sizes: (num_size_clusters, 3) full box sizes per class, all > 0.
    """

    def __init__(self, num_heading_bins: int, mean_sizes: Sequence[Sequence[float]]):
        if num_heading_bins < 1:
            raise ValueError(f"num_heading_bins must be >= 1, got {num_heading_bins}")
        if any(row is None for row in mean_sizes):
            missing = [i for i, row in enumerate(mean_sizes) if row is None]
            raise ValueError(f"mean_sizes has no size for class(es) {missing}; give every class a (dx, dy, dz)")
        sizes = torch.as_tensor(mean_sizes, dtype=torch.float32)
        if sizes.dim() != 2 or sizes.shape[1] != 3 or not bool((sizes > 0).all()):
            raise ValueError(f"mean_sizes must be (num_classes, 3) positive sizes, got {tuple(sizes.shape)}")
        self.num_heading_bins = int(num_heading_bins)
        self.mean_sizes = sizes
        self.with_yaw = self.num_heading_bins > 1

    @property
    def num_size_clusters(self) -> int:
        return self.mean_sizes.shape[0]

    @property
    def bin_width(self) -> float:
        return 2 * math.pi / self.num_heading_bins

    # heading
    def encode_heading(self, yaw: torch.Tensor):
        """yaw (...) -> (bin int64 (...), residual radians (...)); zeros without yaw."""
        if not self.with_yaw:
            return torch.zeros_like(yaw, dtype=torch.long), torch.zeros_like(yaw)
        w = self.bin_width
        shifted = torch.remainder(torch.remainder(yaw, 2 * math.pi) + w / 2, 2 * math.pi)
        bins = torch.floor(shifted / w).long().clamp_(0, self.num_heading_bins - 1)
        return bins, shifted - (bins.to(yaw.dtype) * w + w / 2)

    def decode_heading(self, bins: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """(bin, residual radians) -> yaw in [-pi, pi); 0 without yaw."""
        if not self.with_yaw:
            return torch.zeros_like(residual)
        return limit_yaw(bins.to(residual.dtype) * self.bin_width + residual)

    # size
    def encode_size(self, size: torch.Tensor, labels: torch.Tensor):
        """size (..., 3), labels (...) -> (size class = label, normalised residual (..., 3))."""
        mean = self.mean_sizes.to(size.device, size.dtype)[labels]
        return labels.long(), size / mean - 1.0

    def decode_size(self, size_class: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """(cluster (...), normalised residual (..., 3)) -> full sizes (..., 3)."""
        mean = self.mean_sizes.to(residual.device, residual.dtype)[size_class]
        return mean * (1.0 + residual)

    # boxes
    def encode(self, boxes: torch.Tensor, labels: torch.Tensor) -> dict:
        """boxes (M, 7), labels (M,) -> dict of per-box targets (M, ...)."""
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_size_clusters):
            raise ValueError(f"box labels must be in [0, {self.num_size_clusters}), got "
                             f"[{int(labels.min())}, {int(labels.max())}]")
        hb, hr = self.encode_heading(boxes[..., 6])
        sc, sr = self.encode_size(boxes[..., 3:6], labels)
        return dict(center=boxes[..., 0:3], heading_class=hb, heading_residual=hr,
                    size_class=sc, size_residual=sr)

    def decode(self, center: torch.Tensor, heading_class: torch.Tensor, heading_residual: torch.Tensor,
               size_class: torch.Tensor, size_residual: torch.Tensor) -> torch.Tensor:
        """Chosen bins/clusters and their residuals -> boxes (..., 7) in the project convention."""
        yaw = self.decode_heading(heading_class, heading_residual)
        size = self.decode_size(size_class, size_residual)
        return torch.cat([center, size, yaw[..., None]], dim=-1)
