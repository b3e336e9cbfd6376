"""kill -9 during training + `--resume` ends with the same weights, bit for bit, as a run that was
never interrupted (docs/reliability.md). Tiny runs: 3 train scenes, batch 1, 2 epochs, checkpoint
every epoch, validation after each epoch (it draws from the generators too)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import train as train_tool  # noqa: E402

CONFIG = str(REPO / "configs/demo/votenet_srunet_demo.py")


def tiny(data_root, workers):
    opts = []
    for split in ("train", "val", "test"):
        w = workers if split == "train" else 0
        opts += [f"{split}_dataloader.dataset.data_root={data_root}", f"{split}_dataloader.num_workers={w}",
                 f"{split}_dataloader.persistent_workers={w > 0}",
                 f"{split}_dataloader.dataset.pipeline.0.num_points=1000"]
    return opts + ["train_dataloader.batch_size=1", "train_dataloader.dataset.indices=3",
                   "val_dataloader.dataset.indices=1", "test_dataloader.dataset.indices=1",
                   "model.head.num_seeds=64", "model.head.num_proposals=16", "train_cfg.max_epochs=2",
                   "train_cfg.val_interval=1", "default_hooks.checkpoint.interval=1",
                   "default_hooks.checkpoint.save_best=None", "default_hooks.logger.interval=1",
                   "randomness.seed=0"]


def iter_based(data_root, workers):
    """The same run as an IterBasedTrainLoop (as configs/seg/ use): 6 iterations, InfiniteSampler,
    checkpoint and validation every 3 iterations."""
    opts = [o for o in tiny(data_root, workers) if not o.startswith(("train_cfg.", "default_hooks.checkpoint.interval"))]
    return opts + ["train_cfg._delete_=True", "train_cfg.type=IterBasedTrainLoop", "train_cfg.max_iters=6",
                   "train_cfg.val_interval=3", "train_dataloader.sampler.type=InfiniteSampler",
                   "default_hooks.checkpoint.by_epoch=False", "default_hooks.checkpoint.interval=3",
                   "log_processor.by_epoch=False"]


def final_state(work_dir: Path, name: str = "epoch_2.pth") -> dict:
    ckpt = torch.load(work_dir / name, map_location="cpu", weights_only=False)
    opt = ckpt["optimizer"]["state"]
    flat = {f"model/{k}": v for k, v in ckpt["state_dict"].items()}
    flat.update({f"opt/{i}/{k}": v for i, s in opt.items() for k, v in s.items() if torch.is_tensor(v)})
    return flat


def killed_then_resumed(data_root, work_dir: Path, workers: int, when: str, options=tiny,
                        saved="epoch_1.pth", last="epoch_2.pth") -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("VOXCLIP_DEBUG", None)
    args = [CONFIG, "--work-dir", str(work_dir), "--cfg-options", *options(data_root, workers)]
    proc = subprocess.run([sys.executable, str(REPO / "tests/kill_train.py"), when, *args],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert (work_dir / saved).is_file() and not (work_dir / last).exists()
    train_tool.main([CONFIG, "--work-dir", str(work_dir), "--resume", "--cfg-options", *options(data_root, workers)])
    return final_state(work_dir, last)


def assert_same(reference: dict, other: dict, what: str):
    assert reference.keys() == other.keys()
    differ = [k for k in reference if not torch.equal(reference[k], other[k])]
    assert not differ, f"{what}: {len(differ)} of {len(reference)} tensors differ, first {differ[:3]}"


def test_kill_and_resume_is_bit_exact(prepared_scannet, tmp_path):
    train_tool.main([CONFIG, "--work-dir", str(tmp_path / "ref"), "--cfg-options", *tiny(prepared_scannet, 0)])
    reference = final_state(tmp_path / "ref")
    # no workers, killed after the second iteration of epoch 2 (iteration 5 of 6)
    assert_same(reference, killed_then_resumed(prepared_scannet, tmp_path / "mid", 0, "iter:5"),
                "0 workers, killed mid-epoch")
    # 2 workers, killed right after epoch 1's checkpoint was written: also equal to the 0-worker run,
    # since every sample draws its augmentation from its own (seed, epoch, index) generator
    assert_same(reference, killed_then_resumed(prepared_scannet, tmp_path / "save", 2, "epoch:1"),
                "2 workers, killed after a save")


def test_iteration_based_kill_and_resume_is_bit_exact(prepared_scannet, tmp_path):
    train_tool.main([CONFIG, "--work-dir", str(tmp_path / "ref"), "--cfg-options", *iter_based(prepared_scannet, 0)])
    reference = final_state(tmp_path / "ref", "iter_6.pth")
    # killed after iteration 5; resumes from iter_3.pth (mmengine skips the 3 batches already used)
    assert_same(reference, killed_then_resumed(prepared_scannet, tmp_path / "k", 0, "iter:5", iter_based,
                                               "iter_3.pth", "iter_6.pth"), "iteration-based, killed mid-run")


def test_resume_without_checkpoint_is_an_error(prepared_scannet, tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="nothing to resume from"):
        train_tool.main([CONFIG, "--work-dir", str(tmp_path), "--resume", "--cfg-options",
                         *tiny(prepared_scannet, 0)])
    assert not list(tmp_path.glob("*.pth"))
