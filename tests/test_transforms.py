"""Transforms: hand-computed flips/rotations, points stay in their boxes, sampling, voxels, features."""
import math

import numpy as np
import pytest
import torch

from voxclip.datasets.transforms import (
    Compose, HeightFeature, NormalizeColor, PackInputs, PointFeatures, PointSample, RandomFlip,
    RandomRotateZ, RandomScale, RandomTranslate, Voxelize,
)


# ---------------------------------------------------------------- independent helpers
def inside_box(points, box, eps=1e-4):
    """Point-in-oriented-box test written from the definition: project onto the box's own axes."""
    cx, cy, cz, dx, dy, dz, yaw = [float(v) for v in box]
    px, py, pz = points[:, 0] - cx, points[:, 1] - cy, points[:, 2] - cz
    lx = px * math.cos(yaw) + py * math.sin(yaw)   # component along the box's heading axis
    ly = -px * math.sin(yaw) + py * math.cos(yaw)  # component along its left axis
    return (np.abs(lx) <= dx / 2 + eps) & (np.abs(ly) <= dy / 2 + eps) & (np.abs(pz) <= dz / 2 + eps)


def make_sample(seed=0, n_boxes=4, per_box=60, n_background=100, yaw=True):
    """Random oriented boxes with points drawn inside each (own frame), plus background points.

    `instance` holds k + 1 for points of box k, 0 for background.
    """
    rng = np.random.default_rng(seed)
    boxes, pts, inst = [], [], []
    for k in range(n_boxes):
        size = rng.uniform(0.3, 2.0, 3)
        centre = np.array([k * 3.0 - 4.0, rng.uniform(-2, 2), size[2] / 2 + rng.uniform(0, 0.5)])
        theta = rng.uniform(-math.pi, math.pi) if yaw else 0.0
        local = rng.uniform(-0.49, 0.49, (per_box, 3)) * size
        c, s = math.cos(theta), math.sin(theta)
        world = np.stack([c * local[:, 0] - s * local[:, 1], s * local[:, 0] + c * local[:, 1], local[:, 2]], 1)
        pts.append(world + centre)
        inst.append(np.full(per_box, k + 1))
        boxes.append([*centre, *size, theta])
    pts.append(rng.uniform([-6, -4, 0], [6, 4, 3], (n_background, 3)))
    inst.append(np.zeros(n_background, int))
    points = np.concatenate(pts).astype(np.float32)
    n = len(points)
    return dict(
        points=points,
        colors=rng.integers(0, 256, (n, 3)).astype(np.uint8),
        normals=np.tile(np.array([[1.0, 0.0, 0.0]], np.float32), (n, 1)),
        instance=np.concatenate(inst).astype(np.int64),
        gt_boxes=np.array(boxes, np.float32),
        gt_labels=np.arange(n_boxes, dtype=np.int64),
        meta=dict(scene_id="synthetic"),
    )


def assert_points_in_boxes(sample):
    for k, box in enumerate(sample["gt_boxes"]):
        mine = sample["points"][sample["instance"] == k + 1]
        assert len(mine) > 0
        ok = inside_box(np.asarray(mine, np.float64), box)
        assert ok.all(), f"box {k}: {int((~ok).sum())} of {len(ok)} points left the box"


def fixed(cls, **kw):
    return cls(rng=np.random.default_rng(0), **kw)


# ---------------------------------------------------------------- hand-computed geometry
def one_point_sample(box):
    return dict(points=np.array([[1.0, 2.0, 3.0]], np.float32), normals=np.array([[0.6, 0.8, 0.0]], np.float32),
                gt_boxes=np.array([box], np.float32), gt_labels=np.array([0]), meta={})


def test_flip_x_hand_values():
    s = fixed(RandomFlip, prob_x=1.0, prob_y=0.0)(one_point_sample([1, 2, 3, 4, 5, 6, 0.3]))
    np.testing.assert_allclose(s["points"], [[-1, 2, 3]])
    np.testing.assert_allclose(s["normals"], [[-0.6, 0.8, 0]])
    np.testing.assert_allclose(s["gt_boxes"], [[-1, 2, 3, 4, 5, 6, math.pi - 0.3]], atol=1e-6)
    assert s["meta"]["aug"] == {"flip_x": True, "flip_y": False}


def test_flip_y_hand_values():
    s = fixed(RandomFlip, prob_x=0.0, prob_y=1.0)(one_point_sample([1, 2, 3, 4, 5, 6, 0.3]))
    np.testing.assert_allclose(s["points"], [[1, -2, 3]])
    np.testing.assert_allclose(s["gt_boxes"], [[1, -2, 3, 4, 5, 6, -0.3]], atol=1e-6)


def test_flip_yaw_wraps_into_range():
    # x-flip of yaw -pi + 0.1 gives pi - (-pi + 0.1) = 2 pi - 0.1, i.e. -0.1 in [-pi, pi)
    s = fixed(RandomFlip, prob_x=1.0, prob_y=0.0)(one_point_sample([0, 0, 0, 1, 1, 1, -math.pi + 0.1]))
    assert s["gt_boxes"][0, 6] == pytest.approx(-0.1, abs=1e-6)
    # yaw 0 under an x-flip: pi - 0 = pi, wrapped to -pi (half-open range)
    s = fixed(RandomFlip, prob_x=1.0, prob_y=0.0)(one_point_sample([0, 0, 0, 1, 1, 1, 0.0]))
    assert s["gt_boxes"][0, 6] == pytest.approx(-math.pi, abs=1e-6)
    # boxes without a front keep yaw 0
    s = fixed(RandomFlip, prob_x=1.0, prob_y=1.0, heading=False)(one_point_sample([1, 2, 0, 1, 1, 1, 0.0]))
    np.testing.assert_allclose(s["gt_boxes"], [[-1, -2, 0, 1, 1, 1, 0]], atol=1e-6)


def test_rotate_90_hand_values():
    box = [1, 0, 0.5, 2, 1, 1, 0]
    s = fixed(RandomRotateZ, degrees=(90, 90))(one_point_sample(box))
    np.testing.assert_allclose(s["points"], [[-2, 1, 3]], atol=1e-6)  # (x, y) -> (-y, x)
    np.testing.assert_allclose(s["gt_boxes"], [[0, 1, 0.5, 2, 1, 1, math.pi / 2]], atol=1e-6)
    s = fixed(RandomRotateZ, degrees=(90, 90), box_mode="enclose")(one_point_sample(box))
    np.testing.assert_allclose(s["gt_boxes"], [[0, 1, 0.5, 1, 2, 1, 0]], atol=1e-6)


def test_rotate_30_hand_values():
    a = math.radians(30)
    s = fixed(RandomRotateZ, degrees=(30, 30))(one_point_sample([2, 0, 0, 2, 1, 1, 3.0]))
    x, y = 1.0, 2.0
    np.testing.assert_allclose(s["points"], [[x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a), 3]],
                               atol=1e-5)
    # yaw 3.0 + 0.5236 = 3.5236 wraps to 3.5236 - 2 pi
    np.testing.assert_allclose(s["gt_boxes"][0, :2], [2 * math.cos(a), 2 * math.sin(a)], atol=1e-5)
    assert s["gt_boxes"][0, 6] == pytest.approx(3.0 + a - 2 * math.pi, abs=1e-5)
    # enclose of an axis-aligned 2 x 1 box rotated by 30 degrees: |c| dx + |s| dy by |s| dx + |c| dy
    s = fixed(RandomRotateZ, degrees=(30, 30), box_mode="enclose")(one_point_sample([2, 0, 0, 2, 1, 1, 0]))
    np.testing.assert_allclose(s["gt_boxes"][0, 3:], [2 * math.cos(a) + math.sin(a), 2 * math.sin(a) + math.cos(a), 1, 0],
                               atol=1e-5)


def test_scale_and_translate_hand_values():
    s = fixed(RandomScale, scale_range=(2.0, 2.0))(one_point_sample([1, 2, 3, 4, 5, 6, 0.7]))
    np.testing.assert_allclose(s["points"], [[2, 4, 6]])
    np.testing.assert_allclose(s["gt_boxes"], [[2, 4, 6, 8, 10, 12, 0.7]], atol=1e-6)
    std = np.array([0.5, 0.2, 0.0])
    shift = np.random.default_rng(0).normal(size=3) * std
    s = fixed(RandomTranslate, std=std)(one_point_sample([1, 2, 3, 4, 5, 6, 0.7]))
    np.testing.assert_allclose(s["points"], [[1 + shift[0], 2 + shift[1], 3]], atol=1e-6)
    np.testing.assert_allclose(s["gt_boxes"][0, :3], [1 + shift[0], 2 + shift[1], 3], atol=1e-6)
    np.testing.assert_allclose(s["gt_boxes"][0, 3:], [4, 5, 6, 0.7], atol=1e-6)


# ---------------------------------------------------------------- points stay inside their boxes
@pytest.mark.parametrize("transform", [
    RandomFlip(prob_x=1.0, prob_y=0.0), RandomFlip(prob_x=0.0, prob_y=1.0), RandomFlip(prob_x=1.0, prob_y=1.0),
    RandomRotateZ(degrees=30), RandomRotateZ(degrees=180, box_mode="enclose"), RandomScale((0.85, 1.15)),
    RandomTranslate(std=0.5),
], ids=repr)
def test_every_transform_keeps_points_in_boxes(transform):
    np.random.seed(1)
    for seed in range(5):
        sample = make_sample(seed)
        assert_points_in_boxes(sample)  # the fixture itself is right
        before = sample["gt_boxes"].copy()
        out = transform(sample)
        assert_points_in_boxes(out)
        if not (isinstance(transform, RandomRotateZ) and transform.box_mode == "enclose"):
            scale = out["meta"]["aug"].get("scale", 1.0)
            np.testing.assert_allclose(out["gt_boxes"][:, 3:6], before[:, 3:6] * scale, rtol=1e-5)
        assert ((out["gt_boxes"][:, 6] >= -math.pi) & (out["gt_boxes"][:, 6] < math.pi)).all()


def test_enclose_boxes_are_axis_aligned_and_enclosing():
    rng = np.random.default_rng(4)
    for seed in range(5):
        sample = make_sample(seed, yaw=False)
        before = sample["gt_boxes"].copy()
        out = RandomRotateZ(degrees=45, box_mode="enclose", rng=rng)(sample)
        a = out["meta"]["aug"]["rotate_z"]
        assert (out["gt_boxes"][:, 6] == 0).all()
        c, s = abs(math.cos(a)), abs(math.sin(a))
        np.testing.assert_allclose(out["gt_boxes"][:, 3], c * before[:, 3] + s * before[:, 4], rtol=1e-5)
        np.testing.assert_allclose(out["gt_boxes"][:, 4], s * before[:, 3] + c * before[:, 4], rtol=1e-5)
        np.testing.assert_allclose(out["gt_boxes"][:, 5], before[:, 5], rtol=1e-6)
        assert_points_in_boxes(out)


def sunrgbd_like_pipeline(rng):
    return Compose([RandomFlip(prob_x=0.5, prob_y=0.0, rng=rng), RandomRotateZ(degrees=30, rng=rng),
                    RandomScale((0.85, 1.15), rng=rng)])


def test_composed_oriented_pipeline_keeps_points_in_boxes():
    rng = np.random.default_rng(7)
    pipe = sunrgbd_like_pipeline(rng)
    for seed in range(10):
        assert_points_in_boxes(pipe(make_sample(seed)))


# ---------------------------------------------------------------- sampling, features, voxels
def test_point_sample_counts_and_alignment():
    sample = make_sample(0)
    n = len(sample["points"])
    ids = np.arange(n)
    sample["semantic"] = ids.copy()  # per-point key used as a tracer
    orig = sample["points"].copy()
    out = fixed(PointSample, num_points=100)(dict(sample))
    assert len(out["points"]) == 100 and len(out["colors"]) == 100 and len(out["instance"]) == 100
    assert len(np.unique(out["semantic"])) == 100  # no repeats when enough points
    np.testing.assert_array_equal(out["points"], orig[out["semantic"]])
    out = fixed(PointSample, num_points=n + 150)(make_sample(0) | {"semantic": ids.copy()})
    assert len(out["points"]) == n + 150
    assert set(out["semantic"].tolist()) == set(ids.tolist())  # every point kept when too few
    np.testing.assert_array_equal(out["points"], orig[out["semantic"]])
    assert out["meta"]["num_points_raw"] == n


def test_height_feature_hand_value():
    z = np.arange(101, dtype=np.float32)  # 0..100
    rng = np.random.default_rng(0)
    order = rng.permutation(101)
    pts = np.stack([rng.normal(size=101), rng.normal(size=101), z[order]], 1).astype(np.float32)
    out = HeightFeature()(dict(points=pts, meta={}))
    # 0.99th percentile of 0..100 with linear interpolation: position 0.99 -> value 0.99
    np.testing.assert_allclose(out["height"][:, 0], z[order] - 0.99, atol=1e-5)
    assert out["meta"]["floor_height"] == pytest.approx(0.99)


def test_normalize_color():
    rgb = np.array([[0, 255, 51]], np.uint8)
    out = NormalizeColor()(dict(colors=rgb, meta={}))
    np.testing.assert_allclose(out["colors"], [[-1.0, 1.0, 51 / 127.5 - 1]], atol=1e-6)
    out = NormalizeColor(mean=(109.8, 97.2, 83.8), std=256.0)(dict(colors=rgb, meta={}))
    np.testing.assert_allclose(out["colors"], [[-109.8 / 256, (255 - 97.2) / 256, (51 - 83.8) / 256]], atol=1e-6)
    with pytest.raises(RuntimeError, match="twice"):
        NormalizeColor()(out)


def test_point_features_order_and_errors():
    s = dict(points=np.zeros((3, 3), np.float32), colors=np.ones((3, 3), np.float32) * 0.5,
             height=np.array([[1.0], [2.0], [3.0]], np.float32), meta={})
    out = PointFeatures()(s)
    np.testing.assert_allclose(out["point_feats"], [[0.5, 0.5, 0.5, 1], [0.5, 0.5, 0.5, 2], [0.5, 0.5, 0.5, 3]])
    with pytest.raises(ValueError, match="NormalizeColor"):
        PointFeatures()(dict(s, colors=np.zeros((3, 3), np.uint8)))
    with pytest.raises(KeyError, match="height"):
        PointFeatures()(dict(points=s["points"], colors=s["colors"]))


def test_voxelize_against_brute_force():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-1, 1, (500, 3)).astype(np.float32)
    feats = rng.normal(size=(500, 2)).astype(np.float32)
    vs = 0.25
    out = Voxelize(vs)(dict(points=pts, point_feats=feats, meta={}))
    coords, inv, vf = out["voxel_coords"], out["inverse"], out["voxel_feats"]
    assert coords.dtype == np.int32 and inv.dtype == np.int64 and coords.shape[1] == 3
    expected = {}
    for i, p in enumerate(pts):
        key = tuple(int(math.floor(float(c) / vs)) for c in p)
        assert tuple(coords[inv[i]]) == key  # each point lands in the voxel containing it
        expected.setdefault(key, []).append(feats[i])
    assert len(coords) == len(expected) == len({tuple(c) for c in coords})
    for row, c in enumerate(coords):
        np.testing.assert_allclose(vf[row], np.mean(expected[tuple(c)], axis=0), atol=1e-5)
    assert out["meta"]["voxel_size"] == vs
    with pytest.raises(KeyError, match="PointFeatures"):
        Voxelize(vs)(dict(points=pts))


# ---------------------------------------------------------------- composition, determinism, packing
TRAIN_PIPELINE = [
    dict(type="PointSample", num_points=200), dict(type="RandomFlip", prob_x=0.5, prob_y=0.5),
    dict(type="RandomRotateZ", degrees=5, box_mode="enclose"), dict(type="RandomScale", scale_range=(0.9, 1.1)),
    dict(type="RandomTranslate", std=0.1), dict(type="NormalizeColor"), dict(type="HeightFeature"),
    dict(type="PointFeatures"), dict(type="Voxelize", voxel_size=0.1), dict(type="PackInputs"),
]


def test_compose_from_configs_packs_the_contract():
    np.random.seed(0)
    item = Compose(TRAIN_PIPELINE)(make_sample(0, yaw=False))
    dtypes = dict(points=torch.float32, point_feats=torch.float32, voxel_coords=torch.int32,
                  voxel_feats=torch.float32, inverse=torch.int64, gt_boxes=torch.float32, gt_labels=torch.int64,
                  instance=torch.int64)
    assert set(item) == set(dtypes) | {"meta"}
    for k, dt in dtypes.items():
        assert isinstance(item[k], torch.Tensor) and item[k].dtype == dt, k
    assert item["points"].shape == (200, 3) and item["point_feats"].shape == (200, 4)
    assert item["voxel_feats"].shape == (len(item["voxel_coords"]), 4)
    assert item["gt_boxes"].shape == (4, 7)
    assert item["meta"]["voxel_size"] == 0.1 and item["meta"]["scene_id"] == "synthetic"
    assert_points_in_boxes({k: v.numpy() if torch.is_tensor(v) else v for k, v in item.items()})


def _run(seed_or_rng):
    if isinstance(seed_or_rng, int):
        np.random.seed(seed_or_rng)
        return Compose(TRAIN_PIPELINE)(make_sample(0))
    rng = seed_or_rng
    pipe = Compose([PointSample(200, rng=rng), RandomFlip(rng=rng), RandomRotateZ(30, rng=rng),
                    RandomScale(rng=rng), RandomTranslate(0.1, rng=rng)])
    return pipe(make_sample(0))


def test_determinism_with_seeded_rng():
    a, b, c = _run(5), _run(5), _run(6)
    for k in ("points", "gt_boxes", "voxel_coords", "inverse"):
        assert torch.equal(a[k], b[k]), k
    assert not torch.equal(a["points"], c["points"])
    a, b = _run(np.random.default_rng(9)), _run(np.random.default_rng(9))
    c = _run(np.random.default_rng(10))
    np.testing.assert_array_equal(a["points"], b["points"])
    assert a["meta"]["aug"] == b["meta"]["aug"] != c["meta"]["aug"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="box_mode"):
        RandomRotateZ(5, box_mode="spin")
    with pytest.raises(ValueError, match="prob_x"):
        RandomFlip(prob_x=1.5)
    with pytest.raises(ValueError, match="num_points"):
        PointSample(0)
    with pytest.raises(KeyError, match="Voxelize"):
        PackInputs()(dict(points=np.zeros((1, 3))))
    with pytest.raises(ValueError, match="no points"):
        PointSample(5)(dict(points=np.zeros((0, 3)), meta=dict(scene_id="s0")))
