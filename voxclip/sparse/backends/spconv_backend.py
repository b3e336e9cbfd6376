"""spconv 2.x backend: canonical weights mapped to spconv's layout, index pairs reused per stride.

Coordinates are shifted by a multiple of 1024 (so every stride-s block is unchanged) to be
non-negative and divided by the tensor stride (spconv indexes each level on its own grid).
On CPU tensors, spconv 2.3.8 runs single-threaded (its CPU scatter-add races with more threads)
and backward is refused (it calls torch.cuda.current_stream()); train on CPU with 'torch'.
"""
from __future__ import annotations

import contextlib

import torch

import spconv.pytorch as spc  # noqa: F401  (ImportError here = backend unavailable)
from spconv.core import ConvAlgo

from ..tensor import SparseTensor
from .torch_backend import same_coords

_SHIFT_ALIGN = 1024


class _RefuseCpuBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats):
        return feats.view_as(feats)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("the spconv backend cannot run backward on CPU tensors (spconv 2.3.8 CPU calls "
                           "torch.cuda.current_stream()); train on CPU with the 'torch' backend "
                           "(voxclip.sparse.set_backend('torch'))")


@contextlib.contextmanager
def _single_thread(enabled: bool):
    if not enabled:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def to_spconv_weight(weight: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Canonical (k^3, Cin, Cout), dx slowest -> spconv (Cout, kx, ky, kz, Cin)."""
    k = kernel_size
    return weight.reshape(k, k, k, weight.shape[1], weight.shape[2]).permute(4, 0, 1, 2, 3).contiguous()


class Backend:
    name = "spconv"

    def __init__(self):
        self._modules: dict = {}

    def supports_cuda(self) -> bool:
        if not torch.cuda.is_available():
            return False
        try:
            from spconv.cppconstants import CPU_ONLY_BUILD  # the CPU wheel says True here
        except ImportError:
            return False
        return not CPU_ONLY_BUILD

    def _module(self, kind: str, cin: int, cout: int, k: int, key: str, device: torch.device):
        algo = ConvAlgo.Native if device.type == "cpu" else None
        cache_key = (kind, cin, cout, k, key, device.type)
        mod = self._modules.get(cache_key)
        if mod is None:
            cls = {"subm": spc.SubMConv3d, "down": spc.SparseConv3d, "up": spc.SparseInverseConv3d}[kind]
            kwargs = dict(bias=False, indice_key=key, algo=algo)
            if kind == "down":
                kwargs["stride"] = k
            mod = self._modules[cache_key] = cls(cin, cout, k, **kwargs)
        return mod

    # -- coordinate conversion ------------------------------------------------------------------
    def _to_spconv(self, x: SparseTensor):
        ctx = x.context
        entry = ctx.get((self.name, "level", x.stride))
        if entry is None or not same_coords(entry[0], x.coords):
            if entry is not None:
                raise RuntimeError(f"SparseTensor at stride {x.stride} has coordinates that differ from those "
                                   "cached in its context; build a new SparseTensor")
            c = x.coords.to(torch.int64)
            if (self.name, "shift") not in ctx:
                low = c[:, 1:].min(dim=0).values.clamp(max=0)
                ctx[(self.name, "shift")] = (-torch.div(low, _SHIFT_ALIGN, rounding_mode="floor")) * _SHIFT_ALIGN
            shift = ctx[(self.name, "shift")]
            grid = c[:, 1:] + shift
            if (grid < 0).any() or (grid % x.stride != 0).any():
                raise RuntimeError("spconv backend: coordinates outside the grid fixed by this context")
            grid = torch.div(grid, x.stride, rounding_mode="floor")
            shape = (grid.max(dim=0).values + 1).tolist() if len(grid) else [1, 1, 1]
            shape = [-(-int(s) // 64) * 64 for s in shape]  # room for stride-2 blocks at the border
            indices = torch.cat([c[:, :1], grid], dim=1).to(torch.int32).contiguous()
            entry = ctx[(self.name, "level", x.stride)] = (x.coords, indices, shape)
        indice_dict = ctx.setdefault((self.name, "indice_dict"), {})
        return spc.SparseConvTensor(x.feats, entry[1], entry[2], x.batch_size, indice_dict=indice_dict)

    def _run(self, x: SparseTensor, weight: torch.Tensor, kind: str, k: int, key: str):
        st = self._to_spconv(x)
        mod = self._module(kind, weight.shape[1], weight.shape[2], k, key, x.device)
        w = to_spconv_weight(weight.to(x.feats.dtype), k)
        cpu = x.device.type == "cpu"
        with _single_thread(cpu):
            out = mod._conv_forward(mod.training, st, w, None)
        # spconv copies indice_dict into its output: keep the grown one for the next layers.
        x.context[(self.name, "indice_dict")] = out.indice_dict
        feats = out.features
        if cpu and torch.is_grad_enabled() and feats.requires_grad:
            feats = _RefuseCpuBackward.apply(feats)
        return out, feats

    # -- convolutions -----------------------------------------------------------------------------
    def subm(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        if kernel_size == 1:
            # A pointwise matmul; spconv 2.3.8's conv1x1 shortcut reads (Cout,1,1,1,Cin) weights
            # as (Cin, Cout), so bypassing it keeps one layout for every kernel size.
            return SparseTensor(x.feats @ weight[0].to(x.feats.dtype), x.coords, x.stride, x.context)
        _, feats = self._run(x, weight, "subm", kernel_size, f"subm_s{x.stride}_k{kernel_size}")
        return SparseTensor(feats, x.coords, x.stride, x.context)

    def down(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        out, feats = self._run(x, weight, "down", kernel_size, f"down_s{x.stride}_k{kernel_size}")
        ctx, s_out = x.context, x.stride * kernel_size
        entry = ctx.get((self.name, "level", s_out))
        if entry is None:
            shift = ctx[(self.name, "shift")]
            idx = out.indices.to(torch.int64)
            coords = torch.cat([idx[:, :1], idx[:, 1:] * s_out - shift], dim=1).to(torch.int32)
            entry = ctx[(self.name, "level", s_out)] = (coords, out.indices, list(out.spatial_shape))
        return SparseTensor(feats, entry[0], s_out, ctx)

    def up(self, x: SparseTensor, weight: torch.Tensor, kernel_size: int) -> SparseTensor:
        fine = x.stride // kernel_size
        key = f"down_s{fine}_k{kernel_size}"
        if x.stride % kernel_size or key not in x.context.get((self.name, "indice_dict"), {}):
            raise RuntimeError(
                f"SparseInverseConv3d at stride {x.stride} needs the matching SparseConv3d from stride {fine} "
                "in this tensor's context (it restores exactly those finer coordinates)")
        _, feats = self._run(x, weight, "up", kernel_size, key)
        return SparseTensor(feats, x.context[(self.name, "level", fine)][0], fine, x.context)
