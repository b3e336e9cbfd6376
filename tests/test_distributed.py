"""SyncBN conversion of the sparse BatchNorm, --sync-bn / --auto-scale-lr, the launch scripts, the
TensorBoard switch, and a two-"node" torchrun run on one machine (gloo) ending with equal weights."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import voxclip.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests"))

import train as train_tool  # noqa: E402
from test_train_tools import CONFIG, logged_scalars, tiny_options  # noqa: E402


def _sparse_input(n=300, c=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    rows = torch.cat([torch.randint(0, 2, (n, 1), generator=g), torch.randint(0, 12, (n, 3), generator=g)], 1)
    coords = torch.unique(rows, dim=0)  # (batch, x, y, z), two batch items
    return sp.SparseTensor(torch.randn(len(coords), c, generator=g) * 3 + 1, coords.int())


def _net(c=8):
    torch.manual_seed(0)
    net = nn.Sequential(sp.SubMConv3d(c, c, 3), sp.BatchNorm(c, momentum=0.3), sp.ReLU())
    bn = net[1]
    with torch.no_grad():  # non-trivial affine and running statistics
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return net


@pytest.mark.parametrize("convert", ["torch", "mmengine"])
def test_sparse_batchnorm_survives_sync_bn_conversion(convert):
    from mmengine.model import convert_sync_batchnorm

    net = _net()
    x = _sparse_input()
    ref = {k: v.clone() for k, v in net.state_dict().items()}
    synced = (nn.SyncBatchNorm.convert_sync_batchnorm(net) if convert == "torch"
              else convert_sync_batchnorm(net, "torch"))
    assert isinstance(synced[1].bn, nn.SyncBatchNorm)
    # The converted model keeps the flat checkpoint layout and values.
    assert list(synced.state_dict()) == list(ref) and all(torch.equal(synced.state_dict()[k], v) for k, v in ref.items())
    w, b = ref["1.weight"], ref["1.bias"]
    with torch.no_grad():
        h = synced[0](x).feats  # conv output, the BatchNorm's input
        # eval: running statistics (hand-written BatchNorm + ReLU)
        synced.eval()
        expect = torch.relu((h - ref["1.running_mean"]) / torch.sqrt(ref["1.running_var"] + 1e-5) * w + b)
        torch.testing.assert_close(synced(x).feats, expect, rtol=1e-5, atol=1e-5)
        # train, no process group: batch statistics; running stats move by momentum with unbiased var
        synced.train()
        mean, var = h.mean(0), h.var(0, unbiased=False)
        expect = torch.relu((h - mean) / torch.sqrt(var + 1e-5) * w + b)
        torch.testing.assert_close(synced(x).feats, expect, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(synced[1].running_mean, 0.7 * ref["1.running_mean"] + 0.3 * mean)
        torch.testing.assert_close(synced[1].running_var, 0.7 * ref["1.running_var"] + 0.3 * h.var(0, unbiased=True))


def test_sparse_batchnorm_loads_flat_batchnorm1d_keys():
    # The layout of every checkpoint written before the inner `bn` existed: BatchNorm1d's own keys.
    plain = nn.BatchNorm1d(5)
    with torch.no_grad():
        plain.weight.uniform_()
        plain.running_mean.uniform_()
    plain.num_batches_tracked += 7
    bn = sp.BatchNorm(5)
    assert bn.load_state_dict(plain.state_dict(), strict=True)
    for name, value in plain.state_dict().items():
        assert torch.equal(getattr(bn.bn, name), value), name
    assert list(bn.state_dict()) == list(plain.state_dict())
    with pytest.raises(RuntimeError, match="Missing key"):
        sp.BatchNorm(5).load_state_dict({"weight": plain.weight}, strict=True)


def test_sync_bn_flag_needs_a_distributed_cuda_run(tmp_path):
    with pytest.raises(ValueError, match="--launcher pytorch"):
        train_tool.build_runner(train_tool.parse_args([CONFIG, "--sync-bn", "--work-dir", str(tmp_path)]))
    if not torch.cuda.is_available():
        from voxclip.engine.distributed import enable_sync_bn
        from mmengine.config import Config

        with pytest.raises(ValueError, match="CUDA tensors only"):
            enable_sync_bn(Config(dict()), "pytorch")


def test_auto_scale_lr_scales_by_total_batch(prepared_scannet, tmp_path):
    with pytest.raises(ValueError, match="base_batch_size"):
        train_tool.build_runner(train_tool.parse_args([CONFIG, "--auto-scale-lr", "--work-dir", str(tmp_path)]))
    opts = tiny_options(prepared_scannet, epochs=1) + ["auto_scale_lr.base_batch_size=8"]
    runner = train_tool.build_runner(train_tool.parse_args(
        [CONFIG, "--auto-scale-lr", "--work-dir", str(tmp_path), "--cfg-options", *opts]))
    wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(wrapper, runner.auto_scale_lr)
    # AdamW lr 4e-3 in the demo config, total batch 2 (1 process x 2) against 8.
    assert wrapper.param_groups[0]["lr"] == pytest.approx(4e-3 * 2 / 8)


def test_tensorboard_switch(monkeypatch):
    from mmengine.config import Config
    from voxclip.engine import distributed

    cfg = Config(dict(tensorboard=True))
    distributed.configure_visualizer(cfg)
    assert [b["type"] for b in cfg.visualizer.vis_backends] == ["LocalVisBackend", "TensorboardVisBackend"]
    off = Config(dict(tensorboard=False))
    distributed.configure_visualizer(off)
    assert "visualizer" not in off  # mmengine's default (LocalVisBackend) stays
    real_find_spec = distributed.importlib.util.find_spec
    monkeypatch.setattr(distributed.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real_find_spec(name, *a))
    with pytest.raises(ValueError, match=r"pip install 'voxclip\[tensorboard\]'"):
        distributed.configure_visualizer(Config(dict(tensorboard=True)))


@pytest.mark.parametrize("script, env, args, expect", [
    ("dist_train.sh", dict(NNODES="2", NODE_RANK="1", MASTER_ADDR="10.1.2.3", MASTER_PORT="29611"), ["4", "--sync-bn"],
     "-m torch.distributed.run --nnodes 2 --node-rank 1 --nproc-per-node 4 --master-addr 10.1.2.3 --master-port 29611 "
     f"{REPO}/tools/train.py {CONFIG} --launcher pytorch --sync-bn"),
    ("dist_train.sh", {}, ["2"], "--nnodes 1 --node-rank 0 --nproc-per-node 2 --master-addr 127.0.0.1 --master-port 29500"),
    ("slurm_train.sh", dict(GPUS="16", GPUS_PER_NODE="8"), [],
     "srun -p part --job-name=job --gres=gpu:8 --ntasks=16 --ntasks-per-node=8 --cpus-per-task=8"),
])
def test_launch_scripts_build_the_documented_command(script, env, args, expect):
    argv = ["part", "job", CONFIG] if script == "slurm_train.sh" else [CONFIG]
    run = subprocess.run(["bash", str(REPO / "tools" / script), *argv, *args], capture_output=True, text=True,
                         env=dict(os.environ, DRY_RUN="1", **env), timeout=30)
    assert run.returncode == 0, run.stderr
    assert expect in run.stdout, run.stdout


def test_launch_scripts_refuse_bad_arguments():
    run = subprocess.run(["bash", str(REPO / "tools/dist_train.sh"), CONFIG, "2"], capture_output=True, text=True,
                         env=dict(os.environ, DRY_RUN="1", NNODES="2", NODE_RANK="2"), timeout=30)
    assert run.returncode == 2 and "NODE_RANK=2 must be below NNODES=2" in run.stderr
    run = subprocess.run(["bash", str(REPO / "tools/dist_train.sh"), "no_such.py", "x"], capture_output=True,
                         text=True, env=dict(os.environ, DRY_RUN="1"), timeout=30)
    assert run.returncode == 2 and "GPUS_PER_NODE must be a non-negative integer" in run.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_on_localhost_end_with_identical_weights(prepared_scannet, tmp_path):
    """`torchrun --nnodes 2 --node-rank {0,1}` (the README's multi-node command, one process per node)."""
    pytest.importorskip("tensorboard", reason="tensorboard (pip install voxclip[tensorboard]) not installed")
    port = _free_port()
    opts = tiny_options(prepared_scannet, epochs=1) + [
        "train_dataloader.dataset.indices=4", "auto_scale_lr.base_batch_size=8", "tensorboard=True",
        "default_hooks.checkpoint.interval=100"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    procs = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank", str(rank),
         "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", str(port),
         str(REPO / "tests/multinode_worker.py"), str(tmp_path), CONFIG, "--launcher", "pytorch",
         "--auto-scale-lr", "--work-dir", str(tmp_path / "work"), "--cfg-options", *opts],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    outs = []
    for p in procs:
        try:
            outs.append(p.communicate(timeout=600)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outs)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world_size"] == r1["world_size"] == 2
    assert r0["after"].keys() == r1["after"].keys()
    changed = 0
    for name, value in r0["after"].items():
        assert torch.equal(value, r1["after"][name]), name  # DDP: the same averaged gradients everywhere
        changed += not torch.equal(value, r0["before"][name])
    assert changed > len(r0["after"]) // 2  # and training did move them
    # 4 scenes over 2 ranks, batch 2 per rank: 1 iteration each; lr 4e-3 x (2 x 2) / 8
    assert [r["iter"] for r in logged_scalars(tmp_path / "work")] == [1]
    assert r0["lr"] == pytest.approx(4e-3 * 4 / 8)
    assert list((tmp_path / "work").glob("*/vis_data/events.out.tfevents.*")), "no TensorBoard event file"
