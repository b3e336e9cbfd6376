"""tools/convert_checkpoint.py: Pointcept SpUNet-v1m1 built in spconv (real key names and kernel
layout) gives the same output as the converted SRUNet; MinkowskiEngine Res16UNet34C from a stored
fixture of its real key names and shapes, and a round trip through the ME kernel layout that
tests/test_sparse_minkowski.py verifies against MinkowskiEngine itself."""
import json
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import convert_checkpoint as tool  # noqa: E402

from voxclip import sparse as sp  # noqa: E402
from voxclip.interop.checkpoints import ConversionError, convert_minkowski, convert_pointcept  # noqa: E402
from voxclip.models.backbones.srunet import SRUNet  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "minkowski_res16unet34c_keys.json"


def _randomise_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def _coords(n=600, size=24, seed=0):
    rng = np.random.default_rng(seed)
    c = np.unique(rng.integers(0, size, (n, 3)), axis=0)
    return torch.from_numpy(c).int()


# ---------------------------------------------------------------- Pointcept SpUNet-v1m1 in spconv
def _spunet(in_channels, num_classes, base, channels, layers):
    """SpUNet-v1m1's layout (Pointcept pointcept/models/sparse_unet/spconv_unet_v1m1_base.py): module
    names, spconv kernels, BatchNorm eps 1e-3, channels changing at the stride-2 convs."""
    spconv = pytest.importorskip("spconv.pytorch")
    from spconv.core import ConvAlgo

    algo = ConvAlgo.Native
    bn = lambda c: nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)  # noqa: E731

    class Block(spconv.SparseModule):
        def __init__(self, cin, cout, key):
            super().__init__()
            self.proj = (spconv.SparseSequential(nn.Identity()) if cin == cout else
                         spconv.SparseSequential(spconv.SubMConv3d(cin, cout, 1, bias=False, algo=algo), bn(cout)))
            self.conv1 = spconv.SubMConv3d(cin, cout, 3, padding=1, bias=False, indice_key=key, algo=algo)
            self.bn1 = bn(cout)
            self.conv2 = spconv.SubMConv3d(cout, cout, 3, padding=1, bias=False, indice_key=key, algo=algo)
            self.bn2 = bn(cout)

        def forward(self, x):
            out = self.conv1(x)
            out = out.replace_feature(torch.relu(self.bn1(out.features)))
            out = self.conv2(out)
            out = out.replace_feature(self.bn2(out.features) + self.proj(x).features)
            return out.replace_feature(torch.relu(out.features))

    class SpUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_input = spconv.SparseSequential(
                spconv.SubMConv3d(in_channels, base, 5, padding=1, bias=False, indice_key="stem", algo=algo), bn(base), nn.ReLU())
            self.down, self.enc, self.up, self.dec = nn.ModuleList(), nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
            enc_c, dec_c, n = base, channels[-1], len(channels)
            for s in range(4):
                self.down.append(spconv.SparseSequential(spconv.SparseConv3d(
                    enc_c, channels[s], 2, stride=2, bias=False, indice_key=f"spconv{s + 1}", algo=algo), bn(channels[s]), nn.ReLU()))
                self.enc.append(spconv.SparseSequential(OrderedDict(
                    (f"block{i}", Block(channels[s], channels[s], f"subm{s + 1}")) for i in range(layers[s]))))
                self.up.append(spconv.SparseSequential(spconv.SparseInverseConv3d(
                    channels[n - s - 2], dec_c, 2, bias=False, indice_key=f"spconv{s + 1}", algo=algo), bn(dec_c), nn.ReLU()))
                self.dec.append(spconv.SparseSequential(OrderedDict(
                    (f"block{i}", Block(dec_c + enc_c if i == 0 else dec_c, dec_c, f"subm{s}"))
                    for i in range(layers[n - s - 1]))))
                enc_c, dec_c = channels[s], channels[n - s - 2]
            self.final = spconv.SubMConv3d(channels[-1], num_classes, 1, padding=1, bias=True, algo=algo)

        def forward(self, coords, feats):
            shape = (coords.max(0).values + 96).tolist()
            x = spconv.SparseConvTensor(feats, torch.cat([torch.zeros(len(coords), 1, dtype=torch.int32), coords], 1),
                                        shape, 1)
            x = self.conv_input(x)
            skips = [x]
            for s in range(4):
                x = self.enc[s](self.down[s](x))
                skips.append(x)
            x = skips.pop(-1)
            for s in reversed(range(4)):
                x = self.up[s](x)
                x = x.replace_feature(torch.cat((x.features, skips.pop(-1).features), 1))
                x = self.dec[s](x)
            return self.final(x).features

    torch.manual_seed(0)
    model = SpUNet()
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    _randomise_bn(model)
    return model.eval()


def _srunet_out(srunet_kwargs, state, coords, feats):
    model = SRUNet(**srunet_kwargs)
    model.load_state_dict(state)
    model.eval()
    with sp.use_backend("torch"), torch.no_grad():
        x = sp.SparseTensor(feats, torch.cat([torch.zeros(len(coords), 1, dtype=torch.int32), coords], 1))
        return model(x).features.feats


@pytest.mark.parametrize("plan", ["tiny", "34C"])
def test_pointcept_spunet_converts_to_the_same_function(plan, tmp_path):
    from voxclip.models.backbones.srunet import ARCHS

    blocks, planes, init = ARCHS[plan]
    src = _spunet(6, 13, init, planes, blocks)
    coords = _coords(500 if plan == "34C" else 800)
    feats = torch.randn(len(coords), 6, generator=torch.Generator().manual_seed(1))
    torch.set_num_threads(1)  # spconv's CPU scatter-add (docs/sparse_backends.md)
    with torch.no_grad():
        ref = src(coords, feats)
    # as Pointcept saves it: DefaultSegmentor's backbone inside DDP
    ckpt = tmp_path / "pointcept.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.backbone.{k}": v for k, v in src.state_dict().items()}}, ckpt)
    dst = tmp_path / "voxclip.pth"
    info = tool.main(["--from", "pointcept", str(ckpt), str(dst)])
    assert info["srunet"] == dict(in_channels=6, out_channels=13, arch=plan, conv0_kernel_size=5,
                                  down_mode="expand", bn_eps=1e-3, bn_momentum=0.01)
    assert info["unmatched"] == []
    saved = torch.load(dst, weights_only=True)
    state = {k[len("backbone."):]: v for k, v in saved["state_dict"].items()}
    out = _srunet_out(info["srunet"], state, coords, feats)
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, atol=1e-4 * float(ref.abs().max()), rtol=1e-4), float((out - ref).abs().max())


def test_pointcept_architecture_differences_fail(tmp_path):
    src = _spunet(6, 13, 16, (16, 16, 32, 32, 32, 16, 16, 16), (1,) * 8)
    state = src.state_dict()
    with pytest.raises(ConversionError, match=r"blocks \(0, 1, 1, 1, 1, 1, 1, 1\).*match no SRUNet plan"):
        convert_pointcept({k: v for k, v in state.items() if not k.startswith("enc.0.")})
    with pytest.raises(ConversionError, match=r"missing \['decoders.2.0.norm2.weight'\]"):
        convert_pointcept({k: v for k, v in state.items() if k != "dec.1.block0.bn2.weight"})
    # a config whose backbone has a 3x3x3 first layer and Res16UNet downsampling: says so and fails
    cfg = tmp_path / "cfg.py"
    cfg.write_text("model = dict(type='SparseSegmentor', num_classes=13, backbone=dict(type='SRUNet', in_channels=6, "
                   "out_channels=13, arch='tiny', conv0_kernel_size=3))\n")
    ckpt = tmp_path / "p.pth"
    torch.save(state, ckpt)
    with pytest.raises(ValueError, match="first-layer kernel: checkpoint 5, config 3.*down_mode"):
        tool.main(["--from", "pointcept", str(ckpt), str(tmp_path / "o.pth"), "--config", str(cfg)])
    assert not (tmp_path / "o.pth").exists()


# ---------------------------------------------------------------- MinkowskiEngine Res16UNet
def test_minkowski_res16unet34c_fixture_keys_all_map(tmp_path, capsys):
    fx = json.loads(FIXTURE.read_text())
    g = torch.Generator().manual_seed(0)
    state = {f"module.{k}": (torch.randn(*s, generator=g) if s else torch.tensor(5)) for k, s in fx["keys"]}
    state["module.head.weight"] = torch.zeros(4)  # e.g. a pretraining projection head: reported
    ckpt = tmp_path / "me.pth"
    torch.save({"state_dict": state, "epoch": 10}, ckpt)
    with pytest.raises(ValueError, match="1 unmatched source keys"):
        tool.main(["--from", "minkowski", str(ckpt), str(tmp_path / "x.pth")])
    assert "head.weight  (4,)" in capsys.readouterr().out
    info = tool.main(["--from", "minkowski", str(ckpt), str(tmp_path / "x.pth"), "--allow-unmatched"])
    assert info["srunet"] == dict(in_channels=3, out_channels=20, arch="34C", conv0_kernel_size=5)
    out = torch.load(tmp_path / "x.pth", weights_only=True)["state_dict"]
    model = SRUNet(3, 20, "34C")
    model.load_state_dict({k[len("backbone."):]: v for k, v in out.items()})  # strict: every key, every shape
    # hand-checked entries: the 1x1 projection (Cin, Cout) -> (1, Cin, Cout); bias (1, 20) -> (20,)
    assert torch.equal(out["backbone.encoders.1.0.downsample.0.weight"][0], state["module.block2.0.downsample.0.kernel"])
    assert torch.equal(out["backbone.final.bias"], state["module.final.bias"][0])
    assert torch.equal(out["backbone.stem.1.running_var"], state["module.bn0.bn.running_var"])


def test_minkowski_checkpoint_without_bn_counters_converts(tmp_path, capsys):
    """Older or stripped checkpoints have no num_batches_tracked (as key dumps of ME Res16UNet checkpoints
    in the wild show): every other tensor still maps and the counters start at 0, said in the report."""
    fx = json.loads(FIXTURE.read_text())
    state = {k: torch.randn(*s) for k, s in fx["keys"] if not k.endswith("num_batches_tracked")}
    ckpt = tmp_path / "old.pth"
    torch.save({"state_dict": state}, ckpt)
    tool.main(["--from", "minkowski", str(ckpt), str(tmp_path / "y.pth")])
    assert "no BatchNorm num_batches_tracked" in capsys.readouterr().out
    out = torch.load(tmp_path / "y.pth", weights_only=True)["state_dict"]
    counters = [k for k in out if k.endswith("num_batches_tracked")]
    assert counters and all(int(out[k]) == 0 for k in counters)
    assert torch.equal(out["backbone.stem.1.running_var"], state["bn0.bn.running_var"])
    partial = dict(state, **{"bn0.bn.num_batches_tracked": torch.tensor(3)})  # some present: not a pattern, fail
    torch.save({"state_dict": partial}, ckpt)
    with pytest.raises(ValueError, match="missing"):
        tool.main(["--from", "minkowski", str(ckpt), str(tmp_path / "z.pth")])


def test_minkowski_kernel_layout_round_trip():
    """A random SRUNet written in ME's layout (dx fastest, as the minkowski backend feeds MinkowskiEngine,
    docs/sparse_backends.md) and ME's key names converts back to exactly the same weights."""

    def to_minkowski_kernel(w, k):
        return w.reshape(k, k, k, w.shape[1], w.shape[2]).permute(2, 1, 0, 3, 4).reshape(k ** 3, w.shape[1], w.shape[2])

    try:  # where MinkowskiEngine is built: the backend's own layout function must agree
        from voxclip.sparse.backends.minkowski_backend import to_minkowski_kernel as backend_layout

        w = torch.randn(27, 2, 3)
        assert torch.equal(backend_layout(w, 3), to_minkowski_kernel(w, 3))
    except ImportError:
        pass

    torch.manual_seed(0)
    model = SRUNet(4, 8, "tiny", conv0_kernel_size=3)
    ref = model.state_dict()
    names = {"stem.0": "conv0p1s1", "stem.1": "bn0", "final": "final"}
    for i, (d, u) in enumerate(zip(("conv1p1s2", "conv2p2s2", "conv3p4s2", "conv4p8s2"),
                                   ("convtr4p16s2", "convtr5p8s2", "convtr6p4s2", "convtr7p2s2"))):
        names.update({f"downs.{i}.0": d, f"downs.{i}.1": f"bn{i + 1}", f"ups.{i}.0": u, f"ups.{i}.1": f"bntr{i + 4}",
                      f"encoders.{i}": f"block{i + 1}", f"decoders.{i}": f"block{i + 5}"})
    me = {}
    for key, v in ref.items():
        module, leaf = key.rsplit(".", 1)
        for ours in sorted(names, key=len, reverse=True):
            if module == ours or module.startswith(ours + "."):
                module = names[ours] + module[len(ours):]
                break
        module = module.replace("norm1", "norm1.bn").replace("norm2", "norm2.bn").replace("downsample.1", "downsample.1.bn")
        if leaf == "weight" and v.dim() == 3:
            k = round(v.shape[0] ** (1 / 3))
            me[f"{module}.kernel"] = v[0].clone() if k == 1 else to_minkowski_kernel(v, k)
        elif leaf == "bias" and module == "final":
            me["final.bias"] = v[None].clone()
        else:
            me[f"{module}.bn.{leaf}" if module.startswith(("bn", "bntr")) else f"{module}.{leaf}"] = v.clone()
    conv = convert_minkowski(me)
    assert conv.unmatched_source == [] and conv.srunet["conv0_kernel_size"] == 3 and conv.srunet["arch"] == "tiny"
    assert all(torch.equal(conv.state_dict[k], ref[k]) for k in ref)
