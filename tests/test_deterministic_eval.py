"""Test-time sampling is deterministic: a scene's PointSample draws from (test_seed, crc32(scene_id)),
so evaluating a checkpoint gives one result whatever the batch size, order or global RNG state."""
import pickle
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

PIPE = [dict(type="PointSample", num_points=2000), dict(type="NormalizeColor"), dict(type="HeightFeature"),
        dict(type="PointFeatures"), dict(type="Voxelize", voxel_size=0.1), dict(type="PackInputs")]


def _ds(root, **kw):
    from voxclip.datasets.scannet import ScanNetDetection

    return ScanNetDetection(str(root), split="val", pipeline=PIPE, **kw)


def test_test_mode_sampling_is_seeded_per_scene(prepared_scannet):
    ds = _ds(prepared_scannet, test_mode=True)
    np.random.seed(1)
    a0, a1 = ds[0]["points"], ds[1]["points"]
    np.random.seed(2)
    b1, b0 = ds[1]["points"], ds[0]["points"]  # other order, other global state
    assert torch.equal(a0, b0) and torch.equal(a1, b1) and not torch.equal(a0[:100], a1[:100])
    # the subset is the one an independent generator (seed 0, crc32 of the scene id) picks
    info = ds.get_data_info(0)
    full = np.load(Path(info["sample_dir"]) / "coord.npy")
    idx = np.random.default_rng([0, zlib.crc32(info["scene_id"].encode())]).choice(len(full), 2000, replace=False)
    assert np.allclose(a0.numpy(), full[idx])
    # another seed, another subset; training mode keeps drawing fresh samples
    assert not torch.equal(_ds(prepared_scannet, test_mode=True, test_seed=5)[0]["points"], a0)
    train = _ds(prepared_scannet, test_mode=False)
    assert not torch.equal(train[0]["points"], train[0]["points"])


def test_checkpoint_gives_one_result_for_any_batch_size(prepared_scannet, tmp_path):
    import test as test_tool
    from test_infer import DET_CONFIG, _random_checkpoint

    ckpt = _random_checkpoint(DET_CONFIG, tmp_path / "det.pth", prepared_scannet)
    opts = [f"{k}.dataset.data_root={prepared_scannet}" for k in ("test_dataloader",)]
    runs = []
    for bs in (1, 2):
        out = tmp_path / f"p{bs}.pkl"
        test_tool.main([DET_CONFIG, ckpt, "--work-dir", str(tmp_path / f"w{bs}"), "--out", str(out), "--cfg-options",
                        *opts, f"test_dataloader.batch_size={bs}", "test_dataloader.num_workers=0",
                        "test_dataloader.persistent_workers=False"])
        with open(out, "rb") as f:
            runs.append(pickle.load(f))
    for p1, p2 in zip(runs[0]["predictions"], runs[1]["predictions"]):
        assert len(p1["boxes"]) == len(p2["boxes"]) > 0
        assert np.allclose(p1["boxes"], p2["boxes"], atol=1e-4) and np.allclose(p1["scores"], p2["scores"], atol=1e-5)
    assert [g["scene_id"] for g in runs[0]["ground_truths"]] == [g["scene_id"] for g in runs[1]["ground_truths"]]
