"""Pair extraction on generated ScanNet scenes: geometry against the ground-truth mesh, layout,
resume, failure reporting."""
import json
import os
import sys

import numpy as np
import pytest

from data_prep.scannet.pairs import find_scan_dirs, load_pair, shard
from data_prep.scannet.pairs_geometry import scale_intrinsic
from data_prep.synthetic.scannet import generate_scene, make_scannet_demo

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import extract_scannet_pairs as tool  # noqa: E402

SEED = 3
FX_COLOR = 1170.187988  # synthetic calibration at 1296 px wide (data_prep/synthetic/scannet.py)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    ids = make_scannet_demo(root, 2, SEED, num_test_scenes=1, frames=6, color_size=(160, 120),
                            depth_size=(80, 60), progress=False)
    return root, ids


@pytest.fixture(scope="module")
def extracted(raw, tmp_path_factory):
    root, ids = raw
    out = tmp_path_factory.mktemp("out")
    assert tool.main([str(root), str(out), "--frame-skip", "2", "--workers", "2",
                      "--no-progress"]) == 0
    return out


def test_layout_and_index(raw, extracted):
    _, ids = raw
    index = json.loads((extracted / "pairs" / "index.json").read_text())
    assert sorted(index["scenes"]) == sorted(ids)
    total = 0
    for sid, info in index["scenes"].items():
        frames = info["frames"]
        # frames 0, 2, 4 visited; the writer poisons some frames' poses with -inf
        assert set(frames) | set(range(0, 6, 2)) == set(range(0, 6, 2))
        assert len(frames) + info["skipped_invalid_pose"] == 3
        total += len(frames)
        for f in frames:
            p = load_pair(extracted / "pairs" / sid / f"{f:06d}.npz")
            assert p["color"].shape == (240, 320, 3) and p["color"].dtype == np.uint8
            assert p["depth"].shape == (60, 80) and p["depth"].dtype == np.uint16
            assert p["points"].shape == (len(p["pixel"]), 3)
    assert index["num_pairs"] == total > 0


def test_points_lie_on_aligned_mesh(raw, extracted):
    import open3d as o3d

    _, ids = raw
    for sid in ids:
        test_scene = sid == ids[-1]  # scans_test: no axisAlignment, so the raw frame is kept
        scene = generate_scene(sid, SEED, annotated=not test_scene)
        verts = scene.raw_vertices if test_scene else scene.vertices
        mesh = o3d.t.geometry.RaycastingScene()
        mesh.add_triangles(o3d.core.Tensor(verts.astype(np.float32)),
                           o3d.core.Tensor(scene.faces.astype(np.uint32)))
        frames = json.loads((extracted / "pairs" / sid / "meta.json").read_text())["frames"]
        for f in frames:
            p = load_pair(extracted / "pairs" / sid / f"{f:06d}.npz")
            d = mesh.compute_distance(o3d.core.Tensor(p["points"])).numpy()
            # depth is quantised to 1 mm; pose/points are float32
            assert len(d) > 100 and np.quantile(d, 0.99) < 4e-3 and d.max() < 2e-2, (sid, f)
            # camera centre of the aligned pose sees the points in front (+z of the camera)
            cam = (p["points"] - p["pose"][:3, 3]) @ p["pose"][:3, :3]
            z = p["depth"].reshape(-1)[p["pixel"]] / p["depth_shift"]
            assert np.allclose(cam[:, 2], z, atol=1e-4)


def test_intrinsics_scaled_by_hand(raw, extracted):
    _, ids = raw
    sid = ids[0]
    f = json.loads((extracted / "pairs" / sid / "meta.json").read_text())["frames"][0]
    p = load_pair(extracted / "pairs" / sid / f"{f:06d}.npz")
    kc = p["color_intrinsic"]
    # generated at 160x120 with fx = FX*160/1296, cx = (160-1)/2; stored at 320x240
    assert np.allclose(kc[0, 0], FX_COLOR * 320 / 1296, rtol=1e-5)
    assert np.allclose(kc[1, 1], FX_COLOR * 240 / 968, rtol=1e-5)
    assert np.allclose(kc[:2, 2], [159.5, 119.5], atol=1e-4)
    # and the helper: halving a 4x2 image maps pixel centre 0.5 -> 0, 3.5 -> 1.5 ...
    k = scale_intrinsic(np.array([[2., 0, 1.5], [0, 2, 0.5], [0, 0, 1]]), (4, 2), (2, 1))
    assert np.allclose(k, [[1, 0, 0.5], [0, 1, 0], [0, 0, 1]])


def test_resume_and_failures(raw, extracted, tmp_path, capsys):
    root, ids = raw
    first = extracted / "pairs" / ids[0] / "meta.json"
    mtime = first.stat().st_mtime_ns
    assert tool.main([str(root), str(extracted), "--frame-skip", "2", "--no-progress"]) == 0
    assert first.stat().st_mtime_ns == mtime  # finished scene not redone
    # a truncated .sens fails its scene only; the rest is written, exit status 1
    broken = tmp_path / "raw"
    for sid, d in find_scan_dirs(root).items():
        dst = broken / d.parent.name / sid
        dst.mkdir(parents=True)
        for src in d.iterdir():
            data = src.read_bytes()
            if sid == ids[1] and src.suffix == ".sens":
                data = data[:len(data) // 2]
            (dst / src.name).write_bytes(data)
    out = tmp_path / "out"
    assert tool.main([str(broken), str(out), "--frame-skip", "2", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"FAILED {ids[1]}" in err and "truncated at frame" in err and f"{ids[1]}.sens" in err
    index = json.loads((out / "pairs" / "index.json").read_text())
    assert sorted(index["scenes"]) == sorted(set(ids) - {ids[1]})
    assert tool.main([str(root), str(out), "--scenes", "scene9999_00", "--no-progress"]) == 2


def test_shard():
    items = [f"s{i}" for i in range(5)]
    parts = [shard(items, f"{i}/2") for i in range(2)]
    assert sorted(parts[0] + parts[1]) == items and not set(parts[0]) & set(parts[1])
    with pytest.raises(ValueError):
        shard(items, "2/2")
