"""Proposal module: per-cluster MLP -> objectness, centre, heading, size and class predictions."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .box_coder import VoteBoxCoder
from .mlp import SharedMLP


class ProposalModule(nn.Module):
    """Predicts, per proposal: objectness (2), centre offset (3), heading bin logits + normalised
    residuals (2 * H), size cluster logits + normalised residuals (4 * K), class logits (num_classes).
    """

    def __init__(self, in_channels: int, num_classes: int, box_coder: VoteBoxCoder,
                 hidden: Sequence[int] = (128, 128)):
        super().__init__()
        self.coder = box_coder
        self.num_classes = num_classes
        h, k = box_coder.num_heading_bins, box_coder.num_size_clusters
        self.mlp = SharedMLP(in_channels, hidden, 2 + 3 + 2 * h + 4 * k + num_classes)

    def forward(self, centres: torch.Tensor, feats: torch.Tensor) -> dict:
        """centres (B, P, 3), feats (B, P, C) -> dict of raw and decoded predictions (B, P, ...)."""
        h, k = self.coder.num_heading_bins, self.coder.num_size_clusters
        out = self.mlp(feats)
        sizes = [2, 3, h, h, k, 3 * k, self.num_classes]
        obj, dctr, hcls, hres, scls, sres, sem = torch.split(out, sizes, dim=-1)
        sres = sres.reshape(*sres.shape[:-1], k, 3)
        return dict(
            objectness_logits=obj,
            center=centres + dctr,
            heading_logits=hcls,
            heading_residual_norm=hres,  # radians / (bin_width / 2)
            size_logits=scls,
            size_residual_norm=sres,  # (B, P, K, 3) relative to the cluster's mean size
            sem_logits=sem,
        )

    def decode_boxes(self, preds: dict) -> torch.Tensor:
        """Boxes (B, P, 7) from the argmax heading bin and size cluster and their residuals."""
        hb = preds["heading_logits"].argmax(-1)
        hres = preds["heading_residual_norm"].gather(-1, hb[..., None])[..., 0] * (self.coder.bin_width / 2)
        sc = preds["size_logits"].argmax(-1)
        idx = sc[..., None, None].expand(*sc.shape, 1, 3)
        sres = preds["size_residual_norm"].gather(-2, idx)[..., 0, :]
        return self.coder.decode(preds["center"], hb, hres, sc, sres)
