"""voxelize / devoxelize round trips and the per-batch reductions, against brute-force loops."""
import math

import pytest
import torch

import voxclip.sparse as sp


def test_voxelize_averages_and_devoxelize_round_trips():
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(500, 3, generator=g) * 2 - 1  # includes negative coordinates
    feats = torch.randn(500, 4, generator=g)
    batch = torch.randint(0, 3, (500,), generator=g)
    vs = 0.25
    x, inverse = sp.voxelize(pts, vs, feats=feats, batch=batch)
    # Brute force: group points by (batch, floor(p / vs)) in plain Python.
    groups = {}
    for i, p in enumerate(pts.tolist()):
        key = (int(batch[i]),) + tuple(math.floor(v / vs) for v in p)
        groups.setdefault(key, []).append(i)
    assert len(x) == len(groups)
    coords = [tuple(c) for c in x.coords.tolist()]
    expected = torch.stack([feats[groups[c]].mean(0) for c in coords])
    torch.testing.assert_close(x.feats, expected)
    keys = {i: key for key, members in groups.items() for i in members}
    assert all(coords[v] == keys[i] for i, v in enumerate(inverse.tolist()))
    # Round trip: voxel features -> points -> voxelize again gives the same voxels and features.
    back = sp.devoxelize(x, inverse)
    assert back.shape == (500, 4)
    y, inverse2 = sp.voxelize(pts, vs, feats=back, batch=batch)
    assert torch.equal(y.coords, x.coords) and torch.equal(inverse2, inverse)
    torch.testing.assert_close(y.feats, x.feats)


def test_voxelize_default_feats_are_mean_xyz():
    pts = torch.tensor([[0.1, 0.1, 0.1], [0.3, 0.3, 0.3], [1.2, 0.0, 0.0]])
    x, inv = sp.voxelize(pts, 1.0)
    assert x.coords.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0]]
    torch.testing.assert_close(x.feats, torch.tensor([[0.2, 0.2, 0.2], [1.2, 0.0, 0.0]]))
    assert inv.tolist() == [0, 0, 1]


def test_global_pools_and_cat():
    coords = torch.tensor([[0, 0, 0, 0], [0, 1, 0, 0], [2, 0, 0, 0], [2, 0, 1, 0], [2, 0, 0, 5]], dtype=torch.int32)
    feats = torch.tensor([[1., -2.], [3., 4.], [0., 1.], [-5., 2.], [2., 0.]])
    x = sp.SparseTensor(feats, coords)
    avg = sp.global_avg_pool(x)
    mx = sp.global_max_pool(x)
    assert avg.shape == (3, 2) and mx.shape == (3, 2)
    torch.testing.assert_close(avg, torch.tensor([[2., 1.], [0., 0.], [-1., 1.]]))
    torch.testing.assert_close(mx, torch.tensor([[3., 4.], [0., 0.], [2., 2.]]))
    c = sp.cat(x, x.replace_feats(feats * 2))
    assert torch.equal(c.feats, torch.cat([feats, feats * 2], 1))
    other = sp.SparseTensor(feats, coords.flip(0))
    with pytest.raises(ValueError, match="coordinates differ"):
        sp.cat(x, other)


def test_backend_selection_errors_are_clear(monkeypatch):
    from voxclip.sparse import backends
    assert "torch" in sp.available_backends()
    with pytest.raises(ValueError, match="unknown sparse backend"):
        sp.set_backend("cuda-magic")
    with sp.use_backend("torch"):
        assert sp.current_backend() == "torch"
    assert sp.current_backend() == "auto"
    # Simulate machines without the optional packages: the error names the install route.
    for name, hint in (("minkowski", "docs/sparse_backends.md"), ("spconv", r"pip install voxclip\[spconv\]")):
        monkeypatch.delitem(backends._instances, name, raising=False)
        monkeypatch.setitem(backends._import_errors, name, ImportError(f"No module named {name}"))
        assert name not in sp.available_backends()
        with pytest.raises(sp.BackendUnavailableError, match=hint):
            sp.set_backend(name)
        with pytest.raises(sp.BackendUnavailableError, match=hint):
            with sp.use_backend(name):
                pass
    assert sp.current_backend() == "auto"
    assert sp.resolve_backend(torch.device("cpu")).name == "torch"
