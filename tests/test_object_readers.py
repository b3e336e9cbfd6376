"""Object dataset readers on hand-written files in the released formats, and on corrupt ones (one
clear error naming the file); tools/prepare_objects.py (bad files listed, nothing written; FPS cache)."""
import json
import re
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from voxclip.datasets.objects import (ObjectClassification, ObjectDataError, read_modelnet40_h5, read_modelnet40_txt,
                                      read_prepared, read_scanobjectnn, read_shapenet55)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


def _modelnet_txt(root: Path) -> Path:
    """2 classes, 3 objects: y-up lines x,y,z,nx,ny,nz as in modelnet40_normal_resampled."""
    (root / "cup").mkdir(parents=True)
    (root / "desk").mkdir()
    (root / "modelnet40_shape_names.txt").write_text("cup\ndesk\n")
    (root / "modelnet40_train.txt").write_text("cup_0001\ndesk_0001\n")
    (root / "modelnet40_test.txt").write_text("desk_0002\n")
    (root / "cup" / "cup_0001.txt").write_text("1.0,0.0,0.0,0.0,1.0,0.0\n-1.0,0.0,0.0,0.0,1.0,0.0\n0.0,2.0,0.0,1.0,0.0,0.0\n")
    (root / "desk" / "desk_0001.txt").write_text("0,0,0,0,0,1\n0,0,4,0,0,1\n")
    (root / "desk" / "desk_0002.txt").write_text("0,1,0,0,0,1\n0,3,0,0,0,1\n")
    return root


def test_modelnet40_txt_reads_z_up_and_normalised(tmp_path):
    s = read_modelnet40_txt(str(_modelnet_txt(tmp_path / "mn")), "train", use_normals=True)
    assert s.ids == ["cup_0001", "desk_0001"] and s.labels.tolist() == [0, 1] and s.class_names == ("cup", "desk")
    # cup: centroid (0, 2/3, 0); radius = distance of (0,2,0) = 4/3; y-up (x, y, z) -> z-up (x, -z, y)
    want = np.array([[1, 0, -2 / 3], [-1, 0, -2 / 3], [0, 0, 4 / 3]]) / (4 / 3)
    np.testing.assert_allclose(s.points[0][:, :3], want, atol=1e-6)
    np.testing.assert_allclose(s.points[0][:, 3:], [[0, 0, 1], [0, 0, 1], [1, 0, 0]], atol=1e-6)
    # desk: normal (0,0,1) y-up -> (0,-1,0) z-up
    np.testing.assert_allclose(s.points[1][:, 3:], [[0, -1, 0], [0, -1, 0]], atol=1e-6)


@pytest.mark.parametrize("content,needle", [("1,2,3\n", "expected (N, 6)"), ("1,2,x,4,5,6\n", "not comma-separated"),
                                            ("nan,0,0,0,0,1\n", "non-finite"), ("", "expected (N, 6)")])
def test_modelnet40_txt_corrupt_file_is_named(tmp_path, content, needle):
    root = _modelnet_txt(tmp_path / "mn")
    bad = root / "desk" / "desk_0001.txt"
    bad.write_text(content)
    with pytest.raises(ObjectDataError, match=re.escape(needle)) as err:
        read_modelnet40_txt(str(root), "train")
    assert str(err.value).startswith(str(bad))


def test_modelnet40_txt_missing_listed_file_and_unknown_class(tmp_path):
    root = _modelnet_txt(tmp_path / "mn")
    (root / "cup" / "cup_0001.txt").unlink()
    with pytest.raises(ObjectDataError, match="cup_0001.txt: file missing"):
        read_modelnet40_txt(str(root), "train")
    (root / "modelnet40_test.txt").write_text("chair_0001\n")
    with pytest.raises(ObjectDataError, match="unknown class 'chair'"):
        read_modelnet40_txt(str(root), "test")


def _h5(path: Path, **arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=v)


def test_modelnet40_h5(tmp_path):
    root = tmp_path / "modelnet40_ply_hdf5_2048"
    data = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    _h5(root / "ply_data_train0.h5", data=data, label=np.array([[1], [0]], np.uint8), normal=np.ones_like(data))
    (root / "shape_names.txt").write_text("cup\ndesk\n")
    (root / "train_files.txt").write_text("data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\n")
    s = read_modelnet40_h5(str(root), "train", use_normals=True)
    assert s.labels.tolist() == [1, 0] and s.ids == ["ply_data_train0_0000", "ply_data_train0_0001"]
    x, y, z = data[1].T
    np.testing.assert_allclose(s.points[1][:, :3], np.stack([x, -z, y], 1))
    np.testing.assert_allclose(s.points[1][:, 3:], np.tile([1, -1, 1], (4, 1)))
    _h5(root / "ply_data_train0.h5", data=data, label=np.array([[1], [7]], np.uint8))
    with pytest.raises(ObjectDataError, match=r"ply_data_train0.h5: labels outside \[0, 2\)"):
        read_modelnet40_h5(str(root), "train")
    (root / "ply_data_train0.h5").write_bytes(b"\x89HDF\r\n truncated")
    with pytest.raises(ObjectDataError, match="ply_data_train0.h5: cannot read HDF5"):
        read_modelnet40_h5(str(root), "train")


def test_scanobjectnn_three_variants_and_corrupt(tmp_path):
    root = tmp_path / "h5_files"
    pts = np.zeros((3, 5, 3), np.float32)
    pts[:, :, 1] = np.arange(5)  # y up
    for folder, stem, value in (("main_split", "objectdataset", 0), ("main_split_nobg", "objectdataset", 1),
                                ("main_split", "objectdataset_augmentedrot_scale75", 2)):
        _h5(root / folder / f"training_{stem}.h5", data=pts + value, label=np.array([0, 14, value]),
            mask=np.full((3, 5), -1, np.int32))
    for variant, value in (("OBJ_BG", 0), ("OBJ_ONLY", 1), ("PB_T50_RS", 2)):
        s = read_scanobjectnn(str(root), variant, "train")
        assert s.labels.tolist() == [0, 14, value] and s.class_names[14] == "toilet"
        np.testing.assert_allclose(s.points[0][:, 2], np.arange(5) + value)  # y became z
        np.testing.assert_allclose(s.points[0][:, 1], -value)
        assert s.masks[0].tolist() == [-1] * 5
    _h5(root / "main_split" / "training_objectdataset.h5", data=pts, mask=np.zeros((3, 5)))
    with pytest.raises(ObjectDataError, match=r"training_objectdataset.h5: datasets \['label'\] missing"):
        read_scanobjectnn(str(root), "OBJ_BG", "train")
    _h5(root / "main_split" / "training_objectdataset.h5", data=pts, label=np.zeros(3), mask=np.zeros((3, 4)))
    with pytest.raises(ObjectDataError, match="'mask' must be"):
        read_scanobjectnn(str(root), "OBJ_BG", "train")
    with pytest.raises(ObjectDataError, match="test_objectdataset.h5: file missing"):
        read_scanobjectnn(str(root), "OBJ_BG", "test")


def _shapenet(root: Path) -> Path:
    (root / "shapenet_pc").mkdir(parents=True)
    (root / "ShapeNet-55").mkdir()
    np.save(root / "shapenet_pc" / "03001627-aaa.npy", np.array([[0, 0, 0], [0, 2, 0]], np.float32))
    np.save(root / "shapenet_pc" / "02691156-bbb.npy", np.array([[1, 0, 0], [3, 0, 0]], np.float32))
    (root / "ShapeNet-55" / "train.txt").write_text("03001627-aaa.npy\n02691156-bbb.npy\n")
    (root / "ShapeNet-55" / "test.txt").write_text("")
    return root


def test_shapenet55(tmp_path):
    root = _shapenet(tmp_path / "sn")
    s = read_shapenet55(str(root), "train")
    assert s.ids == ["03001627-aaa", "02691156-bbb"] and s.labels.tolist() == [1, 0]
    np.testing.assert_allclose(s.points[0], [[0, 0, -1], [0, 0, 1]], atol=1e-6)  # centred, radius 1, z up
    np.save(root / "shapenet_pc" / "02691156-bbb.npy", np.zeros((4, 2), np.float32))
    with pytest.raises(ObjectDataError, match=r"02691156-bbb.npy: expected \(N, 3\)"):
        read_shapenet55(str(root), "train")
    (root / "shapenet_pc" / "02691156-bbb.npy").write_bytes(b"not npy")
    with pytest.raises(ObjectDataError, match="02691156-bbb.npy: cannot read"):
        read_shapenet55(str(root), "train")


def _brute_force_fps_ok(points: np.ndarray, chosen: np.ndarray) -> bool:
    """Every chosen point after the first is a farthest point from the ones chosen before it."""
    for i in range(1, len(chosen)):
        d = np.min(np.linalg.norm(points[:, None] - chosen[None, :i], axis=-1), axis=1)
        mine = np.min(np.linalg.norm(chosen[i] - chosen[:i], axis=-1))
        if mine < d.max() - 1e-5:
            return False
    return True


def test_prepare_objects_writes_fps_cache_and_refuses_bad_files(tmp_path):
    import prepare_objects as tool

    root = tmp_path / "mn"
    (root / "cup").mkdir(parents=True)
    (root / "modelnet40_shape_names.txt").write_text("cup\n")
    rng = np.random.default_rng(0)
    clouds = {}
    for sid in ("cup_0001", "cup_0002"):
        pts = rng.normal(size=(40, 3))
        clouds[sid] = pts
        (root / "cup" / f"{sid}.txt").write_text("".join(f"{x:.6f},{y:.6f},{z:.6f},0,0,1\n" for x, y, z in pts))
    (root / "modelnet40_train.txt").write_text("cup_0001\ncup_0002\n")
    (root / "modelnet40_test.txt").write_text("cup_0002\n")
    out = tmp_path / "prep"
    assert tool.main(["modelnet40", str(root), str(out), "--num-points", "8", "--workers", "1", "--no-progress"]) == 0
    s = read_prepared(str(out), "train")
    assert s.ids == ["cup_0001", "cup_0002"] and np.asarray(s.points).shape == (2, 8, 3)
    raw = read_modelnet40_txt(str(root), "train", use_normals=False)
    for i in range(2):
        # every cached point is one of the object's points, and the order is a farthest-point order
        d = np.linalg.norm(s.points[i][:, None] - raw.points[i][None], axis=-1).min(1)
        assert d.max() < 1e-5
        assert _brute_force_fps_ok(raw.points[i], np.asarray(s.points[i]))
    # two bad files: both named, exit 1, nothing written (the previous cache stays as it was)
    (root / "cup" / "cup_0001.txt").write_text("1,2\n")
    (root / "cup" / "cup_0002.txt").unlink()
    before = (out / "train_points.npy").read_bytes()
    out2 = tmp_path / "prep2"
    assert tool.main(["modelnet40", str(root), str(out2), "--workers", "1", "--no-progress"]) == 1
    assert not out2.exists()
    assert tool.main(["modelnet40", str(root), str(out), "--workers", "1", "--no-progress", "--overwrite"]) == 1
    assert (out / "train_points.npy").read_bytes() == before
    assert tool.main(["modelnet40", str(root), str(out), "--no-progress"]) == 2  # exists, no --overwrite


def test_prepared_cache_feeds_the_dataset(tmp_path):
    import prepare_objects as tool

    root = _modelnet_txt(tmp_path / "mn")
    out = tmp_path / "prep"
    assert tool.main(["modelnet40", str(root), str(out), "--num-points", "4", "--normals", "--workers", "1",
                      "--no-progress"]) == 0
    assert json.loads((out / "index.json").read_text())["channels"] == 6
    ds = ObjectClassification(str(out), "train", pipeline=[])
    item = ds[1]
    assert ds.metainfo["classes"] == ("cup", "desk") and item["gt_labels"].tolist() == [1]
    assert item["points"].shape == (4, 3) and item["normals"].shape == (4, 3)
    lo, hi = item["points"].min(0), item["points"].max(0)
    np.testing.assert_allclose(item["gt_boxes"][0, 3:6], hi - lo, atol=1e-6)
    with pytest.raises(ObjectDataError, match="index.json: prepared object index missing"):
        ObjectClassification(str(tmp_path / "nowhere"), "train")


def test_synthetic_objects_in_every_format_read_back(tmp_path):
    from data_prep.synthetic.object_writers import make_objects_demo

    done = make_objects_demo(tmp_path, ("modelnet40_h5", "scanobjectnn", "shapenet55"), train_per_class=2,
                             test_per_class=1, num_points=256)
    h5 = read_modelnet40_h5(str(done["modelnet40_h5"]), "train", use_normals=True)
    assert len(h5) == 20 and np.bincount(h5.labels).tolist() == [2] * 10 and h5.points[0].shape == (256, 6)
    bg = read_scanobjectnn(str(done["scanobjectnn"]), "OBJ_BG", "test")
    only = read_scanobjectnn(str(done["scanobjectnn"]), "OBJ_ONLY", "test")
    hard = read_scanobjectnn(str(done["scanobjectnn"]), "PB_T50_RS", "test")
    assert len(bg) == len(only) == len(hard) == 12 and bg.labels.tolist() == only.labels.tolist()
    assert (bg.masks[0] == -1).mean() > 0.2 and (only.masks[0] == 0).all()  # background only in OBJ_BG
    assert not np.allclose(bg.points[0], hard.points[0])  # perturbed copies
    sn = read_shapenet55(str(done["shapenet55"]), "train")
    assert len(sn) == 16 and sn.class_names[0] == "bathtub" and sn.points[0].shape == (256, 3)
    # z up after the reader: objects stand on their base (a bed is wider than tall)
    bed = sn.points[2]
    ext = bed.max(0) - bed.min(0)
    assert ext[2] < max(ext[0], ext[1])


def test_shapenetpart_reader(tmp_path):
    from voxclip.datasets.objects import read_shapenetpart

    root = tmp_path / "shapenetcore_partanno_segmentation_benchmark_v0_normal"
    (root / "02691156").mkdir(parents=True)
    (root / "03001627").mkdir()
    (root / "train_test_split").mkdir()
    (root / "synsetoffset2category.txt").write_text("Airplane\t02691156\nChair\t03001627\n")
    (root / "03001627" / "m1.txt").write_text("0 0 0 0 1 0 12.000000\n0 2 0 0 1 0 13.000000\n")
    (root / "train_test_split" / "shuffled_train_file_list.json").write_text(json.dumps(["shape_data/03001627/m1"]))
    s = read_shapenetpart(str(root), "train")
    assert s.labels.tolist() == [1] and s.ids == ["03001627/m1"] and s.class_names == ("Airplane", "Chair")
    assert s.extra["parts"][0].tolist() == [12, 13]
    np.testing.assert_allclose(s.points[0][:, :3], [[0, 0, -1], [0, 0, 1]], atol=1e-6)  # y up -> z up
    np.testing.assert_allclose(s.points[0][:, 3:], [[0, 0, 1], [0, 0, 1]], atol=1e-6)
    (root / "03001627" / "m1.txt").write_text("0 0 0 0 1 0 12.5\n")
    with pytest.raises(ObjectDataError, match=r"m1.txt: part ids must be integers"):
        read_shapenetpart(str(root), "train")
    (root / "train_test_split" / "shuffled_train_file_list.json").write_text(json.dumps(["shape_data/0000/x"]))
    with pytest.raises(ObjectDataError, match="shuffled_train_file_list.json: bad entry"):
        read_shapenetpart(str(root), "train")
