"""spconv backend == torch backend on the same canonical weights (CPU forward), and its CPU guards."""

import pytest
import torch

import voxclip.sparse as sp
from sparse_helpers import check_weight_layout_by_one_hot_kernels, random_coords, sort_rows

pytest.importorskip("spconv.pytorch", reason="spconv not installed (pip install voxclip[spconv])")
pytestmark = pytest.mark.skipif("spconv" not in sp.available_backends(), reason="spconv backend does not import")


def run(backend, module, x):
    with torch.no_grad(), sp.use_backend(backend):
        return module(sp.SparseTensor(x.feats, x.coords))


def test_weight_layout_by_one_hot_kernels():
    check_weight_layout_by_one_hot_kernels("spconv")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_subm_equal(k):
    coords = random_coords(400, 6, seed=k)
    x = sp.SparseTensor(torch.randn(len(coords), 3), coords)
    conv = sp.SubMConv3d(3, 8, k, bias=True)
    a, b = run("torch", conv, x), run("spconv", conv, x)
    assert torch.equal(a.coords, b.coords)
    torch.testing.assert_close(b.feats, a.feats, rtol=1e-4, atol=1e-5)


def test_down_and_up_equal():
    coords = random_coords(500, 7, seed=1)
    x = sp.SparseTensor(torch.randn(len(coords), 4), coords)
    down, up = sp.SparseConv3d(4, 6), sp.SparseInverseConv3d(6, 5)
    outs = {}
    for name in ("torch", "spconv"):
        with torch.no_grad(), sp.use_backend(name):
            xi = sp.SparseTensor(x.feats, x.coords)
            d = down(xi)
            outs[name] = (d, up(d))
    (ct, ft), (cs, fs) = sort_rows(outs["torch"][0]), sort_rows(outs["spconv"][0])
    assert torch.equal(ct, cs)
    torch.testing.assert_close(fs, ft, rtol=1e-4, atol=1e-5)
    assert torch.equal(outs["spconv"][1].coords, x.coords)
    torch.testing.assert_close(outs["spconv"][1].feats, outs["torch"][1].feats, rtol=1e-4, atol=1e-5)


def test_srunet_same_checkpoint_same_outputs():
    from voxclip.models.backbones import SRUNet
    torch.manual_seed(0)
    coords = random_coords(1500, 20, seed=3)
    x = sp.SparseTensor(torch.randn(len(coords), 3), coords)
    model = SRUNet(3, 6, arch="tiny").eval()
    a, b = run("torch", model, x), run("spconv", model, x)
    torch.testing.assert_close(b.features.feats, a.features.feats, rtol=1e-4, atol=1e-4)
    (ct, ft), (cs, fs) = sort_rows(a.bottleneck), sort_rows(b.bottleneck)
    assert torch.equal(ct, cs)
    torch.testing.assert_close(fs, ft, rtol=1e-4, atol=1e-4)


def test_cpu_backward_refused_and_threads_restored():
    coords = random_coords(100, 4, seed=4)
    feats = torch.randn(len(coords), 2, requires_grad=True)
    conv = sp.SubMConv3d(2, 2)
    before = torch.get_num_threads()
    with sp.use_backend("spconv"):
        out = conv(sp.SparseTensor(feats, coords))
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="cannot run backward on CPU"):
        out.feats.sum().backward()


def test_auto_never_picks_spconv_on_cpu():
    assert sp.resolve_backend(torch.device("cpu")).name == "torch"
