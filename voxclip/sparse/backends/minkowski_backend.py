"""MinkowskiEngine 0.5.x backend: one CoordinateManager per input (in the tensor context).

ME enumerates kernel offsets with dx fastest (dz slowest), the reverse of the canonical order, and
uses cross-correlation with [0..k-1]^3 offsets for even kernels and floor for strided coordinates,
like the torch backend (checked by tests/test_sparse_minkowski.py). ME may store the input
coordinates in another row order: each stride keeps the permutation to ours.
"""
from __future__ import annotations

import torch

import MinkowskiEngine as ME  # noqa: F401  (ImportError here = backend unavailable)
from MinkowskiEngine.MinkowskiCoordinateManager import CoordinateManager
from MinkowskiEngine.MinkowskiCommon import convert_to_int_list
from MinkowskiEngine.MinkowskiCoordinateManager import CoordinateMapKey

from ..tensor import SparseTensor
from .torch_backend import same_coords


def to_minkowski_kernel(weight: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Canonical (k^3, Cin, Cout), dx slowest -> ME (k^3, Cin, Cout), dx fastest."""
    k = kernel_size
    w = weight.reshape(k, k, k, weight.shape[1], weight.shape[2]).permute(2, 1, 0, 3, 4)
    return w.reshape(k ** 3, weight.shape[1], weight.shape[2]).contiguous()


class Backend:
    name = "minkowski"

    def __init__(self):
        self._modules: dict = {}

    def supports_cuda(self) -> bool:
        return torch.cuda.is_available() and bool(getattr(ME, "is_cuda_available", lambda: False)())

    def _module(self, kind: str, cin: int, cout: int, k: int):
        key = (kind, cin, cout, k)
        if key not in self._modules:
            if kind == "up":
                mod = ME.MinkowskiConvolutionTranspose(cin, cout, kernel_size=k, stride=k, dimension=3)
            else:
                mod = ME.MinkowskiConvolution(cin, cout, kernel_size=k, stride=1 if kind == "subm" else k, dimension=3)
            self._modules[key] = mod
        return self._modules[key]

    def _manager(self, x: SparseTensor) -> CoordinateManager:
        mgr = x.context.get((self.name, "manager"))
        if mgr is None:
            mgr = x.context[(self.name, "manager")] = CoordinateManager(D=3, coordinate_map_type=(
                ME.CoordinateMapType.CUDA if x.device.type == "cuda" else ME.CoordinateMapType.CPU))
        return mgr

    def _level(self, x: SparseTensor):
        """(coords, map key, ME row -> our row or None, our row -> ME row or None) at x.stride."""
        key = (self.name, "level", x.stride)
        entry = x.context.get(key)
        if entry is not None:
            if not same_coords(entry[0], x.coords):
                raise RuntimeError(f"SparseTensor at stride {x.stride} has coordinates that differ from those "
                                   "cached in its context; build a new SparseTensor")
            return entry
        mgr = self._manager(x)
        map_key, (unique_index, inverse) = mgr.insert_and_map(
            x.coords.contiguous(), convert_to_int_list(x.stride, 3), "")
        n = len(x.coords)
        if len(unique_index) != n:
            raise ValueError("minkowski backend: SparseTensor coordinates must be unique")
        rows = torch.arange(n, device=unique_index.device)
        if torch.equal(unique_index.long(), rows):
            unique_index = inverse = None
        else:
            unique_index, inverse = unique_index.long().to(x.device), inverse.long().to(x.device)
        entry = x.context[key] = (x.coords, map_key, unique_index, inverse)
        return entry

    def _conv(self, x: SparseTensor, weight: torch.Tensor, kind: str, k: int):
        _, in_key, me_to_ours, ours_to_me = self._level(x)
        feats = x.feats if me_to_ours is None else x.feats[me_to_ours]
        mod = self._module(kind, weight.shape[1], weight.shape[2], k)
        out_key = CoordinateMapKey(4)  # filled in by ME (stride 1: the input map; transposed: the finer map)
        out = mod.conv.apply(feats.contiguous(), to_minkowski_kernel(weight.to(feats.dtype), k), mod.kernel_generator,
                             mod.convolution_mode, in_key, out_key, self._manager(x))
        return out, out_key

    def subm(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        if kernel_size == 1:  # pointwise: no coordinate work at all
            return SparseTensor(x.feats @ weight[0].to(x.feats.dtype), x.coords, x.stride, x.context)
        _, in_key, _, ours_to_me = self._level(x)
        out, out_key = self._conv(x, weight, "subm", kernel_size)
        if out_key.get_key() != in_key.get_key():
            raise RuntimeError("minkowski backend: submanifold conv produced a new coordinate map")
        feats = out if ours_to_me is None else out[ours_to_me]
        return SparseTensor(feats, x.coords, x.stride, x.context)

    def down(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        out, out_key = self._conv(x, weight, "down", kernel_size)
        s_out = x.stride * kernel_size
        key = (self.name, "level", s_out)
        entry = x.context.get(key)
        if entry is None or entry[1].get_key() != out_key.get_key():
            coords = self._manager(x).get_coordinates(out_key).to(device=x.device, dtype=torch.int32)
            entry = x.context[key] = (coords, out_key, None, None)
        return SparseTensor(out, entry[0], s_out, x.context)

    def up(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        fine = x.stride // kernel_size
        fine_entry = x.context.get((self.name, "level", fine))
        if x.stride % kernel_size or fine_entry is None or (self.name, "level", x.stride) not in x.context:
            raise RuntimeError(
                f"SparseInverseConv3d at stride {x.stride} needs the matching SparseConv3d from stride {fine} "
                "in this tensor's context (it restores exactly those finer coordinates)")
        out, out_key = self._conv(x, weight, "up", kernel_size)
        if out_key.get_key() != fine_entry[1].get_key():
            raise RuntimeError("minkowski backend: transposed conv did not land on the finer coordinate map")
        ours_to_me = fine_entry[3]
        feats = out if ours_to_me is None else out[ours_to_me]
        return SparseTensor(feats, fine_entry[0], fine, x.context)
