"""GPU checks (marker `gpu`; run by tools/gpu_check.sh, skipped without CUDA), plus one CPU check of
the dense references they use.

Sparse convolution on CUDA for every GPU backend against dense conv3d and against each other
(forward and gradients), one checkpoint across backends and against the CPU, an AMP training step,
a 1-GPU NCCL torchrun run of tools/train.py (--amp --sync-bn), and VoteNet / 3DETR predict on GPU
equal to CPU within tolerance.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import voxclip.sparse as sp
from sparse_helpers import random_coords, sort_rows

REPO = Path(__file__).resolve().parents[1]
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (tools/gpu_check.sh)")
CUDA = torch.device("cuda")


def _runs_on_cuda(name: str) -> bool:
    if name not in sp.available_backends():
        return False
    try:  # the CPU spconv package, or a CPU-only MinkowskiEngine build, fail here
        x = sp.SparseTensor(torch.ones(2, 1, device=CUDA), torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1]], device=CUDA))
        with torch.no_grad(), sp.use_backend(name):
            sp.SubMConv3d(1, 1).to(CUDA)(x)
        return True
    except Exception:
        return False


@pytest.fixture(autouse=True)
def no_tf32():
    """Full fp32 everywhere: cuDNN's conv3d (the dense reference) would otherwise use TF32."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.fixture(scope="module")
def gpu_backends():
    return [b for b in ("torch", "spconv", "minkowski") if _runs_on_cuda(b)]


def _dense_grid(x: sp.SparseTensor, lo, ext):
    c = x.coords.long()
    grid = x.feats.new_zeros(x.batch_size, x.feats.shape[1], *ext)
    b, i, j, k = c[:, 0], *(c[:, 1:] - lo).T
    grid[b, :, i, j, k] = x.feats
    return grid, (b, i, j, k)


def dense_subm3(x: sp.SparseTensor, weight: torch.Tensor) -> torch.Tensor:
    """Submanifold 3x3x3 conv by dense conv3d read back at the input voxels (canonical layout:
    (27, Cin, Cout), offsets dx slowest over [-1, 1]^3, cross-correlation)."""
    lo = x.coords[:, 1:].long().min(0).values
    ext = (x.coords[:, 1:].long().max(0).values - lo + 1).tolist()
    grid, (b, i, j, k) = _dense_grid(x, lo, ext)
    w = weight.reshape(3, 3, 3, weight.shape[1], weight.shape[2]).permute(4, 3, 0, 1, 2)
    return F.conv3d(grid, w, padding=1)[b, :, i, j, k]


def dense_down2(x: sp.SparseTensor, weight: torch.Tensor):
    """Stride-2 kernel-2 conv by dense conv3d on a grid aligned to even coordinates: the output rows at
    floor(c / 2) * 2, as (coords, feats) in sorted order."""
    c = x.coords.long()
    lo = torch.div(c[:, 1:].min(0).values, 2, rounding_mode="floor") * 2
    ext = (c[:, 1:].max(0).values - lo + 2).tolist()
    ext = [e + e % 2 for e in ext]
    grid, _ = _dense_grid(x, lo, ext)
    w = weight.reshape(2, 2, 2, weight.shape[1], weight.shape[2]).permute(4, 3, 0, 1, 2)
    out = F.conv3d(grid, w, stride=2)
    oc = torch.unique(torch.cat([c[:, :1], torch.div(c[:, 1:], 2, rounding_mode="floor") * 2], 1), dim=0)
    feats = out[oc[:, 0], :, *((oc[:, 1:] - lo) // 2).T]
    return oc.int(), feats


def _input(n=3000, size=14, c=8, seed=0, device=CUDA):
    coords = random_coords(n, size, seed=seed).to(device)
    g = torch.Generator().manual_seed(seed)
    return sp.SparseTensor(torch.randn(len(coords), c, generator=g).to(device), coords)


@pytest.mark.gpu
@needs_gpu
def test_every_gpu_backend_matches_dense_conv_forward_and_backward(gpu_backends):
    assert "torch" in gpu_backends
    check_against_dense(gpu_backends, CUDA)


def test_dense_references_match_the_torch_backend_on_cpu():
    """The references above, checked where CI runs, so that a GPU session never debugs them."""
    check_against_dense(["torch"], torch.device("cpu"))


def check_against_dense(backends, device):
    x = _input(device=device)
    conv = sp.SubMConv3d(8, 16, 3).to(device)
    down = sp.SparseConv3d(8, 12, 2, stride=2).to(device)
    # The dense reference in float64, compared with each backend's float32.
    feats64 = x.feats.double().requires_grad_(True)
    w64 = conv.weight.detach().double().requires_grad_(True)
    ref = dense_subm3(sp.SparseTensor(feats64, x.coords), w64)
    g_out = torch.randn_like(ref)
    ref_gx, ref_gw = (g.float() for g in torch.autograd.grad(ref, [feats64, w64], g_out))
    ref, g_out = ref.detach().float(), g_out.float()
    ref_down_c, ref_down = dense_down2(sp.SparseTensor(x.feats.double(), x.coords), down.weight.detach().double())
    ref_down = ref_down.float()
    for name in backends:
        f = x.feats.clone().requires_grad_(True)
        with sp.use_backend(name):
            out = conv(sp.SparseTensor(f, x.coords))
            assert torch.equal(out.coords, x.coords), name
            torch.testing.assert_close(out.feats, ref, rtol=1e-4, atol=1e-4, msg=name)
            gx, gw = torch.autograd.grad(out.feats, [f, conv.weight], g_out)
            torch.testing.assert_close(gx, ref_gx, rtol=1e-4, atol=1e-4, msg=name)
            torch.testing.assert_close(gw, ref_gw, rtol=1e-4, atol=1e-3, msg=name)
            with torch.no_grad():
                dc, df = sort_rows(down(sp.SparseTensor(x.feats, x.coords)))
        assert torch.equal(dc.long(), ref_down_c.long()), name
        torch.testing.assert_close(df, ref_down, rtol=1e-4, atol=1e-4, msg=name)


@pytest.mark.gpu
@needs_gpu
def test_backends_agree_with_each_other_and_the_cpu(gpu_backends, tmp_path):
    """One checkpoint (saved, reloaded) on every GPU backend and on the CPU torch backend."""
    from voxclip.models.backbones import SRUNet

    torch.manual_seed(0)
    model = SRUNet(3, 8, arch="tiny")
    torch.save(model.state_dict(), tmp_path / "srunet.pth")
    model = SRUNet(3, 8, arch="tiny")
    model.load_state_dict(torch.load(tmp_path / "srunet.pth", weights_only=True))
    model.eval()
    x = _input(n=6000, size=20, c=3, seed=1)
    with torch.no_grad(), sp.use_backend("torch"):
        ref = model(sp.SparseTensor(x.feats.cpu(), x.coords.cpu())).features.feats
    model.to(CUDA)
    for name in gpu_backends:
        with torch.no_grad(), sp.use_backend(name):
            out = model(sp.SparseTensor(x.feats, x.coords)).features
        assert torch.equal(out.coords.cpu(), x.coords.cpu()), name
        torch.testing.assert_close(out.feats.cpu(), ref, rtol=1e-3, atol=1e-3, msg=name)


@pytest.mark.gpu
@needs_gpu
def test_amp_training_step(gpu_backends):
    from voxclip.models.backbones import SRUNet

    x = _input(n=6000, size=20, c=3, seed=2)
    target = torch.randn(len(x), 8, device=CUDA)
    for name in gpu_backends:
        torch.manual_seed(0)
        model = SRUNet(3, 8, arch="tiny").to(CUDA)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        scaler = torch.amp.GradScaler("cuda")
        losses = []
        with sp.use_backend(name):
            model.eval()
            with torch.no_grad():
                fp32 = model(sp.SparseTensor(x.feats, x.coords)).features.feats
                with torch.autocast("cuda", dtype=torch.float16):
                    half = model(sp.SparseTensor(x.feats, x.coords)).features.feats.float()
            assert (half - fp32).abs().max() <= 2e-2 * fp32.abs().max(), name  # fp16 rounding only
            model.train()
            for _ in range(5):
                with torch.autocast("cuda", dtype=torch.float16):
                    out = model(sp.SparseTensor(x.feats, x.coords)).features.feats
                    loss = F.mse_loss(out.float(), target)
                opt.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                losses.append(loss.item())
        assert all(torch.isfinite(torch.tensor(losses))), (name, losses)
        assert losses[-1] < losses[0], (name, losses)


@pytest.mark.gpu
@needs_gpu
def test_one_gpu_nccl_torchrun(prepared_scannet, tmp_path):
    from test_train_tools import CONFIG, logged_scalars, tiny_options

    opts = tiny_options(prepared_scannet, epochs=1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "1", "--master-port", "29533",
           str(REPO / "tools/train.py"), CONFIG, "--launcher", "pytorch", "--amp", "--sync-bn",
           "--work-dir", str(tmp_path), "--cfg-options", *opts]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = "".join(p.read_text() for p in tmp_path.glob("*/*.log"))
    assert "Distributed training: True" in log
    assert "backend='nccl'" in log.replace('"', "'") or "'backend': 'nccl'" in log.replace('"', "'")
    rows = logged_scalars(tmp_path)
    assert [r["iter"] for r in rows] == [1, 2, 3] and all(r["loss"] == r["loss"] for r in rows)  # not NaN
    assert (tmp_path / "epoch_1.pth").is_file()


def _same_predictions(cpu_out, gpu_out, atol):
    assert len(cpu_out) == len(gpu_out)
    for a, b in zip(cpu_out, gpu_out):
        assert a["boxes"].shape == b["boxes"].shape, (a["boxes"].shape, b["boxes"].shape)
        oa, ob = torch.argsort(a["scores"], descending=True), torch.argsort(b["scores"].cpu(), descending=True)
        torch.testing.assert_close(b["scores"].cpu()[ob], a["scores"][oa], rtol=0, atol=atol)
        torch.testing.assert_close(b["boxes"].cpu()[ob], a["boxes"][oa], rtol=0, atol=atol)
        assert torch.equal(b["labels"].cpu()[ob], a["labels"][oa])


def _to(batch, device):
    return {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in batch.items()}


@pytest.mark.gpu
@needs_gpu
def test_votenet_predict_gpu_equals_cpu():
    from test_votenet import MEAN_SIZES, collate, make_scene
    from voxclip.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build(dict(
        type="VoteNetDetector", backbone=dict(type="SRUNet", in_channels=4, out_channels=32, arch="tiny"),
        head=dict(type="VoteHead", num_classes=3, in_channels=32, mean_sizes=MEAN_SIZES, num_heading_bins=12,
                  num_seeds=256, num_proposals=32, agg_radius=0.3, agg_nsample=8, agg_mlp=(32, 32),
                  proposal_hidden=(32, 32), fps_backend="torch"))).eval()
    g = torch.Generator().manual_seed(5)
    data = collate([make_scene(g, yawed=True), make_scene(g, yawed=True)])
    with torch.no_grad(), sp.use_backend("torch"):
        cpu = model(**data, mode="predict")
    model.to(CUDA)
    gpu_data = dict(inputs=_to(data["inputs"], CUDA), data_samples=data["data_samples"])
    with torch.no_grad():  # `auto`: the fastest GPU backend
        gpu = model(**gpu_data, mode="predict")
    _same_predictions(cpu, gpu, atol=1e-3)


@pytest.mark.gpu
@needs_gpu
def test_3detr_predict_gpu_equals_cpu():
    from test_detr3d import _batch
    from voxclip.models.detectors.detr3d import ThreeDETR

    torch.manual_seed(0)
    model = ThreeDETR(
        tokenizer=dict(type="PointTokenizer", num_tokens=64, patch_size=16, embed_dim=32, pointnet_hidden=(16, 32),
                       fps_backend="torch"),
        encoder=dict(type="PointTransformerEncoder", embed_dim=32, depth=1, num_heads=2, drop_path_rate=0.0),
        head=dict(type="DETR3DHead", num_classes=3, in_channels=32, dim=32, num_queries=16, num_decoder_layers=2,
                  num_heads=2, ffn_dim=64, dropout=0.0, mlp_hidden=32, mlp_dropout=0.0)).eval()
    inputs, samples = _batch([2, 3])
    with torch.no_grad():
        cpu = model(inputs, samples, mode="predict")
        gpu = model.to(CUDA)(_to(inputs, CUDA), samples, mode="predict")
    _same_predictions(cpu, gpu, atol=1e-3)
