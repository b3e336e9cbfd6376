"""Pointwise sparse modules and per-batch-item reductions (backend independent: they act on feats)."""
from __future__ import annotations

import torch
from torch import nn

from .tensor import SparseTensor


class BatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over the feature rows of a SparseTensor: (N, C) -> (N, C)."""

    def forward(self, x: SparseTensor) -> SparseTensor:  # type: ignore[override]
        return x.replace_feats(super().forward(x.feats))


class ReLU(nn.Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: SparseTensor) -> SparseTensor:
        return x.replace_feats(torch.relu_(x.feats) if self.inplace else torch.relu(x.feats))


def _batch_index(x: SparseTensor, batch_size: int | None):
    b = x.coords[:, 0].to(torch.int64)
    n = x.batch_size if batch_size is None else batch_size
    return b, n


def global_avg_pool(x: SparseTensor, batch_size: int | None = None) -> torch.Tensor:
    """Mean of the feature rows of each batch item: (B, C); empty items give zeros."""
    b, n = _batch_index(x, batch_size)
    total = x.feats.new_zeros(n, x.feats.shape[1]).index_add_(0, b, x.feats)
    count = torch.bincount(b, minlength=n).clamp_min(1).to(x.feats.dtype)
    return total / count[:, None]


def global_max_pool(x: SparseTensor, batch_size: int | None = None) -> torch.Tensor:
    """Max of the feature rows of each batch item: (B, C); empty items give zeros."""
    b, n = _batch_index(x, batch_size)
    c = x.feats.shape[1]
    out = x.feats.new_zeros(n, c).scatter_reduce(0, b[:, None].expand(-1, c), x.feats, "amax", include_self=False)
    return out


def cat(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """Concatenate the channels of two tensors on the same coordinates (same row order)."""
    if a.stride != b.stride:
        raise ValueError(f"cat: strides differ ({a.stride} vs {b.stride})")
    if a.coords is not b.coords and not (a.coords.shape == b.coords.shape and torch.equal(a.coords, b.coords)):
        raise ValueError(f"cat: coordinates differ ({len(a)} vs {len(b)} rows or another order)")
    return SparseTensor(torch.cat([a.feats, b.feats], dim=1), a.coords, a.stride, a.context)
