"""SUNRGBDDetection: contract of its items, oriented boxes moving with the points, bad inputs, the
configs, and a short train + test run of the demo config on synthetic images."""
from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from data_prep.sunrgbd import run as prepare_sunrgbd
from data_prep.synthetic.sunrgbd import make_sunrgbd_demo
from voxclip.datasets import SUNRGBDDetection, sparse_collate
from voxclip.classes import SUNRGBD_DET_CLASSES
from voxclip.registry import DATASETS

REPO = Path(__file__).resolve().parents[1]
DEMO_CFG = REPO / "configs" / "demo" / "votenet_srunet_sunrgbd_demo.py"
PAPER_CFG = REPO / "configs" / "votenet" / "votenet_srunet34c_sunrgbd.py"


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(f"voxclip_tool_{name}", REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """9 synthetic images (6 train, 3 val) converted by the real preparation code."""
    base = tmp_path_factory.mktemp("sunrgbd")
    gen = make_sunrgbd_demo(base / "gen", num_images=9, seed=3, layouts=("export",))
    _, results, _ = prepare_sunrgbd(gen["export"], base / "out", progress=False)
    assert all(r.status == "done" for r in results)
    return base / "out"


def _tag(results: dict) -> dict:
    """First pipeline step of these tests: remember each point's row in points.npy."""
    results["pid"] = np.arange(len(results["points"]))
    results["extra_point_keys"] = ["pid"]
    return results


def _stash(results: dict) -> dict:
    """Step before PackInputs: keep the point ids in meta (PackInputs drops unknown keys)."""
    results["meta"]["pid"] = np.asarray(results["pid"])
    return results


def _with_tags(pipeline: list) -> list:
    assert pipeline[-1]["type"] == "PackInputs"
    return [_tag, *pipeline[:-1], _stash, pipeline[-1]]


def _sample_files(root: Path, sid: str):
    d = root / "samples" / sid
    return np.load(d / "points.npy"), np.load(d / "boxes.npy"), np.load(d / "labels.npy")


# ---------------------------------------------------------------- independent box geometry
def _local(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Points (N,3) in the box frame: translate, then rotate by -yaw about z (written out)."""
    d = points.astype(np.float64) - box[:3]
    c, s = math.cos(box[6]), math.sin(box[6])
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1)


def _inside(points: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    return (np.abs(_local(points, box)) <= box[3:6] / 2 + margin).all(1)


def _corners(box: np.ndarray) -> np.ndarray:
    c, s = math.cos(box[6]), math.sin(box[6])
    out = []
    for a in (-0.5, 0.5):
        for b in (-0.5, 0.5):
            for h in (-0.5, 0.5):
                lx, ly, lz = a * box[3], b * box[4], h * box[5]
                out.append([box[0] + c * lx - s * ly, box[1] + s * lx + c * ly, box[2] + lz])
    return np.array(out)


# ---------------------------------------------------------------- contract
def test_item_matches_contract_without_augmentation(data_root):
    cfg = Config.fromfile(str(PAPER_CFG))
    pipeline = _with_tags([dict(t, num_points=1500) if t["type"] == "PointSample" else t
                           for t in cfg.test_pipeline])
    ds = SUNRGBDDetection(str(data_root), split="train", pipeline=pipeline)
    ids = (data_root / "splits" / "train.txt").read_text().split()
    assert len(ds) == len(ids) == 6
    assert ds.metainfo["classes"] == SUNRGBD_DET_CLASSES
    item = ds[1]
    raw, boxes, labels = _sample_files(data_root, ids[1])
    assert item["meta"]["scene_id"] == ids[1]
    want = {"points": torch.float32, "point_feats": torch.float32, "voxel_coords": torch.int32,
            "voxel_feats": torch.float32, "inverse": torch.int64, "gt_boxes": torch.float32,
            "gt_labels": torch.int64}
    for key, dtype in want.items():
        assert item[key].dtype == dtype, key
    pid = item["meta"]["pid"]
    assert len(pid) == 1500 and len(set(pid.tolist())) == 1500  # a subset, no repeats
    pts = item["points"].numpy()
    np.testing.assert_array_equal(pts, raw[pid, :3])
    feats = item["point_feats"].numpy()
    assert feats.shape == (1500, 4)
    np.testing.assert_allclose(feats[:, :3], (raw[pid, 3:6] - 0.5) / 0.5, atol=1e-6)
    floor = np.sort(pts[:, 2])[int(0.0099 * 1499)]  # ~1% quantile, by sorting
    assert abs(float((pts[:, 2] - feats[:, 3]).mean()) - floor) < 0.02
    # voxels: floor(p / 2.5 cm), per-voxel mean of the point features (brute force)
    vs = 0.025
    cells = np.floor(pts.astype(np.float64) / vs).astype(np.int64)
    coords = item["voxel_coords"].numpy()
    np.testing.assert_array_equal(coords[item["inverse"].numpy()], cells)
    assert len(coords) == len({tuple(c) for c in cells})
    vfeats = item["voxel_feats"].numpy()
    for v in range(0, len(coords), 37):
        rows = [i for i in range(len(cells)) if tuple(cells[i]) == tuple(coords[v])]
        np.testing.assert_allclose(vfeats[v], feats[rows].mean(0), atol=1e-5)
    # no augmentation: boxes and labels exactly as stored
    np.testing.assert_allclose(item["gt_boxes"].numpy(), boxes, atol=1e-6)
    np.testing.assert_array_equal(item["gt_labels"].numpy(), labels)
    batch = sparse_collate([item, ds[0]])
    assert batch["inputs"]["coords"][:, 0].unique().tolist() == [0, 1]
    assert len(batch["data_samples"]) == 2


def test_class_subset_remaps_labels_and_mean_sizes(data_root):
    import json
    names = ("chair", "bed", "table", "night_stand")
    ds = SUNRGBDDetection(str(data_root), split="val", class_names=names,
                          pipeline=[dict(type="PointSample", num_points=500), dict(type="PointFeatures", keys=("colors",)),
                                    dict(type="Voxelize", voxel_size=0.05), dict(type="PackInputs")])
    index = json.loads((data_root / "index.json").read_text())
    sizes = ds.metainfo["class_mean_sizes"]
    assert [sizes[i] for i in range(len(names))] == [index["class_mean_sizes"][SUNRGBD_DET_CLASSES.index(n)]
                                                      for n in names]
    ids = (data_root / "splits" / "val.txt").read_text().split()
    for i, sid in enumerate(ids):
        _, boxes, labels = _sample_files(data_root, sid)
        want = [(j, names.index(SUNRGBD_DET_CLASSES[lab])) for j, lab in enumerate(labels)
                if SUNRGBD_DET_CLASSES[lab] in names]
        item = ds[i]
        assert item["gt_labels"].tolist() == [w[1] for w in want]
        np.testing.assert_allclose(item["gt_boxes"].numpy(), boxes[[w[0] for w in want]].reshape(-1, 7))


# ---------------------------------------------------------------- augmentation keeps boxes on points
def test_train_pipeline_moves_oriented_boxes_with_points(data_root):
    cfg = Config.fromfile(str(PAPER_CFG))
    pipeline = _with_tags([dict(t, num_points=2000) if t["type"] == "PointSample" else t
                           for t in cfg.train_pipeline])
    ds = DATASETS.build(dict(type="SUNRGBDDetection", data_root=str(data_root), split="train", pipeline=pipeline))
    ids = (data_root / "splits" / "train.txt").read_text().split()
    np.random.seed(7)
    flips, angles, inside_total, margin = set(), [], 0, 0.005
    for draw in range(12):
        i = draw % len(ds)
        raw, boxes, _ = _sample_files(data_root, ids[i])
        item = ds[i]
        aug, pid = item["meta"]["aug"], item["meta"]["pid"]
        before, after = raw[pid, :3].astype(np.float64), item["points"].numpy().astype(np.float64)
        out_boxes = item["gt_boxes"].numpy().astype(np.float64)
        assert out_boxes.shape == boxes.shape
        # the transform the points went through, rebuilt from the recorded draws
        flip = np.diag([-1.0 if aug["flip_x"] else 1.0, -1.0 if aug["flip_y"] else 1.0, 1.0])
        c, s = math.cos(aug["rotate_z"]), math.sin(aug["rotate_z"])
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        lin = aug["scale"] * rot @ flip
        np.testing.assert_allclose(after, before @ lin.T, atol=1e-4)
        assert not aug["flip_y"] and abs(aug["rotate_z"]) <= math.radians(30) + 1e-9
        assert 0.85 <= aug["scale"] <= 1.15
        flips.add(aug["flip_x"])
        angles.append(aug["rotate_z"])
        for b_in, b_out in zip(boxes.astype(np.float64), out_boxes):
            # same points inside (box grown by a margin that scales with the scene), both ways
            was_in = _inside(before, b_in, margin)
            assert _inside(after, b_out, margin * aug["scale"] + 1e-4)[was_in].all()
            assert not _inside(after, b_out, margin * aug["scale"] - 1e-4)[~was_in].any()
            inside_total += int(was_in.sum())
            # corners map onto corners, and the heading vector turns with the scene (yaw, not yaw + pi)
            moved = _corners(b_in) @ lin.T
            dist = np.linalg.norm(moved[:, None] - _corners(b_out)[None], axis=-1)
            assert dist.min(1).max() < 1e-4 and dist.min(0).max() < 1e-4
            head = lin @ np.array([math.cos(b_in[6]), math.sin(b_in[6]), 0.0])
            np.testing.assert_allclose([math.cos(b_out[6]), math.sin(b_out[6])], head[:2] / np.linalg.norm(head[:2]),
                                       atol=1e-5)
            assert -math.pi <= b_out[6] < math.pi
    assert flips == {True, False} and max(angles) > 0 > min(angles)
    assert inside_total > 500  # the membership check saw real object points


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_give_clear_errors(data_root, tmp_path):
    root = tmp_path / "bad"
    shutil.copytree(data_root, root)
    with pytest.raises(FileNotFoundError, match=r"splits[/\\]test\.txt: split list missing"):
        SUNRGBDDetection(str(root), split="test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SUNRGBDDetection(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="class_names"):
        SUNRGBDDetection(str(root), class_names=("chair", "lamp"))
    sid = (root / "splits" / "train.txt").read_text().split()[0]
    d = root / "samples" / sid
    ds = SUNRGBDDetection(str(root), split="train")
    pts = np.load(d / "points.npy")
    np.save(d / "points.npy", pts * np.array([1, 1, 1, 255, 255, 255], np.float32))  # rgb as 0-255
    with pytest.raises(ValueError, match=r"points\.npy: rgb outside \[0, 1\]"):
        ds[0]
    np.save(d / "points.npy", pts[:, :3])
    with pytest.raises(ValueError, match=r"points\.npy: expected shape \(N, 6\)"):
        ds[0]
    np.save(d / "points.npy", pts)
    labels = np.load(d / "labels.npy")
    np.save(d / "labels.npy", np.full_like(labels, 10))
    with pytest.raises(ValueError, match=r"labels\.npy: labels outside \[0, 10\)"):
        ds[0]
    os.remove(d / "labels.npy")
    with pytest.raises(FileNotFoundError, match=r"labels\.npy: file missing"):
        ds[0]
    shutil.rmtree(d)
    with pytest.raises(FileNotFoundError, match="sample folder"):
        SUNRGBDDetection(str(root), split="train")


# ---------------------------------------------------------------- configs
def test_paper_config_builds_votenet_with_12_bins_and_dataset_mean_sizes(data_root):
    import json

    from voxclip.engine import prepare_config
    from voxclip.registry import MODELS

    cfg = Config.fromfile(str(PAPER_CFG))
    assert cfg.num_points == 20000 and cfg.voxel_size == 0.025
    aug = {t["type"]: t for t in cfg.train_pipeline}
    assert aug["RandomRotateZ"]["degrees"] == 30.0 and aug["RandomRotateZ"]["box_mode"] == "rotate"
    assert tuple(aug["RandomScale"]["scale_range"]) == (0.85, 1.15) and aug["RandomFlip"]["heading"]
    assert cfg.train_dataloader.batch_size * 4 == cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.train_cfg.max_epochs == 180
    cfg.train_dataloader.dataset.data_root = str(data_root)
    prepare_config(cfg)
    head = MODELS.build(cfg.model).head
    index = json.loads((data_root / "index.json").read_text())
    assert head.coder.num_heading_bins == 12 and head.coder.num_size_clusters == 10
    for row, want in zip(head.coder.mean_sizes.tolist(), index["class_mean_sizes"]):
        np.testing.assert_allclose(row, want if want is not None else [1.0, 1.0, 1.0], rtol=1e-6)


def test_demo_config_trains_and_evaluates(data_root, tmp_path, capsys, monkeypatch):
    train, test = _load_tool("train"), _load_tool("test")
    work = tmp_path / "work"
    roots = [f"{k}.dataset.data_root={data_root}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")]
    schedule = ["train_cfg.max_epochs=2", "train_cfg.val_interval=2", "param_scheduler.0.end=1",
                "param_scheduler.1.begin=1", "param_scheduler.1.end=2", "param_scheduler.1.T_max=1",
                "train_dataloader.batch_size=3", "default_hooks.checkpoint.interval=1"]
    train.main([str(DEMO_CFG), "--work-dir", str(work), "--cfg-options", *roots, *schedule])
    ckpt = work / "epoch_2.pth"
    assert ckpt.is_file()
    metrics = test.main([str(DEMO_CFG), str(ckpt), "--work-dir", str(work), "--cfg-options", roots[2]])
    for key in ("mAP@0.25", "mAP@0.5"):
        assert key in metrics and math.isfinite(float(metrics[key])) and 0.0 <= float(metrics[key]) <= 1.0
    printed = capsys.readouterr().out
    assert re.search(r"mAP@0\.25: \d\.\d{4}  mAP@0\.5: \d\.\d{4}", printed)
    assert "night_stand" in printed
