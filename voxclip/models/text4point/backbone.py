"""SR-UNet with the Text Querying Module between its encoder and decoder (Text4Point Eq. 3-12).

A subclass of SRUNet, so the parameter names of the plain U-Net are unchanged (``stem.*``,
``encoders.*``, ...) and the TQM adds ``tqm.*``: a Text4Point pretraining checkpoint initialises
the fine-tuning backbone key for key, and a plain SR-UNet checkpoint loads with only ``tqm.*``
missing.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from voxclip import sparse as sp
from voxclip.models.backbones.srunet import SRUNet
from voxclip.registry import MODELS

from .tqm import TextQueryingModule


class Text4PointOutput(NamedTuple):
    """features: (N, out_channels) on the input voxels (z3D, Eq. 12); bottleneck: h3D at stride 16;
    expanded: FC_expand(h3D) (M, embed_dim) rows aligned with ``bottleneck`` (Eq. 4); attn: TQM
    attention weights (heads, M, K)."""
    features: sp.SparseTensor
    bottleneck: sp.SparseTensor
    expanded: torch.Tensor
    attn: torch.Tensor


@MODELS.register_module()
class Text4PointSRUNet(SRUNet):
    """Args: as SRUNet, plus ``embed_dim`` (CLIP embedding width d, 1024 for RN50) and ``tqm``
    (extra TextQueryingModule kwargs: num_heads, mlp_ratio, alpha_init, beta_init).

    forward(x, text) with ``text`` (K, embed_dim) class embeddings -> Text4PointOutput.
    """

    def __init__(self, in_channels: int, out_channels: int, arch: str = "34C", embed_dim: int = 1024,
                 tqm: dict | None = None, conv0_kernel_size: int = 5, bn_momentum: float = 0.1):
        super().__init__(in_channels, out_channels, arch, conv0_kernel_size, bn_momentum)
        self.embed_dim = embed_dim
        self.tqm = TextQueryingModule(self.bottleneck_channels, embed_dim, **(tqm or {}))

    def forward(self, x: sp.SparseTensor, text: torch.Tensor) -> Text4PointOutput:  # type: ignore[override]
        if text is None or text.dim() != 2 or text.shape[1] != self.embed_dim:
            got = None if text is None else tuple(text.shape)
            raise ValueError(f"Text4PointSRUNet needs text embeddings of shape (K, {self.embed_dim}), got {got}")
        bottleneck, skips = self.encode(x)
        aggr, extras = self.tqm(bottleneck, text)
        return Text4PointOutput(self.decode(aggr, skips), bottleneck, extras["expanded"], extras["attn"])
