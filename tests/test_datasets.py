"""ScanNet datasets over hand-written processed scenes, sparse_collate, mmengine integration."""
import json
import math
import os

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from voxclip.datasets import ScanNetDetection, ScanNetSegmentation, sparse_collate
from voxclip.classes import SCANNET_DET_CLASSES

VS = 0.1
# box label (detection class index) of each synthetic object and its segment20 class
OBJECTS = [(2, 4), (4, 6), (0, 2)]  # chair, table, cabinet


def write_scene(root, scene_id, seed):
    """One processed scene in the exact architecture.md format: floor + 3 box-shaped objects.

    Returns the arrays written (for independent checks).
    """
    rng = np.random.default_rng(seed)
    d = os.path.join(root, "scans", scene_id)
    os.makedirs(d, exist_ok=True)
    floor = np.c_[rng.uniform(0, 4, (300, 2)), rng.normal(0, 0.002, 300)]
    coords, inst, seg20, nyu = [floor], [np.zeros(300)], [np.full(300, 1)], [np.full(300, 2)]
    for k, (_, seg) in enumerate(OBJECTS):
        lo = np.array([0.3 + k * 1.2, rng.uniform(0.5, 2), 0.0])
        size = rng.uniform(0.4, 1.0, 3)
        n = 150 + 10 * k
        coords.append(lo + rng.uniform(0, 1, (n, 3)) * size)
        inst.append(np.full(n, k + 1))
        seg20.append(np.full(n, seg))
        nyu.append(np.full(n, 5))
    coord = np.concatenate(coords).astype(np.float32) + rng.normal(0, 1e-3, 3).astype(np.float32)
    instance = np.concatenate(inst).astype(np.int32)
    boxes = []
    for k in range(len(OBJECTS)):  # axis-aligned min/max, by brute force over the instance's points
        p = coord[instance == k + 1].astype(np.float64)
        lo, hi = p.min(0), p.max(0)
        boxes.append([*(lo + hi) / 2, *(hi - lo), 0.0])
    arrays = {
        "coord.npy": coord,
        "color.npy": rng.integers(0, 256, (len(coord), 3)).astype(np.uint8),
        "normal.npy": np.tile(np.array([0, 0, 1], np.float32), (len(coord), 1)),
        "segment_nyu40.npy": np.concatenate(nyu).astype(np.int16),
        "segment20.npy": np.concatenate(seg20).astype(np.int16),
        "instance.npy": instance,
        "boxes.npy": np.array(boxes, np.float32),
        "box_labels.npy": np.array([c for c, _ in OBJECTS], np.int64),
    }
    for name, arr in arrays.items():
        np.save(os.path.join(d, name), arr)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(dict(scene_id=scene_id, axis_align_matrix=np.eye(4).tolist(), num_points=len(coord),
                       box_instance_ids=list(range(1, len(OBJECTS) + 1))), f)
    return arrays


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = str(tmp_path_factory.mktemp("scannet_processed"))
    scenes = {f"scene{i:04d}_00": write_scene(r, f"scene{i:04d}_00", i) for i in range(3)}
    os.makedirs(os.path.join(r, "splits"))
    with open(os.path.join(r, "splits", "train.txt"), "w") as f:
        f.write("scene0000_00\nscene0001_00\n")
    with open(os.path.join(r, "splits", "val.txt"), "w") as f:
        f.write("scene0002_00\n")
    mean_sizes = [[i + 0.1, i + 0.2, i + 0.3] if i in (0, 2) else None for i in range(18)]
    with open(os.path.join(r, "index.json"), "w") as f:
        json.dump(dict(classes=list(SCANNET_DET_CLASSES), scenes={}, class_mean_sizes=mean_sizes), f)
    return r, scenes


def pipeline(num_points, train):
    aug = [dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
           dict(type="RandomRotateZ", degrees=5, box_mode="enclose"),
           dict(type="RandomScale", scale_range=(0.9, 1.1))] if train else []
    return [dict(type="PointSample", num_points=num_points), *aug, dict(type="NormalizeColor"),
            dict(type="HeightFeature"), dict(type="PointFeatures"), dict(type="Voxelize", voxel_size=VS),
            dict(type="PackInputs")]


def inside_aabb(points, box, eps=1e-4):
    c, s = box[:3], box[3:6]
    return (np.abs(points - c) <= s / 2 + eps).all(1)


def test_detection_item_matches_contract(root):
    r, scenes = root
    ds = ScanNetDetection(r, "val", pipeline(500, train=False), with_semantic=True, test_mode=True)
    assert len(ds) == 1 and ds.metainfo["classes"] == SCANNET_DET_CLASSES
    item = ds[0]
    src = scenes["scene0002_00"]
    assert item["points"].shape == (500, 3) and item["points"].dtype == torch.float32
    assert item["point_feats"].shape == (500, 4)
    assert item["voxel_coords"].dtype == torch.int32 and item["voxel_coords"].shape[1] == 3
    assert item["voxel_feats"].shape == (len(item["voxel_coords"]), 4)
    assert item["inverse"].dtype == torch.int64 and item["inverse"].max() < len(item["voxel_coords"])
    # no augmentation: boxes and labels are exactly the files'
    np.testing.assert_array_equal(item["gt_boxes"].numpy(), src["boxes.npy"])
    assert item["gt_labels"].tolist() == [c for c, _ in OBJECTS] and item["gt_labels"].dtype == torch.int64
    # per-point labels stay aligned with their points: look each sampled point up in the source
    lookup = {tuple(p): i for i, p in enumerate(src["coord.npy"].tolist())}
    rows = np.array([lookup[tuple(p)] for p in item["points"].tolist()])
    np.testing.assert_array_equal(item["instance"].numpy(), src["instance.npy"][rows])
    np.testing.assert_array_equal(item["semantic"].numpy(), src["segment20.npy"][rows])
    # features: colour in [-1, 1] from the source colours, then height above the 0.99th-percentile floor
    rgb = src["color.npy"][rows].astype(np.float64)
    np.testing.assert_allclose(item["point_feats"][:, :3].numpy(), rgb / 127.5 - 1, atol=1e-6)
    z = item["points"][:, 2].numpy().astype(np.float64)
    np.testing.assert_allclose(item["point_feats"][:, 3].numpy(), z - np.percentile(z, 0.99), atol=1e-5)
    assert item["meta"]["scene_id"] == "scene0002_00" and item["meta"]["voxel_size"] == VS


def test_augmented_instances_stay_in_their_boxes(root):
    r, _ = root
    ds = ScanNetDetection(r, "train", pipeline(400, train=True))
    np.random.seed(0)
    for _ in range(3):
        for idx in range(len(ds)):
            item = ds[idx]
            pts, inst = item["points"].numpy(), item["instance"].numpy()
            assert (item["gt_boxes"][:, 6] == 0).all()
            for k, box in enumerate(item["gt_boxes"].numpy()):
                assert inside_aabb(pts[inst == k + 1], box).all()


def test_class_subset_and_mean_sizes(root):
    r, _ = root
    ds = ScanNetDetection(r, "val", pipeline(100, train=False), class_names=("table", "chair"))
    assert ds.metainfo["classes"] == ("table", "chair")
    assert ds.metainfo["class_mean_sizes"] == [None, [2.1, 2.2, 2.3]]  # table is class 4, chair 2
    item = ds[0]
    assert item["gt_labels"].tolist() == [1, 0]  # chair -> 1, table -> 0, cabinet dropped
    with pytest.raises(ValueError, match="class_names"):
        ScanNetDetection(r, "val", [], class_names=("sofa", "spaceship"))


def test_segmentation_dataset(root):
    r, scenes = root
    ds = ScanNetSegmentation(r, "val", pipeline(300, train=False))
    item = ds[0]
    src = scenes["scene0002_00"]
    lookup = {tuple(p): i for i, p in enumerate(src["coord.npy"].tolist())}
    rows = np.array([lookup[tuple(p)] for p in item["points"].tolist()])
    np.testing.assert_array_equal(item["semantic"].numpy(), src["segment20.npy"][rows])
    assert item["gt_boxes"].shape == (0, 7) and "instance" not in item
    assert len(ds.metainfo["classes"]) == 20
    sub = ScanNetSegmentation(r, "val", pipeline(300, train=False), class_names=("chair", "floor"))[0]
    seg = src["segment20.npy"][np.array([lookup[tuple(p)] for p in sub["points"].tolist()])]
    expected = np.select([seg == 4, seg == 1], [0, 1], -1)  # chair is seg class 4, floor 1
    np.testing.assert_array_equal(sub["semantic"].numpy(), expected)


def test_sparse_collate_offsets_by_hand(root):
    r, _ = root
    ds = ScanNetDetection(r, "train", pipeline(250, train=True), with_semantic=True)
    np.random.seed(1)
    items = [ds[0], ds[1], ds[0]]
    batch = sparse_collate(items)
    inp, samples = batch["inputs"], batch["data_samples"]
    nv = [len(it["voxel_coords"]) for it in items]
    assert inp["coords"].shape == (sum(nv), 4) and inp["coords"].dtype == torch.int32
    assert inp["feats"].shape == (sum(nv), 4) and inp["points"].shape == (750, 3)
    assert inp["point_batch"].tolist() == [0] * 250 + [1] * 250 + [2] * 250
    offsets = [0, nv[0], nv[0] + nv[1]]  # hand-computed row offsets
    for b, it in enumerate(items):
        assert (inp["coords"][offsets[b]:offsets[b] + nv[b], 0] == b).all()
        np.testing.assert_array_equal(inp["inverse"][250 * b:250 * (b + 1)].numpy(), it["inverse"].numpy() + offsets[b])
    # every point's voxel row holds (its batch, floor(point / voxel size)): checked point by point
    rows = inp["coords"][inp["inverse"]].numpy()
    for i in range(0, 750, 7):
        p = inp["points"][i].tolist()
        assert rows[i].tolist() == [i // 250] + [math.floor(c / VS) for c in p]
    assert inp["voxel_size"].item() == pytest.approx(VS) and inp["voxel_size"].dtype == torch.float32
    assert len(samples) == 3 and set(samples[0]) == {"gt_boxes", "gt_labels", "gt_instance_ids", "instance", "semantic", "meta"}
    assert samples[1]["instance"] is items[1]["instance"]
    with pytest.raises(ValueError, match="voxel_size"):
        sparse_collate([items[0], dict(items[1], meta=dict(voxel_size=0.2))])


def test_mmengine_runner_builds_loader(root):
    from mmengine.runner import Runner
    r, _ = root
    cfg = dict(batch_size=2, num_workers=0, sampler=dict(type="DefaultSampler", shuffle=False),
               collate_fn=dict(type="sparse_collate"),
               dataset=dict(type="ScanNetDetection", data_root=r, split="train", pipeline=pipeline(128, True)))
    with DefaultScope.overwrite_default_scope("voxclip"):
        loader = Runner.build_dataloader(cfg, seed=0)
    batch = next(iter(loader))
    assert batch["inputs"]["coords"][:, 0].unique().tolist() == [0, 1]
    assert [s["meta"]["scene_id"] for s in batch["data_samples"]] == ["scene0000_00", "scene0001_00"]


def test_missing_inputs_give_clear_errors(root, tmp_path):
    r, _ = root
    with pytest.raises(FileNotFoundError, match="prepare_scannet.py") as e:
        ScanNetDetection(str(tmp_path / "nowhere"), "train", [])
    assert "nowhere" in str(e.value)
    with pytest.raises(FileNotFoundError, match=r"splits[/\\]test\.txt"):
        ScanNetDetection(r, "test", [])
    bad = tmp_path / "bad"
    os.makedirs(bad / "splits")
    (bad / "splits" / "train.txt").write_text("scene0000_00\nscene0009_00\n")
    write_scene(str(bad), "scene0000_00", 0)
    with pytest.raises(FileNotFoundError, match="scene0009_00"):
        ScanNetDetection(str(bad), "train", [])
    (bad / "splits" / "val.txt").write_text("scene0000_00\n")
    os.remove(bad / "scans" / "scene0000_00" / "color.npy")
    ds = ScanNetDetection(str(bad), "val", [], test_mode=True)
    with pytest.raises(FileNotFoundError, match="color.npy"):
        ds[0]
    np.save(bad / "scans" / "scene0000_00" / "color.npy", np.zeros((5, 3), np.uint8))
    with pytest.raises(ValueError, match=r"color\.npy: expected shape"):
        ds[0]
    (bad / "splits" / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="lists no samples"):
        ScanNetDetection(str(bad), "empty", [])


def test_box_instance_ids_follow_boxes_through_class_subset(root):
    # Each box's instance id must name the points whose min/max is that box (checked by brute force).
    r, scenes = root
    ds = ScanNetDetection(r, "train", pipeline(100000, train=False), class_names=("table", "chair"))
    item = ds[0]
    arr = scenes["scene0000_00"]
    ids = item["gt_instance_ids"].tolist()
    assert len(ids) == len(item["gt_boxes"]) == 2
    assert item["gt_labels"].tolist() == [1, 0]  # chair (file order first) -> 1, table -> 0
    for box, inst in zip(item["gt_boxes"].numpy(), ids):
        p = arr["coord.npy"][arr["instance.npy"] == inst].astype(np.float64)
        np.testing.assert_allclose(box[:3], (p.min(0) + p.max(0)) / 2, atol=1e-5)
        np.testing.assert_allclose(box[3:6], p.max(0) - p.min(0), atol=1e-5)
