"""SR-UNet: shapes, coordinates, encode/decode, registry, backend-neutral state_dict, overfitting."""
import pytest
import torch

import voxclip.sparse as sp
from voxclip.models.backbones import ARCHS, SRUNet, SRUNetOutput
from voxclip.registry import MODELS


def toy_scene(seed=0, n=3000):
    """Points on a floor plane (class 0), a box surface (class 1) and a sphere (class 2)."""
    g = torch.Generator().manual_seed(seed)
    m = n // 3
    floor = torch.cat([torch.rand(m, 2, generator=g) * 2, torch.zeros(m, 1)], 1)
    u = torch.rand(m, 3, generator=g)
    face = torch.randint(0, 3, (m,), generator=g)
    box = u * 0.5
    box[torch.arange(m), face] = torch.where(u[:, 0] > 0.5, 0.5, 0.0)
    box = box + torch.tensor([0.2, 0.2, 0.05])
    d = torch.randn(m, 3, generator=g)
    sphere = d / d.norm(dim=1, keepdim=True) * 0.3 + torch.tensor([1.4, 1.4, 0.4])
    pts = torch.cat([floor, box, sphere])
    labels = torch.arange(3).repeat_interleave(m)
    return pts, labels


def test_output_on_input_coords_and_registry():
    pts, _ = toy_scene()
    x, inverse = sp.voxelize(pts, 0.05, feats=torch.ones(len(pts), 1))
    model = MODELS.build(dict(type="SRUNet", in_channels=1, out_channels=7, arch="tiny", conv0_kernel_size=3))
    assert isinstance(model, SRUNet)
    out = model(x)
    assert isinstance(out, SRUNetOutput)
    assert out.features.coords is x.coords and out.features.feats.shape == (len(x), 7)
    assert out.bottleneck.stride == 16 and out.bottleneck.feats.shape[1] == ARCHS["tiny"][1][3]
    bottleneck, skips = model.encode(x)
    assert [s.stride for s in skips] == [1, 2, 4, 8]
    model.eval()
    torch.testing.assert_close(model.decode(*model.encode(x)).feats, model(x).features.feats)


def test_published_plans():
    blocks, planes, init_dim = ARCHS["34C"]
    model = SRUNet(3, 20, arch="34C")
    assert [len(s) for s in model.encoders] + [len(s) for s in model.decoders] == [2, 3, 4, 6, 2, 2, 2, 2]
    assert model.stem[0].weight.shape == (125, 3, 32)  # conv0 kernel 5, INIT_DIM 32
    assert model.decoders[0][0].conv1.in_channels == 256 + 128  # up to 256, concat stride-8 skip (128)
    assert model.final.weight.shape == (1, 96, 20)
    with pytest.raises(ValueError, match="unknown SRUNet arch"):
        SRUNet(3, 20, arch="99Z")


def test_state_dict_round_trip_gives_same_outputs():
    pts, _ = toy_scene(1)
    x, _ = sp.voxelize(pts, 0.05)
    a = SRUNet(3, 4, arch="tiny").eval()
    b = SRUNet(3, 4, arch="tiny").eval()
    b.load_state_dict(a.state_dict())
    assert all("spconv" not in k and "minkowski" not in k for k in a.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(a(x).features.feats, b(sp.SparseTensor(x.feats, x.coords)).features.feats)


def test_overfits_tiny_segmentation():
    torch.manual_seed(0)
    pts, labels = toy_scene(2, n=2400)
    x, inverse = sp.voxelize(pts, 0.06, feats=torch.ones(len(pts), 1))
    # Majority label per voxel (brute force is fine at this size).
    vox_labels = torch.zeros(len(x), 3).index_add_(0, inverse, torch.nn.functional.one_hot(labels, 3).float()).argmax(1)
    model = SRUNet(1, 3, arch="tiny", conv0_kernel_size=3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for step in range(40):
        logits = model(sp.SparseTensor(x.feats, x.coords)).features.feats
        loss = torch.nn.functional.cross_entropy(logits, vox_labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    model.eval()
    with torch.no_grad():
        pred = model(sp.SparseTensor(x.feats, x.coords)).features.feats.argmax(1)
    acc = (pred == vox_labels).float().mean().item()
    assert loss.item() < 0.2 * first and acc > 0.95, (first, loss.item(), acc)
