"""tools/infer.py on files of every supported format: JSON schema, pictures, .ply, frame warnings,
batch failure report. The checkpoint is a randomly initialised demo model saved in mmengine's layout
(state_dict + meta.cfg, where the resolved mean box sizes live)."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import infer  # noqa: E402

DET_CONFIG = "configs/demo/votenet_srunet_demo.py"
SEG_CONFIG = "configs/demo/seg_srunet_s3dis_demo.py"


def _random_checkpoint(config, path, data_root=None):
    from mmengine.config import Config

    from voxclip.engine import prepare_config
    from voxclip.registry import MODELS

    cfg = Config.fromfile(config)
    if data_root is not None:
        for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
            cfg[loader].dataset.data_root = str(data_root)
    prepare_config(cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({"meta": {"cfg": cfg.pretty_text}, "state_dict": model.state_dict()}, path)
    return str(path)


@pytest.fixture(scope="module")
def det_ckpt(prepared_scannet, tmp_path_factory):
    return _random_checkpoint(DET_CONFIG, tmp_path_factory.mktemp("ck") / "det.pth", prepared_scannet)


def _scene(prepared_scannet):
    d = prepared_scannet / "scans" / sorted(p.name for p in (prepared_scannet / "scans").iterdir())[0]
    return np.load(d / "coord.npy"), np.load(d / "color.npy")


def _write_ply(path, pts, cols):
    from plyfile import PlyData, PlyElement

    v = np.empty(len(pts), dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    for i, k in enumerate("xyz"):
        v[k] = pts[:, i]
    for i, k in enumerate(("red", "green", "blue")):
        v[k] = cols[:, i]
    PlyData([PlyElement.describe(v, "vertex")]).write(str(path))


def _corners(box):
    """Hand-written corner formula (independent of voxclip.structures.boxes)."""
    cx, cy, cz, dx, dy, dz, yaw = box
    out = []
    for sz in (-1, 1):
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            lx, ly = sx * dx / 2, sy * dy / 2
            out.append([cx + lx * math.cos(yaw) - ly * math.sin(yaw), cy + lx * math.sin(yaw) + ly * math.cos(yaw),
                        cz + sz * dz / 2])
    return np.array(out)


def test_infer_batch_of_formats(prepared_scannet, det_ckpt, tmp_path, capsys):
    from matplotlib.image import imread
    from plyfile import PlyData

    pts, cols = _scene(prepared_scannet)
    inp = tmp_path / "in"
    inp.mkdir()
    _write_ply(inp / "room.ply", pts, cols)
    np.savetxt(inp / "room_mm.txt", np.concatenate([pts * 1000, cols], 1), fmt="%.3f")
    np.save(inp / "room_yup.npy", np.stack([pts[:, 0], pts[:, 2], -pts[:, 1]], 1))  # a y-up export
    (inp / "broken.pcd").write_text("not a pcd\n")
    out = tmp_path / "out"
    rc = infer.main([DET_CONFIG, det_ckpt, str(inp), "--out", str(out), "--score-thr", "0"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "1 of 4 input(s) failed" in err and "broken.pcd" in err.split("failed:")[-1]
    assert "room_mm.txt" in err and "MILLIMETRES" in err and "--scale 0.001" in err
    assert "room_yup.npy" in err and "Y-UP" in err and "--up y" in err
    assert "room.ply" not in err.replace("room.ply -", "")  # the good file gets no warning
    data = json.loads((out / "room.json").read_text())
    assert data["task"] == "detection" and data["num_boxes"] == len(data["boxes"]) > 0
    scores = [b["score"] for b in data["boxes"]]
    assert scores == sorted(scores, reverse=True)
    for b in data["boxes"][:20]:
        assert set(b) == {"label", "class_name", "score", "box", "corners"} and len(b["box"]) == 7
        assert np.allclose(b["corners"], _corners(b["box"]), atol=1e-4)
    # .ply: every input point plus 8 corners per drawn box (at most 60 best)
    ply = PlyData.read(str(out / "room.ply"))
    assert ply["vertex"].count == len(pts) + 8 * min(60, data["num_boxes"])
    assert ply["edge"].count == 12 * min(60, data["num_boxes"])
    img = imread(out / "room_bev.png")
    assert img.shape[:2] == (660, 825) and (img[..., :3] < 0.95).mean() > 0.05
    # y-up input rotated back with --up y gives the z-up frame: no warning
    capsys.readouterr()
    assert infer.main([DET_CONFIG, det_ckpt, str(inp / "room_yup.npy"), "--out", str(tmp_path / "o2"), "--up", "y",
                       "--no-ply"]) == 0
    assert "Y-UP" not in capsys.readouterr().err and not list((tmp_path / "o2").glob("*.ply"))


def test_infer_segmentation_labels_every_input_point(prepared_scannet, tmp_path):
    ckpt = _random_checkpoint(SEG_CONFIG, tmp_path / "seg.pth")
    pts, cols = _scene(prepared_scannet)
    np.savez(tmp_path / "room.npz", coord=pts, color=cols)
    assert infer.main([SEG_CONFIG, ckpt, str(tmp_path / "room.npz"), "--out", str(tmp_path / "o")]) == 0
    labels = np.load(tmp_path / "o" / "room_labels.npy")
    meta = json.loads((tmp_path / "o" / "room.json").read_text())
    assert len(labels) == len(pts) and labels.min() >= 0 and labels.max() < 13
    assert sum(meta["points_per_class"].values()) == len(pts) and meta["task"] == "segmentation"
    from plyfile import PlyData

    assert PlyData.read(str(tmp_path / "o" / "room_seg.ply"))["vertex"].count == len(pts)


def test_read_point_cloud_errors_name_the_file(tmp_path):
    from voxclip.inference import read_point_cloud

    np.save(tmp_path / "bad.npy", np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"bad.npy: expected an \(N, 3\)"):
        read_point_cloud(str(tmp_path / "bad.npy"))
    (tmp_path / "x.obj").write_text("v 0 0 0\n")
    with pytest.raises(ValueError, match="x.obj: unsupported point-cloud format"):
        read_point_cloud(str(tmp_path / "x.obj"))
