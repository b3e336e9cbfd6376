"""torch backend vs dense conv3d / conv_transpose3d computed independently on a dense grid."""
import itertools

import pytest
import torch
import torch.nn.functional as F

import voxclip.sparse as sp
from voxclip.sparse import kernel_map


def random_coords(n, size, batch=2, seed=0, step=1):
    g = torch.Generator().manual_seed(seed)
    c = torch.randint(0, size, (n, 3), generator=g) * step
    b = torch.randint(0, batch, (n, 1), generator=g)
    c = torch.unique(torch.cat([b, c], 1), dim=0)
    perm = torch.randperm(len(c), generator=g)  # arbitrary row order, as users give it
    return c[perm].int()


def to_dense(feats, coords, size, batch, step=1):
    """(N, C) at coords (multiples of step) -> (B, C, size, size, size) dense grid of coords // step."""
    dense = feats.new_zeros(batch, size, size, size, feats.shape[1])
    c = coords.long()
    dense = dense.index_put((c[:, 0], c[:, 1] // step, c[:, 2] // step, c[:, 3] // step), feats)
    return dense.permute(0, 4, 1, 2, 3)


def from_dense(dense, coords, step=1):
    c = coords.long()
    return dense.permute(0, 2, 3, 4, 1)[c[:, 0], c[:, 1] // step, c[:, 2] // step, c[:, 3] // step]


def dense_weight(w, k):
    """Canonical (k^3, Cin, Cout) -> conv3d layout (Cout, Cin, k, k, k), written with explicit loops."""
    cin, cout = w.shape[1], w.shape[2]
    rows = []
    for idx, (i, j, l) in enumerate(itertools.product(range(k), range(k), range(k))):
        rows.append(w[idx].t())  # (Cout, Cin) at kernel cell (i, j, l)
    return torch.stack(rows, dim=-1).reshape(cout, cin, k, k, k)


def leaf_pair(t):
    a = t.clone().requires_grad_(True)
    b = t.clone().requires_grad_(True)
    return a, b


def check_grads(pairs, atol=1e-4):
    for a, b in pairs:
        torch.testing.assert_close(a.grad, b.grad, atol=atol, rtol=1e-4)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_subm_matches_dense_conv3d(k):
    torch.manual_seed(k)
    size, batch = 7, 2
    coords = random_coords(120, size, batch, seed=k)
    f_s, f_d = leaf_pair(torch.randn(len(coords), 3))
    w_s, w_d = leaf_pair(torch.randn(k ** 3, 3, 4))
    conv = sp.SubMConv3d(3, 4, kernel_size=k)
    conv.weight = torch.nn.Parameter(w_s)
    out = conv(sp.SparseTensor(f_s, coords)).feats
    ref = from_dense(F.conv3d(to_dense(f_d, coords, size, batch), dense_weight(w_d, k), padding=k // 2), coords)
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    (ref * r).sum().backward()
    check_grads([(conv.weight, w_d), (f_s, f_d)])


def test_subm_at_stride_two_uses_dilated_neighbours():
    size, batch = 5, 2
    coords = random_coords(80, size, batch, seed=3, step=2)  # a stride-2 tensor
    feats = torch.randn(len(coords), 2)
    conv = sp.SubMConv3d(2, 3)
    out = conv(sp.SparseTensor(feats, coords, stride=2)).feats
    dense = to_dense(feats, coords, size, batch, step=2)
    ref = from_dense(F.conv3d(dense, dense_weight(conv.weight.detach(), 3), padding=1), coords, step=2)
    torch.testing.assert_close(out, ref.detach(), atol=1e-4, rtol=1e-4)


def test_strided_conv_matches_dense_and_generates_floor_coords():
    size, batch = 8, 2
    coords = random_coords(150, size, batch, seed=5)
    f_s, f_d = leaf_pair(torch.randn(len(coords), 3))
    conv = sp.SparseConv3d(3, 5)
    w_d = conv.weight.detach().clone().requires_grad_(True)
    y = conv(sp.SparseTensor(f_s, coords))
    assert y.stride == 2
    expected = {(b, x // 2 * 2, yy // 2 * 2, z // 2 * 2) for b, x, yy, z in coords.tolist()}
    got = [tuple(r) for r in y.coords.tolist()]
    assert len(got) == len(set(got)) and set(got) == expected
    ref = from_dense(F.conv3d(to_dense(f_d, coords, size, batch), dense_weight(w_d, 2), stride=2), y.coords, step=2)
    torch.testing.assert_close(y.feats, ref, atol=1e-4, rtol=1e-4)
    r = torch.randn_like(ref)
    (y.feats * r).sum().backward()
    (ref * r).sum().backward()
    check_grads([(conv.weight, w_d), (f_s, f_d)])


def test_strided_conv_floor_semantics_for_negative_coords():
    coords = random_coords(100, 6, 1, seed=7)
    feats = torch.randn(len(coords), 2)
    conv = sp.SparseConv3d(2, 2)
    y0 = conv(sp.SparseTensor(feats, coords))
    shift = torch.tensor([0, -6, -4, -8], dtype=torch.int32)  # even shift: blocks unchanged
    y1 = conv(sp.SparseTensor(feats, coords + shift))
    assert torch.equal(y1.coords, y0.coords + shift)
    torch.testing.assert_close(y1.feats, y0.feats)


def test_inverse_conv_matches_dense_conv_transpose3d():
    size, batch = 8, 2
    coords = random_coords(150, size, batch, seed=11)
    x = sp.SparseTensor(torch.randn(len(coords), 3), coords)
    down = sp.SparseConv3d(3, 4)(x)
    g_s, g_d = leaf_pair(down.feats.detach())
    up = sp.SparseInverseConv3d(4, 2)
    w_d = up.weight.detach().clone().requires_grad_(True)
    y = up(down.replace_feats(g_s))
    assert y.stride == 1 and y.coords is x.coords  # exactly the finer coordinates, same rows
    # conv_transpose3d weight layout: (Cin, Cout, k, k, k); our W[idx] is (Cin, Cout) at cell idx.
    wt = torch.stack([w_d[i] for i in range(8)], dim=-1).reshape(4, 2, 2, 2, 2)
    dense = F.conv_transpose3d(to_dense(g_d, down.coords, size // 2, batch, step=2), wt, stride=2)
    ref = from_dense(dense, coords)
    torch.testing.assert_close(y.feats, ref, atol=1e-4, rtol=1e-4)
    r = torch.randn_like(ref)
    (y.feats * r).sum().backward()
    (ref * r).sum().backward()
    check_grads([(up.weight, w_d), (g_s, g_d)])


def test_searchsorted_path_equals_dense_table(monkeypatch):
    coords = random_coords(200, 9, 3, seed=2)
    fast = kernel_map.build_subm_map(coords, 1, 3)
    monkeypatch.setattr(kernel_map, "DENSE_TABLE_LIMIT", 0)
    slow = kernel_map.build_subm_map(coords, 1, 3)
    for a, b in zip(fast, slow):
        if a is None:
            assert b is None
            continue
        pa = sorted(zip(a[0].tolist(), a[1].tolist()))
        pb = sorted(zip(b[0].tolist(), b[1].tolist()))
        assert pa == pb


def test_subm_map_pairs_by_brute_force():
    coords = random_coords(60, 5, 2, seed=4)
    kmap = kernel_map.build_subm_map(coords, 1, 3)
    rows = {tuple(r): i for i, r in enumerate(coords.tolist())}
    for k, (dx, dy, dz) in enumerate(kernel_map.kernel_offsets(3)):
        want = sorted((rows[(b, x + dx, y + dy, z + dz)], j) for (b, x, y, z), j in rows.items()
                      if (b, x + dx, y + dy, z + dz) in rows)
        if kmap[k] is None:
            assert (dx, dy, dz) == (0, 0, 0)
            continue
        assert sorted(zip(kmap[k][0].tolist(), kmap[k][1].tolist())) == want


def test_kernel_maps_are_cached_per_stride():
    coords = random_coords(100, 6, 1, seed=8)
    x = sp.SparseTensor(torch.randn(len(coords), 2), coords)
    a, b = sp.SubMConv3d(2, 2), sp.SubMConv3d(2, 2)
    y = b(a(x))
    assert y.context is x.context
    maps = [k for k in x.context if isinstance(k, tuple) and k[1] == "subm"]
    assert maps == [("torch", "subm", 1, 3)]


def test_inverse_conv_without_matching_down_is_an_error():
    coords = random_coords(50, 4, 1, seed=9, step=2)
    with pytest.raises(RuntimeError, match="matching SparseConv3d"):
        sp.SparseInverseConv3d(2, 2)(sp.SparseTensor(torch.randn(len(coords), 2), coords, stride=2))


def test_mismatched_coords_in_shared_context_is_an_error():
    coords = random_coords(50, 4, 1, seed=10)
    x = sp.SparseTensor(torch.randn(len(coords), 2), coords)
    sp.SubMConv3d(2, 2)(x)
    other = sp.SparseTensor(torch.randn(len(coords) - 1, 2), coords[1:], context=x.context)
    with pytest.raises(RuntimeError, match="differ"):
        sp.SubMConv3d(2, 2)(other)


def test_bias_and_channel_check():
    coords = random_coords(30, 4, 1, seed=12)
    x = sp.SparseTensor(torch.zeros(len(coords), 2), coords)
    conv = sp.SubMConv3d(2, 3, bias=True)
    torch.testing.assert_close(conv(x).feats, conv.bias.detach().expand(len(coords), 3))
    with pytest.raises(ValueError, match="channels"):
        sp.SubMConv3d(4, 3)(x)
    with pytest.raises(ValueError, match="odd"):
        sp.SubMConv3d(2, 3, kernel_size=2)


def test_empty_tensor_flows_through():
    x = sp.SparseTensor(torch.zeros(0, 2), torch.zeros(0, 4, dtype=torch.int32))
    y = sp.SparseInverseConv3d(4, 3)(sp.SparseConv3d(2, 4)(sp.SubMConv3d(2, 2)(x)))
    assert y.feats.shape == (0, 3) and y.stride == 1


@pytest.mark.parametrize("build", ["subm", "subm_stride2", "down", "up"])
def test_every_map_has_distinct_rows_within_an_offset(build):
    # The conv's scatter (functional._add_rows) relies on this: a repeated row would lose a term.
    coords = random_coords(400, 8, 2, seed=13, step=2 if build == "subm_stride2" else 1)
    if build == "subm":
        kmap = kernel_map.build_subm_map(coords, 1, 3)
    elif build == "subm_stride2":
        kmap = kernel_map.build_subm_map(coords, 2, 5)
    else:
        kmap, _ = kernel_map.build_down_map(coords, 1, 2)
        if build == "up":
            kmap = kernel_map.transpose_map(kmap)
    assert sum(p is not None and p[0].numel() > 0 for p in kmap) > 1
    for pair in kmap:
        if pair is not None:
            for side in pair:
                assert side.unique().numel() == side.numel()


@pytest.mark.parametrize("kind", ["subm", "down_up"])
def test_both_scatter_paths_match_dense_conv3d_bit_for_bit(kind, monkeypatch):
    # index_add_ (one thread) and gather + add + index_copy_ (more): the same sums in the same order,
    # so equal bits, forward and backward, and both equal to the dense reference.
    from voxclip.sparse import functional
    size, batch = 8, 2
    coords = random_coords(250, size, batch, seed=14)
    feats = torch.randn(len(coords), 3, generator=torch.Generator().manual_seed(0))
    convs = [sp.SubMConv3d(3, 4)] if kind == "subm" else [sp.SparseConv3d(3, 4), sp.SparseInverseConv3d(4, 2)]
    runs = []
    for serial in (True, False):
        monkeypatch.setattr(functional, "_use_index_add", lambda serial=serial: serial)
        f = feats.clone().requires_grad_(True)
        for c in convs:
            c.weight.grad = None
        x = sp.SparseTensor(f, coords)
        for c in convs:
            x = c(x)
        out = x.feats
        (out * torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape).sin()).sum().backward()
        runs.append([out.detach(), f.grad] + [c.weight.grad.clone() for c in convs])
    for a, b in zip(*runs):
        assert torch.equal(a, b)
    if kind == "subm":
        w = dense_weight(convs[0].weight.detach(), 3)
        ref = from_dense(F.conv3d(to_dense(feats, coords, size, batch), w, padding=1), coords)
        torch.testing.assert_close(runs[0][0], ref, atol=1e-4, rtol=1e-4)
    else:  # strided 2x2x2 then its transpose, densely
        w1 = dense_weight(convs[0].weight.detach(), 2)
        w2 = torch.stack([convs[1].weight.detach()[i] for i in range(8)], dim=-1).reshape(4, 2, 2, 2, 2)
        dense = F.conv_transpose3d(F.conv3d(to_dense(feats, coords, size, batch), w1, stride=2), w2, stride=2)
        torch.testing.assert_close(runs[0][0], from_dense(dense, coords), atol=1e-4, rtol=1e-4)
