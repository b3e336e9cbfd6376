"""Sparse convolution modules with backend-neutral canonical weights.

`weight` is an nn.Parameter of shape (kernel_volume, in_channels, out_channels); offsets are
lexicographic over (dx, dy, dz), dx slowest, in [-r..r]^3 for odd kernels and [0..k-1]^3 for the
even kernels of strided/transposed convolutions (see kernel_map.kernel_offsets). Every backend maps
this layout to its own, so a state_dict loads and runs under any backend.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .backends import resolve_backend
from .tensor import SparseTensor


class _SparseConvBase(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool):
        super().__init__()
        if not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive int (cubic kernels only), got {kernel_size!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.empty(kernel_size ** 3, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same scale as nn.Conv3d's default (kaiming_uniform with a=sqrt(5)): bound = 1/sqrt(fan_in).
        fan_in = self.weight.shape[0] * self.in_channels
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def _finish(self, out: SparseTensor) -> SparseTensor:
        if self.bias is not None:
            out = out.replace_feats(out.feats + self.bias.to(out.feats.dtype))
        return out

    def _check(self, x: SparseTensor) -> None:
        if not isinstance(x, SparseTensor):
            raise TypeError(f"{type(self).__name__} expects a SparseTensor, got {type(x).__name__}")
        if x.feats.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected {self.in_channels} channels, got {x.feats.shape[1]}")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        return s + ("" if self.bias is not None else ", bias=False")


class SubMConv3d(_SparseConvBase):
    """Submanifold conv: output on the input coordinates, neighbours at offsets * tensor stride.

    (N, Cin) at stride s -> (N, Cout) at stride s.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = False):
        if kernel_size % 2 != 1:
            raise ValueError(f"SubMConv3d needs an odd kernel_size, got {kernel_size}")
        super().__init__(in_channels, out_channels, kernel_size, bias)

    def forward(self, x: SparseTensor) -> SparseTensor:
        self._check(x)
        return self._finish(resolve_backend(x.device).subm(x, self.weight, self.kernel_size))


class SparseConv3d(_SparseConvBase):
    """Strided generative downsampling: stride s -> s * stride.

    Output coordinates are unique(floor(c / (s*stride)) * s*stride) per batch item; input p feeds
    output q through offset (p - q) / s in [0..k-1]^3. Only kernel_size == stride is supported
    (non-overlapping blocks, the Res16UNet/MinkUNet downsampling), identical on every backend.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 2, stride: int = 2, bias: bool = False):
        if stride < 2 or kernel_size != stride:
            raise ValueError(f"SparseConv3d supports kernel_size == stride >= 2 only, got kernel_size={kernel_size}, "
                             f"stride={stride} (use SubMConv3d for stride 1)")
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.stride = stride

    def forward(self, x: SparseTensor) -> SparseTensor:
        self._check(x)
        return self._finish(resolve_backend(x.device).down(x, self.weight, self.kernel_size))


class SparseInverseConv3d(_SparseConvBase):
    """Transposed conv restoring exactly the finer coordinates of the matching SparseConv3d.

    Input at stride S, output at stride S / stride on the coordinates cached in the context:
    out[q + o * s] += feats[q] @ weight[index(o)], o in [0..k-1]^3 (conv_transpose3d semantics).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 2, stride: int = 2, bias: bool = False):
        if stride < 2 or kernel_size != stride:
            raise ValueError(f"SparseInverseConv3d supports kernel_size == stride >= 2 only, got "
                             f"kernel_size={kernel_size}, stride={stride}")
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.stride = stride

    def forward(self, x: SparseTensor) -> SparseTensor:
        self._check(x)
        return self._finish(resolve_backend(x.device).up(x, self.weight, self.kernel_size))
