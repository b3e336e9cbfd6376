"""SR-UNet: the Res16UNet family of sparse residual U-Nets (MinkowskiEngine / PointContrast plans).

Encoder: conv0 (stride 1) then four stages of [stride-2 conv (k=2), residual blocks] to stride 16;
decoder: four stages of [transposed conv (k=2), concat with the skip at that stride, residual
blocks]; a final 1x1 conv gives `out_channels` features on the input voxels.
Published plans (INIT_DIM 32, BasicBlock): 14 = one block per stage, 18 = two, 34 = (2,3,4,6,2,2,2,2).
`conv0_kernel_size` defaults to 5 as in MinkowskiEngine's reference; 'tiny' is a small plan for
tests and quick demos (not a published configuration).
"""
from __future__ import annotations

from typing import NamedTuple

from torch import nn

from voxclip import sparse as sp
from voxclip.registry import MODELS

# name -> (BLOCKS per stage, PLANES per stage, INIT_DIM)
ARCHS: dict[str, tuple[tuple[int, ...], tuple[int, ...], int]] = {
    "14A": ((1,) * 8, (32, 64, 128, 256, 128, 128, 96, 96), 32),
    "14B": ((1,) * 8, (32, 64, 128, 256, 128, 128, 128, 128), 32),
    "14C": ((1,) * 8, (32, 64, 128, 256, 192, 192, 128, 128), 32),
    "14D": ((1,) * 8, (32, 64, 128, 256, 384, 384, 384, 384), 32),
    "18A": ((2,) * 8, (32, 64, 128, 256, 128, 128, 96, 96), 32),
    "18B": ((2,) * 8, (32, 64, 128, 256, 128, 128, 128, 128), 32),
    "18D": ((2,) * 8, (32, 64, 128, 256, 384, 384, 384, 384), 32),
    "34A": ((2, 3, 4, 6, 2, 2, 2, 2), (32, 64, 128, 256, 256, 128, 64, 64), 32),
    "34B": ((2, 3, 4, 6, 2, 2, 2, 2), (32, 64, 128, 256, 256, 128, 64, 32), 32),
    "34C": ((2, 3, 4, 6, 2, 2, 2, 2), (32, 64, 128, 256, 256, 128, 96, 96), 32),
    "tiny": ((1,) * 8, (16, 16, 32, 32, 32, 16, 16, 16), 16),
}


class SRUNetOutput(NamedTuple):
    """features: SparseTensor on the input coordinates (out_channels); bottleneck: stride-16 SparseTensor."""
    features: sp.SparseTensor
    bottleneck: sp.SparseTensor


class BasicBlock(nn.Module):
    """conv3-bn-relu-conv3-bn + (1x1 conv-bn projection when channels change), relu."""

    def __init__(self, cin: int, cout: int, bn_momentum: float, bn_eps: float = 1e-5):
        super().__init__()
        self.conv1 = sp.SubMConv3d(cin, cout, 3)
        self.norm1 = sp.BatchNorm(cout, momentum=bn_momentum, eps=bn_eps)
        self.conv2 = sp.SubMConv3d(cout, cout, 3)
        self.norm2 = sp.BatchNorm(cout, momentum=bn_momentum, eps=bn_eps)
        self.relu = sp.ReLU(inplace=True)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(sp.SubMConv3d(cin, cout, 1), sp.BatchNorm(cout, momentum=bn_momentum, eps=bn_eps))

    def forward(self, x: sp.SparseTensor) -> sp.SparseTensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out.replace_feats(out.feats + identity.feats))


def _stage(cin: int, cout: int, blocks: int, bn_momentum: float, bn_eps: float = 1e-5) -> nn.Sequential:
    return nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, bn_momentum, bn_eps) for i in range(blocks)])


def _conv_bn_relu(conv: nn.Module, c: int, bn_momentum: float, bn_eps: float = 1e-5) -> nn.Sequential:
    return nn.Sequential(conv, sp.BatchNorm(c, momentum=bn_momentum, eps=bn_eps), sp.ReLU(inplace=True))


@MODELS.register_module()
class SRUNet(nn.Module):
    """Sparse residual U-Net (Res16UNet{arch}).

    Args:
        in_channels: input feature channels C.
        out_channels: output channels D (a final 1x1 conv with bias).
        arch: one of ARCHS ('14A', '18A', '34C', ..., 'tiny').
        conv0_kernel_size: kernel of the first conv (5 as published; 3 is cheaper).
        bn_momentum: BatchNorm momentum (PyTorch convention).
        bn_eps: BatchNorm epsilon (Pointcept's SpUNet uses 1e-3).
        down_mode: 'keep' (Res16UNet: the stride-2 conv keeps its channels, the stage's first block
            projects to the stage's planes) or 'expand' (Pointcept SpUNet-v1m1: the stride-2 conv
            goes to the stage's planes, the blocks keep them). See docs/interop.md.
    Input: SparseTensor (N, C) at stride 1. Output: SRUNetOutput(features (N, D) on the same
    coordinates and row order, bottleneck (M, PLANES[3]) at stride 16).
    """

    def __init__(self, in_channels: int, out_channels: int, arch: str = "34C", conv0_kernel_size: int = 5,
                 bn_momentum: float = 0.1, bn_eps: float = 1e-5, down_mode: str = "keep"):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown SRUNet arch {arch!r}; choose one of {sorted(ARCHS)}")
        if down_mode not in ("keep", "expand"):
            raise ValueError(f"SRUNet down_mode must be 'keep' or 'expand', got {down_mode!r}")
        blocks, planes, init_dim = ARCHS[arch]
        self.arch = arch
        self.in_channels, self.out_channels = in_channels, out_channels
        m, e = bn_momentum, bn_eps
        self.stem = _conv_bn_relu(sp.SubMConv3d(in_channels, init_dim, conv0_kernel_size), init_dim, m, e)
        enc_in = [init_dim, planes[0], planes[1], planes[2]]
        down_out = enc_in if down_mode == "keep" else list(planes[:4])
        self.downs = nn.ModuleList([_conv_bn_relu(sp.SparseConv3d(c, d), d, m, e) for c, d in zip(enc_in, down_out)])
        self.encoders = nn.ModuleList([_stage(down_out[i], planes[i], blocks[i], m, e) for i in range(4)])
        # Decoder stage i upsamples to the stride of skip (3 - i) and concatenates it.
        skip_ch = [planes[2], planes[1], planes[0], init_dim]
        ups, decoders, cin = [], [], planes[3]
        for i in range(4):
            ups.append(_conv_bn_relu(sp.SparseInverseConv3d(cin, planes[4 + i]), planes[4 + i], m, e))
            decoders.append(_stage(planes[4 + i] + skip_ch[i], planes[4 + i], blocks[4 + i], m, e))
            cin = planes[4 + i]
        self.ups = nn.ModuleList(ups)
        self.decoders = nn.ModuleList(decoders)
        self.final = sp.SubMConv3d(planes[7], out_channels, 1, bias=True)
        self.bottleneck_channels = planes[3]
        self.decoder_channels = planes[7]

    def encode(self, x: sp.SparseTensor) -> tuple[sp.SparseTensor, list[sp.SparseTensor]]:
        """x (stride 1) -> (bottleneck at stride 16, skips at strides [1, 2, 4, 8])."""
        if x.stride != 1:
            raise ValueError(f"SRUNet expects a stride-1 input, got stride {x.stride}")
        out = self.stem(x)
        skips = []
        for down, enc in zip(self.downs, self.encoders):
            skips.append(out)
            out = enc(down(out))
        return out, skips

    def decode(self, bottleneck: sp.SparseTensor, skips: list[sp.SparseTensor]) -> sp.SparseTensor:
        """(bottleneck, skips from encode) -> (N, out_channels) features on the input coordinates."""
        out = bottleneck
        for up, dec, skip in zip(self.ups, self.decoders, reversed(skips)):
            out = dec(sp.cat(up(out), skip))
        return self.final(out)

    def forward(self, x: sp.SparseTensor) -> SRUNetOutput:
        bottleneck, skips = self.encode(x)
        return SRUNetOutput(self.decode(bottleneck, skips), bottleneck)
