"""The backend-neutral sparse tensor: integer voxel coordinates plus a feature row per voxel."""
from __future__ import annotations

import torch


class SparseTensor:
    """Features on a sparse set of voxels.

    Args:
        feats: (N, C) float features.
        coords: (N, 4) int32 rows (batch, x, y, z) of integer voxel indices at stride 1; a tensor at
            stride s only holds multiples of s (the layout of spconv/MinkowskiEngine outputs).
        stride: the tensor stride (1 for the input voxels, 2 after one downsampling, ...).
        context: cache shared by every tensor derived from the same input (coordinate hashes and
            kernel maps per stride, backend objects). Layers pass it on; users never build one.
    """

    def __init__(self, feats: torch.Tensor, coords: torch.Tensor, stride: int = 1, context: dict | None = None):
        if coords.dim() != 2 or coords.shape[1] != 4:
            raise ValueError(f"coords must be (N, 4) (batch, x, y, z), got {tuple(coords.shape)}")
        if feats.dim() != 2 or feats.shape[0] != coords.shape[0]:
            raise ValueError(f"feats must be (N, C) with N={coords.shape[0]}, got {tuple(feats.shape)}")
        if coords.dtype != torch.int32:
            coords = coords.to(torch.int32)
        self.feats = feats
        self.coords = coords
        self.stride = int(stride)
        self.context = context if context is not None else {}

    def replace_feats(self, feats: torch.Tensor) -> "SparseTensor":
        """Same voxels (and cache), new features."""
        return SparseTensor(feats, self.coords, self.stride, self.context)

    @property
    def batch_size(self) -> int:
        if "batch_size" not in self.context:
            self.context["batch_size"] = int(self.coords[:, 0].max().item()) + 1 if len(self.coords) else 0
        return self.context["batch_size"]

    @property
    def device(self) -> torch.device:
        return self.feats.device

    def __len__(self) -> int:
        return self.coords.shape[0]

    def to(self, device) -> "SparseTensor":
        # The cache holds device tensors; a moved tensor starts a fresh one.
        return SparseTensor(self.feats.to(device), self.coords.to(device), self.stride)

    def __repr__(self) -> str:
        return f"SparseTensor(n={len(self)}, channels={self.feats.shape[1]}, stride={self.stride}, device={self.device})"
