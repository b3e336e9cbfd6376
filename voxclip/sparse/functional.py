"""Gather -> matmul -> scatter sparse convolution over a kernel map, with a hand-written backward.

A custom autograd Function keeps memory at O(N * C): only the input features and the weight are
saved (the kernel map lives in the tensor context), instead of one gathered copy per offset.

Every map voxclip builds has distinct rows on each side within one offset (a voxel has at most one
neighbour at a given offset; a strided block has one child per offset). The scatter is therefore a
gather, an add and `index_copy_`, which runs on every thread, where `index_add_` reduces serially;
each output element still receives its offsets in the same order, so the result is bit-identical.
"""
from __future__ import annotations

import torch

from .kernel_map import KernelMap


def _use_index_add() -> bool:
    """One thread: the serial index_add_ is the cheaper of the two (docs/benchmarks.md)."""
    return torch.get_num_threads() == 1


def _add_rows(dst: torch.Tensor, idx: torch.Tensor, src: torch.Tensor, buf: torch.Tensor | None) -> None:
    """dst[idx] += src for distinct idx: gather into `buf` (at least len(idx) rows), add, copy back (see
    the module docstring); `buf` None: the serial index_add_."""
    if buf is None:
        dst.index_add_(0, idx, src)
        return
    rows = torch.index_select(dst, 0, idx, out=buf[:idx.numel()]).add_(src)
    dst.index_copy_(0, idx, rows)


class _KernelMapConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, feats: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, n_out: int):
        w = weight.to(feats.dtype)
        out = None
        for k, pair in enumerate(kmap):
            if pair is None:  # identity rows (submanifold centre): a plain matmul, no gather/scatter
                out = feats @ w[k] if out is None else out.addmm_(feats, w[k])
        if out is None:
            out = feats.new_zeros(n_out, w.shape[2])
        # One gather and one product buffer reused by every offset: fresh multi-MB tensors per
        # offset cost page faults comparable to the gather itself.
        n_max = max((p[0].numel() for p in kmap if p is not None), default=0)
        if n_max:
            gbuf = feats.new_empty(n_max, feats.shape[1])
            ybuf = feats.new_empty(n_max, w.shape[2])
            abuf = None if _use_index_add() else feats.new_empty(n_max, w.shape[2])
            wt = w.transpose(1, 2).contiguous()  # (K, Cout, Cin): MKL's NT gemm is a little faster
            for k, pair in enumerate(kmap):
                if pair is None or pair[0].numel() == 0:
                    continue
                i_idx, o_idx = pair
                n = i_idx.numel()
                g = torch.index_select(feats, 0, i_idx, out=gbuf[:n])
                _add_rows(out, o_idx, torch.mm(g, wt[k].t(), out=ybuf[:n]), abuf)
        ctx.kmap = kmap
        ctx.save_for_backward(feats, weight)
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        with torch.autocast(device_type=grad_out.device.type, enabled=False):
            return _KernelMapConv._backward(ctx, grad_out)

    @staticmethod
    def _backward(ctx, grad_out: torch.Tensor):
        feats, weight = ctx.saved_tensors
        kmap = ctx.kmap
        grad_out = grad_out.contiguous().to(feats.dtype)
        w = weight.to(feats.dtype)
        need_f, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_f = torch.zeros_like(feats) if need_f else None
        grad_w = torch.zeros_like(w) if need_w else None
        n_max = max((p[0].numel() for p in kmap if p is not None), default=0)
        gobuf = grad_out.new_empty(n_max, grad_out.shape[1])
        fbuf = feats.new_empty(n_max, feats.shape[1])
        abuf = feats.new_empty(n_max, feats.shape[1]) if need_f and not _use_index_add() else None
        for k, pair in enumerate(kmap):
            if pair is None:
                if need_f:
                    grad_f.addmm_(grad_out, w[k].t())
                if need_w:
                    torch.mm(feats.t(), grad_out, out=grad_w[k])
                continue
            i_idx, o_idx = pair
            n = i_idx.numel()
            if n == 0:
                continue
            go = torch.index_select(grad_out, 0, o_idx, out=gobuf[:n])
            if need_w:
                fi = torch.index_select(feats, 0, i_idx, out=fbuf[:n])
                torch.mm(fi.t(), go, out=grad_w[k])
            if need_f:
                _add_rows(grad_f, i_idx, torch.mm(go, w[k].t(), out=fbuf[:n]), abuf)
        if grad_w is not None:
            grad_w = grad_w.to(weight.dtype)
        return grad_f, grad_w, None, None


def kernel_map_conv(feats: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, n_out: int) -> torch.Tensor:
    """out[o] = sum_k sum_{(i, o) in kmap[k]} feats[i] @ weight[k].

    Args:
        feats: (N_in, Cin); weight: (K, Cin, Cout) canonical; kmap: K pairs (or None = identity).
    Returns:
        (n_out, Cout).
    """
    if weight.shape[0] != len(kmap):
        raise ValueError(f"weight has {weight.shape[0]} offsets, kernel map has {len(kmap)}")
    # The Function computes in feats' dtype with out= buffers, which autocast does not rewrite.
    with torch.autocast(device_type=feats.device.type, enabled=False):
        return _KernelMapConv.apply(feats, weight, kmap, n_out)
