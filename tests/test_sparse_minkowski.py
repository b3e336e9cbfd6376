"""MinkowskiEngine backend == torch backend on the same canonical weights (forward and backward)."""
import pytest
import torch

import voxclip.sparse as sp
from sparse_helpers import check_weight_layout_by_one_hot_kernels, random_coords, sort_rows

pytest.importorskip("MinkowskiEngine", reason="MinkowskiEngine not built here (see docs/sparse_backends.md)")
pytestmark = [pytest.mark.minkowski,
              pytest.mark.skipif("minkowski" not in sp.available_backends(), reason="minkowski backend does not import")]


def test_weight_layout_by_one_hot_kernels():
    check_weight_layout_by_one_hot_kernels("minkowski")

def _chain(backend, x, mods, grad=False):
    with torch.set_grad_enabled(grad), sp.use_backend(backend):
        y, outs = sp.SparseTensor(x.feats, x.coords), []
        for m in mods:
            y = m(y)
            outs.append(y)
    return outs


def test_subm_down_subm_up_forward_and_backward_equal():
    coords = random_coords(600, 7, seed=1)
    base = torch.randn(len(coords), 3)
    mods = [sp.SubMConv3d(3, 4, 5), sp.SparseConv3d(4, 5), sp.SubMConv3d(5, 5, 3, bias=True),
            sp.SparseInverseConv3d(5, 2), sp.SubMConv3d(2, 2, 1)]
    grads, finals = {}, {}
    for b in ("torch", "minkowski"):
        f = base.clone().requires_grad_(True)
        outs = _chain(b, sp.SparseTensor(f, coords), mods, grad=True)
        finals[b] = outs
        outs[-1].feats.square().sum().backward()
        grads[b] = [f.grad] + [m.weight.grad.clone() for m in mods]
        for m in mods:
            m.weight.grad = None
    for i in range(len(mods)):
        (ca, fa), (cb, fb) = sort_rows(finals["torch"][i]), sort_rows(finals["minkowski"][i])
        assert torch.equal(ca, cb)
        torch.testing.assert_close(fb, fa, rtol=1e-4, atol=1e-5)
    assert torch.equal(finals["minkowski"][-1].coords, coords)
    for ga, gb in zip(grads["torch"], grads["minkowski"]):
        torch.testing.assert_close(gb, ga, rtol=1e-4, atol=1e-4)


def test_srunet_same_checkpoint_same_outputs():
    from voxclip.models.backbones import SRUNet
    torch.manual_seed(0)
    coords = random_coords(1500, 20, seed=3)
    x = sp.SparseTensor(torch.randn(len(coords), 3), coords)
    model = SRUNet(3, 6, arch="tiny").eval()
    outs = {}
    for b in ("torch", "minkowski"):
        with torch.no_grad(), sp.use_backend(b):
            outs[b] = model(sp.SparseTensor(x.feats, x.coords))
    torch.testing.assert_close(outs["minkowski"].features.feats, outs["torch"].features.feats, rtol=1e-4, atol=1e-4)
