"""Pointwise sparse modules and per-batch-item reductions (backend independent: they act on feats)."""
from __future__ import annotations

import torch
from torch import nn

from .tensor import SparseTensor


class BatchNorm(nn.Module):
    """BatchNorm1d over the feature rows of a SparseTensor: (N, C) -> (N, C).

    The statistics live in a child `nn.BatchNorm1d` named `bn`, so that SyncBatchNorm conversion
    (torch's `convert_sync_batchnorm`, mmengine's `sync_bn`) swaps the child and this wrapper still
    unpacks the SparseTensor (a BatchNorm1d subclass would be replaced by a plain SyncBatchNorm that
    cannot take one). State-dict keys stay flat (`norm1.weight`, as before the child existed), so
    every checkpoint keeps loading.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        self.bn = nn.BatchNorm1d(num_features, eps, momentum, affine, track_running_stats)
        self._register_state_dict_hook(_flatten_bn_keys)  # mmengine's get_state_dict runs these too
        self.register_load_state_dict_pre_hook(_nest_bn_keys)

    def forward(self, x: SparseTensor) -> SparseTensor:
        return x.replace_feats(self.bn(x.feats))

    # The BatchNorm1d attributes callers used before the child existed.
    num_features = property(lambda self: self.bn.num_features)
    eps = property(lambda self: self.bn.eps)
    momentum = property(lambda self: self.bn.momentum)
    weight = property(lambda self: self.bn.weight)
    bias = property(lambda self: self.bn.bias)
    running_mean = property(lambda self: self.bn.running_mean)
    running_var = property(lambda self: self.bn.running_var)

    def extra_repr(self) -> str:
        return "flat state-dict keys"


def _flatten_bn_keys(module, state_dict, prefix, local_metadata):
    inner = prefix + "bn."
    for key in [k for k in state_dict if k.startswith(inner)]:
        state_dict[prefix + key[len(inner):]] = state_dict.pop(key)


def _nest_bn_keys(module, state_dict, prefix, *args):
    # Runs before the children load, which then find their keys under `bn.`.
    names = [n for n, _ in module.bn.named_parameters(recurse=False)] + [n for n, _ in module.bn.named_buffers(recurse=False)]
    for name in names:
        if prefix + name in state_dict:
            state_dict[prefix + "bn." + name] = state_dict.pop(prefix + name)


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
