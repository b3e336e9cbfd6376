"""SUN RGB-D preparation: conversions against hand-made cases, both layouts, bad inputs, the tool."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys

import numpy as np
import pytest

from data_prep.sunrgbd import (SunrgbdError, decode_depth, depth_to_upright_points,
                               parse_label_line, polygon_to_box, read_calib, read_export_sample,
                               read_raw_sample, rtilt_from_extrinsics, run)
from data_prep.sunrgbd.export import read_labels
from data_prep.sunrgbd.matio import read_numeric, read_string_cells
from data_prep.synthetic.sunrgbd import make_sunrgbd_demo
from voxclip.classes import SUNRGBD_DET_CLASSES

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import prepare_sunrgbd  # noqa: E402


def bev_corners(box):
    """Bird's-eye corners of a project-convention box, computed from first principles."""
    cx, cy, _, dx, dy, _, yaw = box
    c, s = math.cos(yaw), math.sin(yaw)
    return {(round(cx + c * a - s * b, 6), round(cy + s * a + c * b, 6))
            for a in (-dx / 2, dx / 2) for b in (-dy / 2, dy / 2)}


# ---------------------------------------------------------------- depth decoding / geometry
def test_decode_depth_bit_rotation_hand_values():
    stored = np.array([[8000, 36536, 8], [1, 0, 65528]], dtype=np.uint16)
    # 8000 = 1000 << 3 -> 1 m; 36536 = 4567 << 3; 8 -> 1 mm; 1 -> bit 0 rotates to bit 13
    # = 8192 mm -> clamped to 8 m; 0 stays invalid; 65528 = 8191 << 3 -> 8.191 m -> 8 m.
    want = np.array([[1.0, 4.567, 0.001], [8.0, 0.0, 8.0]], dtype=np.float32)
    got = decode_depth(stored)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="uint16"):
        decode_depth(stored.astype(np.int32))


def test_backprojection_one_pixel_by_hand():
    depth = np.zeros((3, 4), dtype=np.float32)
    depth[1, 2] = 2.0  # row 1, col 2 (0-based) -> toolbox pixel (u, v) = (3, 2)
    K = np.array([[100.0, 0, 2.5], [0, 200.0, 1.5], [0, 0, 1]])
    a = math.radians(30)
    Rtilt = np.array([[1, 0, 0], [0, math.cos(a), math.sin(a)], [0, -math.sin(a), math.cos(a)]])
    xyz, flat = depth_to_upright_points(depth, K, Rtilt)
    # camera: x = (3 - 2.5) * 2 / 100 = 0.01, y = (2 - 1.5) * 2 / 200 = 0.005, z = 2
    # depth frame (x, z, -y) = (0.01, 2, -0.005); then Rtilt by hand:
    want = [0.01, math.cos(a) * 2 + math.sin(a) * -0.005, -math.sin(a) * 2 + math.cos(a) * -0.005]
    np.testing.assert_allclose(xyz, [want], atol=1e-12)
    assert flat.tolist() == [2 * 3 + 1]  # column-major pixel index col * H + row


def test_backprojection_uses_toolbox_column_major_order():
    depth = np.zeros((2, 2), dtype=np.float32)
    depth[0, 1], depth[1, 0] = 1.0, 3.0
    xyz, flat = depth_to_upright_points(depth, np.eye(3), np.eye(3))
    assert flat.tolist() == [1, 2]  # (row 1, col 0) comes before (row 0, col 1)
    np.testing.assert_allclose(xyz[:, 1], [3.0, 1.0])  # forward = depth


def test_rtilt_from_extrinsics_hand_case():
    np.testing.assert_allclose(rtilt_from_extrinsics(np.eye(3)), np.eye(3))
    a = 0.3
    c, s = math.cos(a), math.sin(a)
    e = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # about the annotation's y (down) axis
    # ... is a rotation by -a about the upright z axis
    want = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    np.testing.assert_allclose(rtilt_from_extrinsics(np.hstack([e, np.zeros((3, 1))])), want,
                               atol=1e-12)


# ---------------------------------------------------------------- box conversions
@pytest.mark.parametrize("xs, zs, want", [
    # heading from the centre to the midpoint of p1-p2 is +x: yaw 0, dx = |p3-p2| = 2, dy = 1
    ([2, 2, 0, 0], [3.5, 2.5, 2.5, 3.5], [1, 3, 0.4, 2, 1, 1.2, 0.0]),
    # heading +y: yaw +pi/2 (counter-clockwise)
    ([1.5, 0.5, 0.5, 1.5], [4, 4, 2, 2], [1, 3, 0.4, 2, 1, 1.2, math.pi / 2]),
    # heading -x: yaw pi wraps to -pi
    ([0, 0, 2, 2], [2.5, 3.5, 3.5, 2.5], [1, 3, 0.4, 2, 1, 1.2, -math.pi]),
])
def test_polygon_to_box_hand_cases(xs, zs, want):
    box = polygon_to_box(xs, zs, ymin=-1.0, ymax=0.2)  # Y down: top at z=1.0, bottom at z=-0.2
    np.testing.assert_allclose(box, want, atol=1e-12)
    assert bev_corners(box) == {(round(x, 6), round(z, 6)) for x, z in zip(xs, zs)}


def test_polygon_to_box_rotated_corners_match():
    # a 1.6 x 0.6 rectangle, long side along (-1, -1)/sqrt(2), given in toolbox order
    h = np.array([-1.0, -1.0]) / math.sqrt(2)
    n = np.array([-h[1], h[0]])
    c = np.array([0.3, 2.0])
    pts = [c + h * 0.8 + n * 0.3, c + h * 0.8 - n * 0.3, c - h * 0.8 - n * 0.3, c - h * 0.8 + n * 0.3]
    box = polygon_to_box([p[0] for p in pts], [p[1] for p in pts], -0.5, 0.5)
    np.testing.assert_allclose(box[[0, 1, 3, 4, 6]], [0.3, 2.0, 1.6, 0.6, -3 * math.pi / 4],
                               atol=1e-12)
    assert bev_corners(box) == {(round(p[0], 6), round(p[1], 6)) for p in pts}
    with pytest.raises(ValueError, match=">= 3"):
        polygon_to_box([0, 1], [0, 1], 0, 1)


def test_label_line_half_sizes_and_heading_sign():
    name, box = parse_label_line("chair 10 20 30 40 1.0 2.0 0.5 0.3 0.6 0.45 0 1")
    # half sizes w=0.3 (across), l=0.6 (along (ox,oy)), h=0.45; (0,1) is +90 deg CCW, while
    # VoteNet's heading -atan2(oy, ox) would be -90 deg.
    assert name == "chair"
    np.testing.assert_allclose(box, [1.0, 2.0, 0.5, 1.2, 0.6, 0.9, math.pi / 2], atol=1e-12)
    # the long side (1.2) lies along +y: corners x in 1 +- 0.3, y in 2 +- 0.6
    assert bev_corners(box) == {(0.7, 1.4), (0.7, 2.6), (1.3, 1.4), (1.3, 2.6)}
    _, box = parse_label_line("night stand 0 0 1 1 0 0 0 0.2 0.25 0.3 0.707107 -0.707107")
    np.testing.assert_allclose(box[3:], [0.5, 0.4, 0.6, -math.pi / 4], atol=1e-6)
    with pytest.raises(ValueError, match="16 numbers"):
        parse_label_line("chair 1 2 3 4 0 0 0 1 1 1 1 0 0 1 1 0")
    with pytest.raises(ValueError, match="no direction"):
        parse_label_line("chair 1 2 3 4 0 0 0 1 1 1 0 0")


def test_empty_label_file_is_zero_boxes_and_calib_column_major(tmp_path):
    (tmp_path / "l.txt").write_text("")
    assert read_labels(tmp_path / "l.txt") == ([], [])
    # Rtilt must be a rotation (docs/reliability.md): 90 degrees about z, columns listed one after another
    (tmp_path / "c.txt").write_text("0 1 0 -1 0 0 0 0 1 \n10 0 0 0 20 0 3 4 1\n")
    Rtilt, K = read_calib(tmp_path / "c.txt")
    np.testing.assert_array_equal(Rtilt, [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(K, [[10, 0, 3], [0, 20, 4], [0, 0, 1]])


# ---------------------------------------------------------------- synthetic, both layouts
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("sun")
    gt = make_sunrgbd_demo(root / "demo", num_images=3, seed=7)
    outs = {}
    for layout in ("raw", "export"):
        outs[layout] = root / f"out_{layout}"
        _, results, _ = run(gt[layout], outs[layout], num_points=2000, progress=False)
        assert [r.status for r in results] == ["done"] * 3, results
    return gt, outs


def _scene_distance(points, scene):
    """Distance of each point to the nearest surface of the generated room/objects."""
    room = scene["room"]
    d = np.min(np.abs(np.stack([points[:, 0] - room["xmin"], room["xmax"] - points[:, 0],
                                points[:, 1] - room["ymin"], room["ymax"] - points[:, 1],
                                points[:, 2] - room["zmin"], room["zmax"] - points[:, 2]])), axis=0)
    for obj in scene["objects"]:
        c, s = math.cos(-obj["yaw"]), math.sin(-obj["yaw"])
        rel = points - obj["centre"]
        local = np.stack([c * rel[:, 0] - s * rel[:, 1], s * rel[:, 0] + c * rel[:, 1], rel[:, 2]], 1)
        q = np.abs(local) - obj["size"] / 2
        sdf = np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)
        d = np.minimum(d, np.abs(sdf))
    return d


def test_both_layouts_give_the_ground_truth(demo):
    gt, outs = demo
    for s in gt["samples"]:
        loaded = {}
        for layout, out in outs.items():
            d = out / "samples" / s["id"]
            meta = json.loads((d / "meta.json").read_text())
            loaded[layout] = {k: np.load(d / f"{k}.npy") for k in ("points", "boxes", "labels")}
            assert loaded[layout]["boxes"].dtype == np.float32
            assert loaded[layout]["labels"].dtype == np.int64
            np.testing.assert_allclose(loaded[layout]["boxes"], s["boxes"], atol=2e-5)
            assert [SUNRGBD_DET_CLASSES[i] for i in loaded[layout]["labels"]] == s["class_names"]
            assert meta["dropped_objects"] == s["dropped"] and meta["split"] == s["split"]
            assert len(loaded[layout]["points"]) == 2000 < meta["num_points_raw"]
        np.testing.assert_allclose(loaded["raw"]["points"], loaded["export"]["points"], atol=1e-5)
        # the converted raw depth lands on the generated surfaces (mm quantisation)
        assert _scene_distance(loaded["raw"]["points"][:, :3].astype(np.float64),
                               s["scene"]).max() < 3e-3
    for out in outs.values():
        index = json.loads((out / "index.json").read_text())
        assert index["splits"] == {"train": 2, "val": 1}
        assert (out / "splits" / "val.txt").read_text() == "000003\n"


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_give_clear_errors(demo, tmp_path):
    gt, _ = demo
    export = tmp_path / "export"
    shutil.copytree(gt["export"], export)
    (export / "calib" / "000001.txt").unlink()
    with pytest.raises(SunrgbdError, match=r"calib.000001\.txt: calibration file not found"):
        read_export_sample(export, "000001")
    (export / "depth" / "000002.mat").write_bytes(b"MATLAB 5.0 MAT-file garbage" * 10)
    with pytest.raises(SunrgbdError, match=r"000002\.mat: cannot read MAT file"):
        read_export_sample(export, "000002")
    (export / "label" / "000003.txt").write_text("chair 1 2 3 4 0 0 0 1 1 1 x 0\n")
    with pytest.raises(SunrgbdError, match=r"000003\.txt: line 1: non-numeric"):
        read_export_sample(export, "000003")

    folder = tmp_path / "raw"
    shutil.copytree(gt["raw"] / "SUNRGBD" / gt["samples"][0]["folder"], folder)
    (folder / "annotation3Dfinal" / "index.json").write_text("{not json")
    with pytest.raises(SunrgbdError, match=r"index\.json: invalid JSON"):
        read_raw_sample(folder, "x")
    shutil.rmtree(folder / "extrinsics")
    with pytest.raises(SunrgbdError, match=r"extrinsics: no extrinsics"):
        read_raw_sample(folder, "x")


def test_mat_v73_files_are_read_with_h5py(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("instance", data=np.arange(12.0).reshape(6, 2))  # MATLAB 2x6, transposed
        refs = f.create_group("#refs#")
        names = ["/n/fs/sun3d/data/SUNRGBD/kv1/a", "SUNRGBD/kv2/b/"]
        cells = []
        for i, name in enumerate(names):
            refs.create_dataset(str(i), data=np.array([ord(c) for c in name], np.uint16)[:, None])
            cells.append(refs[str(i)].ref)
        f.create_dataset("alltrain", data=np.array(cells, dtype=h5py.ref_dtype)[None, :])
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" "))
    np.testing.assert_array_equal(read_numeric(path, "instance"), np.arange(12.0).reshape(6, 2).T)
    assert read_string_cells(path, "alltrain") == names
    with pytest.raises(SunrgbdError, match="no variable 'alltest'"):
        read_string_cells(path, "alltest")


# ---------------------------------------------------------------- the tool
def test_tool_reports_failures_and_leaves_no_partial_files(demo, tmp_path, capsys):
    gt, _ = demo
    export = tmp_path / "export"
    shutil.copytree(gt["export"], export)
    (export / "depth" / "000002.mat").write_bytes(b"\x00corrupt")
    out = tmp_path / "out"
    rc = prepare_sunrgbd.main([str(export), str(out), "--quiet", "--workers", "2",
                               "--num-points", "500"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "FAILED 1 sample(s)" in err and "000002:" in err and "000002.mat" in err
    assert sorted(os.listdir(out / "samples")) == ["000001", "000003"]  # no temp or partial dir
    assert all((out / "samples" / i / "meta.json").is_file() for i in ("000001", "000003"))
    index = json.loads((out / "index.json").read_text())
    assert index["last_run"]["failed"][0]["id"] == "000002" and index["num_samples"] == 2
    # resumable: a second run skips finished samples and still fails on the broken one
    mtime = (out / "samples" / "000001" / "meta.json").stat().st_mtime_ns
    assert prepare_sunrgbd.main([str(export), str(out), "--quiet", "--shard", "0/1"]) == 1
    assert (out / "samples" / "000001" / "meta.json").stat().st_mtime_ns == mtime
    assert "0 converted, 2 already done, 1 failed" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        prepare_sunrgbd.parse_args(["a", "b", "--shard", "3/2"])
