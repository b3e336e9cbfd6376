"""tools/render_views.py pieces: depth of a known cube at a known pose (mesh ray-cast and point
splat), and the tool on a ShapeNet55-layout object with captions."""
import json
import sys
from pathlib import Path

import numpy as np

from data_prep.objects.render import fixed_viewpoints, intrinsics, render_mesh, render_points
from data_prep.synthetic.render import look_at

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


def _cube_mesh(h=0.5):
    v = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)], np.float32)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    f = np.array([t for q in quads for t in ((q[0], q[1], q[2]), (q[0], q[2], q[3]))], np.int64)
    return v, f, np.full((8, 3), 200, np.uint8)


def test_cube_depth_at_a_known_pose():
    # camera on +x at distance 3 looking at the origin: the face x = +0.5 is perpendicular to the
    # optical axis, so its depth is exactly 3 - 0.5 = 2.5 and it covers |u - c|, |v - c| <= f * 0.5 / 2.5
    size = 65
    K = intrinsics(size, fov_deg=40.0)
    pose = look_at([3.0, 0.0, 0.0], [0.0, 0.0, 0.0])[None]
    f, c = K[0, 0], K[0, 2]
    half = f * 0.5 / 2.5
    uu, vv = np.meshgrid(np.arange(size), np.arange(size))
    inside = (np.abs(uu - c) < half - 1) & (np.abs(vv - c) < half - 1)
    outside = (np.abs(uu - c) > half + 1) | (np.abs(vv - c) > half + 1)
    views = render_mesh(*_cube_mesh(), pose, K, size)
    d = views.depths[0]
    np.testing.assert_allclose(d[inside], 2.5, atol=1e-5)
    assert (d[outside] == 0).all() and (views.colors[0][outside] == 0).all() and (views.colors[0][inside] > 0).all()
    # the same cube as dense surface points: splatted depth within the sampling spacing of 2.5
    g = np.linspace(-0.5, 0.5, 81)
    a, b = np.meshgrid(g, g)
    faces = []
    for axis in range(3):
        for side in (-0.5, 0.5):
            p = np.zeros((a.size, 3))
            p[:, axis] = side
            p[:, [i for i in range(3) if i != axis]] = np.c_[a.ravel(), b.ravel()]
            faces.append(p)
    pv = render_points(np.concatenate(faces), pose, K, size, splat=2)
    np.testing.assert_allclose(pv.depths[0][inside], 2.5, atol=1e-6)
    far = (np.abs(uu - c) > half + 2) | (np.abs(vv - c) > half + 2)  # a splat reaches one pixel further
    assert (pv.depths[0][far] == 0).all()


def test_fixed_viewpoints_look_at_the_origin():
    poses = fixed_viewpoints(4, distance=2.0, elevation_deg=30.0)
    for p in poses:
        assert np.isclose(np.linalg.norm(p[:3, 3]), 2.0)
        np.testing.assert_allclose(p[:3, 2], -p[:3, 3] / 2.0, atol=1e-9)  # optical axis -> origin
        np.testing.assert_allclose(p[:3, :3].T @ p[:3, :3], np.eye(3), atol=1e-9)
        assert np.isclose(p[2, 3], 2.0 * np.sin(np.radians(30)))


def test_render_views_tool_on_shapenet_layout(tmp_path):
    import render_views as tool
    from PIL import Image

    from data_prep.synthetic.object_writers import write_shapenet55

    root = write_shapenet55(tmp_path / "sn", dict(train=1, test=0), num_points=2048, seed=0)
    out = tmp_path / "views"
    assert tool.main([str(root), str(out), "--views", "2", "--size", "32", "--limit", "2"]) == 0
    index = json.loads((out / "index.json").read_text())["objects"]
    assert len(index) == 2 and index[0]["source"] == "mesh"
    assert index[0]["captions"][0].startswith("a synthetic")  # its own caption from captions.json
    assert index[1]["captions"][0] == f"a point cloud model of {index[1]['class_name']}."  # template fallback
    depth = np.array(Image.open(out / index[0]["id"] / "depth_00.png"))
    cams = json.loads((out / index[0]["id"] / "cameras.json").read_text())
    assert depth.dtype == np.uint16 and depth.max() > 0 and len(cams["camera_to_world"]) == 2
    # every object point lies within the unit sphere, cameras at 2.2: depths in [1.2, 3.2] m
    hit = depth[depth > 0] / 1000.0
    assert hit.min() >= 1.2 - 1e-3 and hit.max() <= 3.2 + 1e-3
