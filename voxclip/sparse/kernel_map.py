"""Kernel maps for the pure-PyTorch backend: which input row feeds which output row per offset.

A kernel map is a list with one `(in_idx, out_idx)` pair of int64 tensors per kernel offset, in the
canonical order (lexicographic over (dx, dy, dz), dx slowest); `None` marks the identity (the
centre offset of a submanifold conv, whose rows map to themselves). Maps depend only on
coordinates, so they are built once per (stride, kernel, kind) and cached in `SparseTensor.context`.

Submanifold maps hash coordinates with a linear key `((b*Dx + x)*Dy + y)*Dz + z` over the padded
bounding box, so that every offset is one constant added to the key; lookups go through a dense
int32 table when the box is small enough (a gather per offset, the fast path for rooms) and
through sort + searchsorted otherwise. Offsets o and -o give mirrored pairs, so only half are looked up.
"""
from __future__ import annotations

import itertools

import torch

# Dense lookup table limit (entries, int32): 2**25 = 128 MiB.
DENSE_TABLE_LIMIT = 2 ** 25


def kernel_offsets(kernel_size: int) -> list[tuple[int, int, int]]:
    """Canonical offsets in units of the tensor stride.

    Odd kernels: [-r..r]^3; even kernels (strided/transposed convs): [0..k-1]^3. Lexicographic,
    dx slowest, so index(o) = (ox - lo) * k^2 + (oy - lo) * k + (oz - lo).
    """
    lo = -(kernel_size // 2) if kernel_size % 2 == 1 else 0
    rng = range(lo, lo + kernel_size)
    return list(itertools.product(rng, rng, rng))


KernelMap = list  # list[tuple[Tensor, Tensor] | None]


def linear_keys(grid: torch.Tensor, batch: torch.Tensor, pad: int):
    """Linear keys of (batch, grid) inside the bounding box padded by `pad` on each side.

    Returns (keys int64 (N,), dims (Dx, Dy, Dz), total size, lo (3,) grid origin).
    """
    lo = grid.min(dim=0).values - pad
    g = grid - lo
    dims = (g.max(dim=0).values + pad + 1).tolist()
    dx, dy, dz = (int(d) for d in dims)
    keys = ((batch * dx + g[:, 0]) * dy + g[:, 1]) * dz + g[:, 2]
    n_batch = int(batch.max().item()) + 1
    return keys, (dx, dy, dz), n_batch * dx * dy * dz, lo


def unique_coords(grid: torch.Tensor, batch: torch.Tensor):
    """Unique (batch, x, y, z) rows of int64 ``grid`` (N,3) with ``batch`` (N,), in lexicographic
    order, and the inverse map (N,). One 1-D unique over linear keys: several times faster than
    ``torch.unique(dim=0)`` on the rows. Returns (coords int64 (M, 4), inverse int64 (N,))."""
    if grid.shape[0] == 0:
        return grid.new_zeros(0, 4), grid.new_zeros(0)
    keys, (dx, dy, dz), _, lo = linear_keys(grid, batch.to(torch.int64), 0)
    ukeys, inverse = torch.unique(keys, return_inverse=True)  # sorted: (batch, x, y, z) order
    z = ukeys % dz
    y = torch.div(ukeys, dz, rounding_mode="floor") % dy
    x = torch.div(ukeys, dz * dy, rounding_mode="floor") % dx
    b = torch.div(ukeys, dz * dy * dx, rounding_mode="floor")
    return torch.cat([b[:, None], torch.stack([x, y, z], dim=1) + lo], dim=1), inverse


def build_subm_map(coords: torch.Tensor, stride: int, kernel_size: int) -> KernelMap:
    """Submanifold map: out[j] += feats[i] @ W[k] for every active i = j + offset_k * stride.

    Args:
        coords: int32 (N, 4) (batch, x, y, z), multiples of `stride`.
        stride: tensor stride.
        kernel_size: odd kernel size.
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"submanifold convolution needs an odd kernel size, got {kernel_size}")
    offsets = kernel_offsets(kernel_size)
    n_off = len(offsets)
    centre = n_off // 2
    kmap: KernelMap = [None] * n_off
    if kernel_size == 1 or coords.shape[0] == 0:
        empty = torch.empty(0, dtype=torch.int64, device=coords.device)
        return [None if k == centre else (empty, empty) for k in range(n_off)]
    r = kernel_size // 2
    c = coords.to(torch.int64)
    grid = torch.div(c[:, 1:], stride, rounding_mode="floor")
    keys, (dx, dy, dz), total, _ = linear_keys(grid, c[:, 0], r)
    n = c.shape[0]
    rows = torch.arange(n, dtype=torch.int64, device=c.device)
    deltas = [(ox * dy + oy) * dz + oz for ox, oy, oz in offsets]
    if total <= DENSE_TABLE_LIMIT:
        table = torch.full((total,), -1, dtype=torch.int32, device=c.device)
        table[keys] = rows.to(torch.int32)

        def lookup(delta: int):
            nb = table[keys + delta]
            hit = nb >= 0
            return nb[hit].to(torch.int64), rows[hit]
    else:
        skeys, perm = torch.sort(keys)

        def lookup(delta: int):
            q = keys + delta
            pos = torch.searchsorted(skeys, q).clamp_(max=n - 1)
            hit = skeys[pos] == q
            return perm[pos[hit]], rows[hit]

    for k in range(centre):
        i_idx, o_idx = lookup(deltas[k])
        kmap[k] = (i_idx, o_idx)
        kmap[n_off - 1 - k] = (o_idx, i_idx)  # offset -o: the pair seen from the other side
    return kmap


def build_down_map(coords: torch.Tensor, stride: int, kernel_size: int):
    """Generative strided map for kernel_size == conv stride k (non-overlapping blocks).

    Output coordinates: unique(floor(c / (k*s)) * k*s) per batch item, at stride k*s; input p feeds
    output q = floor(p / (k*s)) * k*s through offset (p - q) / s in [0..k-1]^3.
    Returns (kmap, out_coords int32 (M, 4)).
    """
    if coords.shape[0] == 0:
        empty = torch.empty(0, dtype=torch.int64, device=coords.device)
        return [(empty, empty)] * kernel_size ** 3, coords.new_zeros(0, 4)
    c = coords.to(torch.int64)
    out_stride = stride * kernel_size
    q = torch.div(c[:, 1:], out_stride, rounding_mode="floor")
    off = torch.div(c[:, 1:] - q * out_stride, stride, rounding_mode="floor")
    code = (off[:, 0] * kernel_size + off[:, 1]) * kernel_size + off[:, 2]
    ucoords, inverse = unique_coords(q, c[:, 0])
    out_coords = torch.cat([ucoords[:, :1], ucoords[:, 1:] * out_stride], dim=1).to(torch.int32)
    # Group rows by offset code with one sort instead of kernel_volume boolean masks.
    order = torch.argsort(code, stable=True)
    counts = torch.bincount(code, minlength=kernel_size ** 3).tolist()
    in_sorted = order
    out_sorted = inverse[order]
    kmap: KernelMap = []
    start = 0
    for cnt in counts:
        kmap.append((in_sorted[start:start + cnt], out_sorted[start:start + cnt]))
        start += cnt
    return kmap, out_coords


def transpose_map(kmap: KernelMap) -> KernelMap:
    """The same pairs seen from the other side (for transposed convolutions)."""
    return [None if p is None else (p[1], p[0]) for p in kmap]
