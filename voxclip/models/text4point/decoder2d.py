"""Text4Point 2D decoder g2D (Eq. 13) and the depth head of its auxiliary depth loss (appendix C).

The paper only says g2D is "bi-linear interpolation layers and convolutional layers" and that it is
supervised by depth prediction; the layout below is our choice, kept small and configurable:

    h2D (B, D, h, w)  --1x1 conv-BN-ReLU-->  channels[0]
      stage i (i = 1..n-1): bilinear resize to (ceil(H / 2^(n-1-i)), ceil(W / 2^(n-1-i))),
                            3x3 conv-BN-ReLU -> channels[i]
      (so the last stage is at exactly the image size H x W; 5 stages from a /32 map = 4 doublings
       plus the first /16 step, e.g. 7x10 -> 15x20 -> 30x40 -> 60x80 -> 120x160 -> 240x320)
      1x1 conv (with bias) -> out_channels = C, the 3D decoder width       => z2D (B, C, H, W)

Depth head: 3x3 conv-BN-ReLU (hidden) then 1x1 conv -> 1 channel, softplus => positive depth
(metres), (B, H, W).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from voxclip.registry import MODELS


def _conv_bn_relu(cin: int, cout: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


@MODELS.register_module()
class Text4PointDecoder2D(nn.Module):
    """g2D: (B, in_channels, h, w) CLIP map -> (B, out_channels, H, W) at the image size.

    Args:
        in_channels: D, the CLIP embedding width (1024 for RN50).
        out_channels: C, the 3D decoder's output width (z3D), e.g. 96 for SR-UNet 34C.
        channels: width of each stage; len(channels) stages. The first stage is a 1x1 conv at the
            input resolution, each further stage upsamples ~2x; with 6 stages from a /32 map the
            last one is at the full image size. Fewer stages end with one larger bilinear step.
    """

    def __init__(self, in_channels: int, out_channels: int, channels: Sequence[int] = (256, 256, 128, 128, 96, 96)):
        super().__init__()
        if not channels:
            raise ValueError("Text4PointDecoder2D: channels must not be empty")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.channels = tuple(int(c) for c in channels)
        stages = [_conv_bn_relu(self.in_channels, self.channels[0], 1)]
        stages += [_conv_bn_relu(self.channels[i - 1], self.channels[i], 3) for i in range(1, len(self.channels))]
        self.stages = nn.ModuleList(stages)
        self.out = nn.Conv2d(self.channels[-1], self.out_channels, 1)

    def stage_sizes(self, out_size: tuple[int, int]) -> list[tuple[int, int]]:
        """Target size of each upsampling stage (stage 0 stays at the input size)."""
        n = len(self.channels)
        h, w = out_size
        return [(math.ceil(h / 2 ** (n - 1 - i)), math.ceil(w / 2 ** (n - 1 - i))) for i in range(1, n)]

    def forward(self, feats: torch.Tensor, out_size: tuple[int, int]) -> torch.Tensor:
        if feats.dim() != 4 or feats.shape[1] != self.in_channels:
            raise ValueError(f"Text4PointDecoder2D expects (B, {self.in_channels}, h, w), got {tuple(feats.shape)}")
        x = self.stages[0](feats)
        for stage, size in zip(self.stages[1:], self.stage_sizes(out_size)):
            x = stage(F.interpolate(x, size=size, mode="bilinear", align_corners=False))
        if tuple(x.shape[-2:]) != tuple(out_size):  # one stage only
            x = F.interpolate(x, size=tuple(out_size), mode="bilinear", align_corners=False)
        return self.out(x)


@MODELS.register_module()
class Text4PointDepthHead(nn.Module):
    """z2D (B, C, H, W) -> positive depth (B, H, W) in metres: 3x3 conv-BN-ReLU, 1x1 conv, softplus."""

    def __init__(self, in_channels: int, hidden: int = 32):
        super().__init__()
        self.block = _conv_bn_relu(int(in_channels), int(hidden), 3)
        self.out = nn.Conv2d(int(hidden), 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.out(self.block(x)))[:, 0]
