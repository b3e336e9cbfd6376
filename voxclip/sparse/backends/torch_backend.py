"""Pure-PyTorch backend: kernel maps cached in the tensor context, gather -> matmul -> scatter."""
from __future__ import annotations

import torch

from ..functional import kernel_map_conv
from ..kernel_map import build_down_map, build_subm_map, transpose_map
from ..tensor import SparseTensor


def same_coords(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a is b or (a.shape == b.shape and a.device == b.device and bool(torch.equal(a, b)))


def registered_coords(x: SparseTensor, namespace: str) -> torch.Tensor:
    """The coordinates this context holds at x.stride (registering x's on first use)."""
    key = (namespace, "coords", x.stride)
    cached = x.context.setdefault(key, x.coords)
    if not same_coords(cached, x.coords):
        raise RuntimeError(
            f"SparseTensor at stride {x.stride} has coordinates that differ from those cached in its context; "
            "tensors sharing a context must come from the same input (build a new SparseTensor instead)")
    return cached


class Backend:
    name = "torch"

    def supports_cuda(self) -> bool:
        return torch.cuda.is_available()

    def subm(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        coords = registered_coords(x, self.name)
        key = (self.name, "subm", x.stride, kernel_size)
        kmap = x.context.get(key)
        if kmap is None:
            kmap = x.context[key] = build_subm_map(coords, x.stride, kernel_size)
        out = kernel_map_conv(x.feats, weight, kmap, len(coords))
        return SparseTensor(out, coords, x.stride, x.context)

    def _down_map(self, x: SparseTensor, kernel_size: int):
        key = (self.name, "down", x.stride, kernel_size)
        entry = x.context.get(key)
        if entry is None:
            coords = registered_coords(x, self.name)
            entry = x.context[key] = build_down_map(coords, x.stride, kernel_size)
            x.context.setdefault((self.name, "coords", x.stride * kernel_size), entry[1])
        return entry

    def down(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        registered_coords(x, self.name)
        kmap, _ = self._down_map(x, kernel_size)
        out_stride = x.stride * kernel_size
        out_coords = x.context[(self.name, "coords", out_stride)]
        out = kernel_map_conv(x.feats, weight, kmap, len(out_coords))
        return SparseTensor(out, out_coords, out_stride, x.context)

    def up(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        if x.stride % kernel_size:
            raise ValueError(f"inverse conv with stride {kernel_size} on a tensor at stride {x.stride}")
        fine = x.stride // kernel_size
        key = (self.name, "down", fine, kernel_size)
        if key not in x.context:
            raise RuntimeError(
                f"SparseInverseConv3d at stride {x.stride} needs the matching SparseConv3d from stride {fine} "
                "in this tensor's context (it restores exactly those finer coordinates)")
        registered_coords(x, self.name)
        kmap, _ = x.context[key]
        tkey = (self.name, "up", fine, kernel_size)
        tmap = x.context.get(tkey)
        if tmap is None:
            tmap = x.context[tkey] = transpose_map(kmap)
        fine_coords = x.context[(self.name, "coords", fine)]
        out = kernel_map_conv(x.feats, weight, tmap, len(fine_coords))
        return SparseTensor(out, fine_coords, fine, x.context)
