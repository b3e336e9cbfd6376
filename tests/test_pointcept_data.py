"""Pointcept preprocessed ScanNet: voxclip's prepared scenes exported to it and read back give the
same points, labels and boxes as tools/prepare_scannet.py wrote; a hand-made Pointcept scene reads."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


def test_export_and_read_back(prepared_scannet, tmp_path):
    import export_pointcept

    from voxclip.registry import DATASETS

    out = tmp_path / "pointcept"
    assert export_pointcept.main([str(prepared_scannet), str(out)]) == {"train": 6, "val": 2}
    scene = sorted(p.name for p in (out / "val").iterdir())[0]
    src = prepared_scannet / "scans" / scene
    assert sorted(p.name for p in (out / "val" / scene).iterdir()) == [
        "color.npy", "coord.npy", "instance.npy", "normal.npy", "segment20.npy"]
    inst = np.load(out / "val" / scene / "instance.npy")
    assert np.array_equal(inst, np.load(src / "instance.npy") - 1) and inst.min() >= -1
    seg = DATASETS.build(dict(type="PointceptScanNetSegmentation", data_root=str(out), split="val"))
    ref = DATASETS.build(dict(type="ScanNetSegmentation", data_root=str(prepared_scannet), split="val"))
    assert len(seg) == len(ref) == 2
    a, b = seg.load_sample(seg.get_data_info(0)), ref.load_sample(ref.get_data_info(0))
    assert np.array_equal(a["points"], b["points"]) and np.array_equal(a["semantic"], b["semantic"])
    det = DATASETS.build(dict(type="PointceptScanNetDetection", data_root=str(out), split="val"))
    refd = DATASETS.build(dict(type="ScanNetDetection", data_root=str(prepared_scannet), split="val"))
    for i in range(2):
        x, y = det.load_sample(det.get_data_info(i)), refd.load_sample(refd.get_data_info(i))
        assert len(y["gt_boxes"]) > 0
        assert np.allclose(x["gt_boxes"], y["gt_boxes"], atol=1e-5) and np.array_equal(x["gt_labels"], y["gt_labels"])
        assert np.array_equal(x["gt_instance_ids"], y["gt_instance_ids"]) and np.array_equal(x["instance"], y["instance"])


def test_hand_made_pointcept_scene(tmp_path):
    from voxclip.classes import SCANNET_DET_CLASSES
    from voxclip.interop.pointcept_data import PointceptScanNetDetection

    d = tmp_path / "train" / "scene0001_00"
    d.mkdir(parents=True)
    coord = np.array([[0, 0, 0], [1, 2, 1], [5, 5, 0], [6, 5, 2], [3, 3, 3]], np.float32)
    np.save(d / "coord.npy", coord)
    np.save(d / "color.npy", np.zeros((5, 3), np.uint8))
    np.save(d / "segment20.npy", np.array([4, 4, 3, 3, 0]))  # chair, chair, bed, bed, wall
    np.save(d / "instance.npy", np.array([0, 0, 7, 7, -1]))
    ds = PointceptScanNetDetection(str(tmp_path), split="train")
    s = ds.load_sample(ds.get_data_info(0))
    names = [SCANNET_DET_CLASSES[c] for c in s["gt_labels"]]
    assert names == ["chair", "bed"]
    assert np.allclose(s["gt_boxes"], [[0.5, 1, 0.5, 1, 2, 1, 0], [5.5, 5, 1, 1, 0, 2, 0]])
    assert s["instance"].tolist() == [1, 1, 8, 8, 0]
    with pytest.raises(FileNotFoundError, match="val: split folder missing"):
        PointceptScanNetDetection(str(tmp_path), split="val")
