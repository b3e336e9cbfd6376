"""Per-point segmentation head for token-based encoders (point transformer, frozen CLIP).

Feature propagation from coarse to fine levels, as DGCNN's / PointNet++'s segmentation decoders:
for every point of the next finer level, the 3 nearest coarse points' features by inverse-distance
weights (w_j = (1/d_j) / sum_k 1/d_k, voxclip.ops.three_nn_interpolate), concatenated with that
level's own (skip) features, then shared 1x1 conv + BatchNorm + ReLU layers. After the last step
(the input points), conv blocks and a final 1x1 conv give per-point logits.

One step (patch centres -> points) is the concept-alignment ScanNet head (paper Sec. 4.2.2);
several steps with the hierarchical tokenizer's levels are EPCL's segmentation decoder; one step plus a
per-object global feature (``global_channels``) is Point-MAE's ShapeNetPart head (PointPartSegmentor).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from voxclip.ops.interpolate import three_nn_interpolate
from voxclip.registry import MODELS

__all__ = ["TokenSegHead", "conv_bn_relu"]


def conv_bn_relu(channels: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for cin, cout in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv1d(cin, cout, 1, bias=False), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@MODELS.register_module()
class TokenSegHead(nn.Module):
    """Args:
        in_channels: width of the coarsest (token) features.
        skip_channels: skip-feature widths of each finer level, coarse to fine; the last entry is the
            per-point input features (e.g. xyz + colour + height = 7).
        fp_channels: output widths of each propagation step's conv layers (one tuple per level;
            an empty tuple = concatenation only).
        head_channels: conv-block widths after the last step (before the classifier).
        num_classes: K. dropout: before the classifier (DGCNN: 0.5).
        global_channels: width of a per-sample global feature concatenated to every point after the
            last propagation step, before the conv blocks (Point-MAE part segmentation: max + mean
            pooled features + category embedding); 0 = none.
        dropout_after: None = the dropout sits before the classifier; i = after head conv block i
            (Point-MAE part segmentation: 0, between its 512 and 256 blocks).
    forward(levels, points, point_skip, point_batch, global_feats=None) -> per-point logits (N_total, K).
    """

    def __init__(self, in_channels: int, skip_channels: Sequence[int], num_classes: int,
                 fp_channels: Sequence[Sequence[int]] | None = None, head_channels: Sequence[int] = (256,),
                 dropout: float = 0.5, global_channels: int = 0, dropout_after: int | None = None):
        super().__init__()
        skip_channels = list(skip_channels)
        fp_channels = [tuple(c) for c in (fp_channels if fp_channels is not None else [()] * len(skip_channels))]
        if len(fp_channels) != len(skip_channels) or not skip_channels:
            raise ValueError(f"TokenSegHead: {len(skip_channels)} skip levels but {len(fp_channels)} fp_channels entries")
        self.fp = nn.ModuleList()
        c = int(in_channels)
        for skip, widths in zip(skip_channels, fp_channels):
            self.fp.append(conv_bn_relu([c + int(skip), *widths]))
            c = widths[-1] if widths else c + int(skip)
        self.global_channels = int(global_channels)
        c += self.global_channels
        self.head = conv_bn_relu([c, *head_channels])
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        if dropout_after is not None:  # move the dropout behind head block i (3 modules per block)
            if not 0 <= int(dropout_after) < len(head_channels):
                raise ValueError(f"TokenSegHead: dropout_after {dropout_after} outside the {len(head_channels)} "
                                 "head blocks")
            cut = 3 * (int(dropout_after) + 1)
            self.head = nn.Sequential(*self.head[:cut], self.dropout, *self.head[cut:])
            self.dropout = nn.Identity()
        self.classifier = nn.Conv1d(head_channels[-1] if head_channels else c, int(num_classes), 1)
        self.num_levels = len(skip_channels)  # token levels; the last skip entry is the points'

    def forward(self, levels: Sequence[tuple[torch.Tensor, torch.Tensor]], points: torch.Tensor,
                point_skip: torch.Tensor | None, point_batch: torch.Tensor,
                global_feats: torch.Tensor | None = None) -> torch.Tensor:
        """levels: [(xyz (B, n_0, 3), feats (B, n_0, C_0)), (xyz_1, skip_1), ...] coarse to fine, every
        sample the same size; points (N_total, 3) with point_skip (N_total, C) and point_batch (N_total,):
        the last step, per sample; global_feats (B, global_channels) when built with them. -> logits
        (N_total, K)."""
        if len(levels) != self.num_levels:
            raise ValueError(f"TokenSegHead: {len(levels)} token levels given, built for {self.num_levels}")
        xyz, feats = levels[0]
        for fp, (fine_xyz, skip) in zip(self.fp[:-1], levels[1:]):
            feats = fp(self._cat(three_nn_interpolate(fine_xyz, xyz, feats), skip).transpose(1, 2)).transpose(1, 2)
            xyz = fine_xyz
        up = torch.empty(points.shape[0], feats.shape[-1], dtype=feats.dtype, device=feats.device)
        for b in range(xyz.shape[0]):
            m = point_batch == b
            up[m] = three_nn_interpolate(points[m], xyz[b], feats[b])
        x = self.fp[-1](self._cat(up, point_skip).t()[None])  # (1, C, N_total): conv layers over every point at once
        if self.global_channels:
            if global_feats is None or tuple(global_feats.shape) != (xyz.shape[0], self.global_channels):
                got = None if global_feats is None else tuple(global_feats.shape)
                raise ValueError(f"TokenSegHead: built for ({xyz.shape[0]}, {self.global_channels}) global_feats, "
                                 f"got {got}")
            x = torch.cat([x, global_feats.to(x.dtype)[point_batch].t()[None]], dim=1)
        x = self.head(x)
        return self.classifier(self.dropout(x))[0].t()

    @staticmethod
    def _cat(up: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        return up if skip is None or skip.shape[-1] == 0 else torch.cat([up, skip.to(up.dtype)], dim=-1)
