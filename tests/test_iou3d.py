"""3D IoU and box utilities against hand-worked values and independent brute-force geometry."""
import math

import numpy as np
import pytest
import torch

from voxclip.ops.iou3d import (bev_intersection_area, boxes_iou3d, iou3d_axis_aligned, iou3d_rotated,
                               paired_iou3d)
from voxclip.structures import (bev_corners, box_corners, boxes_from_minmax, boxes_to_minmax, flip_boxes, limit_yaw,
                                points_in_boxes, rotate_boxes)


# ---------------------------------------------------------------- independent references
def ref_rect(box):
    """BEV corners of one box from an explicit rotation matrix, CCW."""
    cx, cy, _, dx, dy, _, yaw = box
    R = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
    local = np.array([[-dx, -dy], [dx, -dy], [dx, dy], [-dx, dy]]) / 2
    return local @ R.T + [cx, cy]


def _inside(p, poly, eps=1e-12):
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        if (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) < -eps:
            return False
    return True


def ref_convex_intersection_area(P, Q):
    """Vertex enumeration (not clipping): inner corners + edge crossings, sorted by angle, shoelace."""
    pts = [p for p in P if _inside(p, Q)] + [q for q in Q if _inside(q, P)]
    for i in range(4):
        a, b = P[i], P[(i + 1) % 4]
        for j in range(4):
            c, d = Q[j], Q[(j + 1) % 4]
            den = (b[0] - a[0]) * (d[1] - c[1]) - (b[1] - a[1]) * (d[0] - c[0])
            if abs(den) < 1e-15:
                continue
            t = ((c[0] - a[0]) * (d[1] - c[1]) - (c[1] - a[1]) * (d[0] - c[0])) / den
            u = ((c[0] - a[0]) * (b[1] - a[1]) - (c[1] - a[1]) * (b[0] - a[0])) / den
            if 0 <= t <= 1 and 0 <= u <= 1:
                pts.append(a + t * (b - a))
    if len(pts) < 3:
        return 0.0
    pts = np.array(pts)
    ctr = pts.mean(0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - ctr[1], pts[:, 0] - ctr[0]))]
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def ref_iou(a, b):
    inter_bev = ref_convex_intersection_area(ref_rect(a), ref_rect(b))
    zo = max(0.0, min(a[2] + a[5] / 2, b[2] + b[5] / 2) - max(a[2] - a[5] / 2, b[2] - b[5] / 2))
    inter = inter_bev * zo
    return inter / (a[3] * a[4] * a[5] + b[3] * b[4] * b[5] - inter)


def grid_bev_area(a, b, n=1200):
    """Dense-grid estimate of the BEV overlap area (points tested with per-point inverse rotation)."""
    ca, cb = ref_rect(a), ref_rect(b)
    lo = np.minimum(ca.min(0), cb.min(0))
    hi = np.maximum(ca.max(0), cb.max(0))
    xs = lo[0] + (np.arange(n) + 0.5) * (hi[0] - lo[0]) / n
    ys = lo[1] + (np.arange(n) + 0.5) * (hi[1] - lo[1]) / n
    X, Y = np.meshgrid(xs, ys)

    def inside(box):
        c, s = math.cos(box[6]), math.sin(box[6])
        lx = c * (X - box[0]) + s * (Y - box[1])
        ly = -s * (X - box[0]) + c * (Y - box[1])
        return (np.abs(lx) <= box[3] / 2) & (np.abs(ly) <= box[4] / 2)

    cell = (hi[0] - lo[0]) * (hi[1] - lo[1]) / n / n
    return (inside(a) & inside(b)).sum() * cell


def random_boxes(rng, n, yaw=True, spread=1.5):
    b = np.c_[rng.uniform(-spread, spread, (n, 3)), rng.uniform(0.3, 2.5, (n, 3)),
              rng.uniform(-math.pi, math.pi, n) if yaw else np.zeros(n)]
    return b


# ---------------------------------------------------------------- hand-worked IoU values
def test_identical_boxes_have_iou_one_at_any_yaw():
    boxes = np.array([[0, 0, 0, 2, 1, 0.5, y] for y in (0, 0.3, -1.2, math.pi / 2, 3.0)])
    iou = boxes_iou3d(boxes, boxes)
    np.testing.assert_allclose(np.diag(iou), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(iou3d_rotated(boxes, boxes)), 1.0, atol=1e-12)


def test_disjoint_and_touching_boxes_have_iou_zero():
    a = np.array([[0, 0, 0, 1, 1, 1, 0.4]])
    far = np.array([[5, 0, 0, 1, 1, 1, 1.0], [0, 0, 3, 1, 1, 1, 0.4]])  # apart in xy / in z only
    assert np.all(boxes_iou3d(a, far) == 0)
    touch = np.array([[0, 0, 0, 1, 1, 1, 0.0]]), np.array([[1, 0, 0, 1, 1, 1, 0.0]])  # share a face
    assert iou3d_rotated(*touch)[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert iou3d_axis_aligned(*touch)[0, 0] == 0.0


def test_square_against_45_degree_rotated_square():
    # Side-2 squares, same centre: the overlap is a regular octagon of area 8(sqrt2 - 1).
    # Equal heights, so IoU = A / (8 - A) = 1/sqrt(2).
    a = np.array([[0, 0, 0, 2, 2, 3, 0.0]])
    b = np.array([[0, 0, 0, 2, 2, 3, math.pi / 4]])
    assert bev_intersection_area(a, b)[0] == pytest.approx(8 * (math.sqrt(2) - 1), abs=1e-12)
    assert boxes_iou3d(a, b)[0, 0] == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    # Halve the z overlap: intersection A*1.5, union 2*12 - 1.5A.
    b2 = b.copy()
    b2[0, 2] = 1.5
    A = 8 * (math.sqrt(2) - 1)
    assert boxes_iou3d(a, b2)[0, 0] == pytest.approx(1.5 * A / (24 - 1.5 * A), abs=1e-12)


def test_contained_rotated_box_gives_volume_ratio():
    big = np.array([[1, 2, 0, 6, 5, 4, 0.2]])
    small = np.array([[1.3, 1.8, 0.5, 1, 2, 1, 1.1]])  # well inside big in every direction
    assert boxes_iou3d(big, small)[0, 0] == pytest.approx(2 / 120, abs=1e-12)


def test_axis_aligned_offsets_hand_values():
    a = np.array([[0, 0, 0, 2, 2, 2, 0.0]])
    b = np.array([[1, 1, 1, 2, 2, 2, 0.0]])  # overlap 1x1x1, union 8 + 8 - 1
    assert boxes_iou3d(a, b)[0, 0] == pytest.approx(1 / 15)
    assert iou3d_rotated(a, b)[0, 0] == pytest.approx(1 / 15, abs=1e-12)


# ---------------------------------------------------------------- against independent references
def test_rotated_iou_matches_vertex_enumeration_reference():
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 25), random_boxes(rng, 30)
    ours = boxes_iou3d(a, b)
    ref = np.array([[ref_iou(x, y) for y in b] for x in a])
    assert (ref > 0.05).sum() > 40  # the sample really exercises overlaps
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_rotated_bev_area_matches_dense_grid():
    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, 6, spread=0.6), random_boxes(rng, 6, spread=0.6)
    ours = bev_intersection_area(a, b)
    for i in range(6):
        est = grid_bev_area(a[i], b[i])
        assert ours[i] == pytest.approx(est, abs=0.01 * max(est, 0.2))


def test_axis_aligned_path_equals_rotated_path():
    rng = np.random.default_rng(2)
    a, b = random_boxes(rng, 40, yaw=False), random_boxes(rng, 35, yaw=False)
    np.testing.assert_allclose(iou3d_axis_aligned(a, b), iou3d_rotated(a, b), atol=1e-12)
    # Quarter turns swap dx and dy on the fast path; half turns change nothing.
    for k in (-2, -1, 1, 2):
        ak = a.copy()
        ak[:, 6] = k * math.pi / 2
        np.testing.assert_allclose(boxes_iou3d(ak, b), iou3d_rotated(ak, b), atol=1e-9)


def test_paired_iou_is_diagonal_of_pairwise():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 20), random_boxes(rng, 20)
    ref = np.array([ref_iou(x, y) for x, y in zip(a, b)])
    np.testing.assert_allclose(paired_iou3d(a, b), ref, atol=1e-9)


def test_numpy_and_torch_kinds_and_shapes():
    rng = np.random.default_rng(4)
    a, b = random_boxes(rng, 5).astype(np.float32), random_boxes(rng, 3).astype(np.float32)
    out_np = boxes_iou3d(a, b)
    out_t = boxes_iou3d(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(out_np, np.ndarray) and out_np.shape == (5, 3) and out_np.dtype == np.float32
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    np.testing.assert_allclose(out_t.numpy(), out_np)
    assert boxes_iou3d(np.zeros((0, 7)), b).shape == (0, 3)
    with pytest.raises(ValueError, match="7"):
        boxes_iou3d(np.zeros((2, 6)), b)


# ---------------------------------------------------------------- box utilities
def brute_points_in_boxes(points, boxes):
    out = np.zeros((len(points), len(boxes)), dtype=bool)
    for j, (cx, cy, cz, dx, dy, dz, yaw) in enumerate(boxes):
        R = np.array([[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
        for i, p in enumerate(points):
            local = R.T @ (p - np.array([cx, cy, cz]))
            out[i, j] = abs(local[0]) <= dx / 2 and abs(local[1]) <= dy / 2 and abs(local[2]) <= dz / 2
    return out


def test_points_in_boxes_matches_per_point_transform():
    rng = np.random.default_rng(5)
    boxes = random_boxes(rng, 7)
    points = rng.uniform(-2.5, 2.5, (400, 3))
    ours = points_in_boxes(points, boxes, chunk=97)  # chunking must not matter
    ref = brute_points_in_boxes(points, boxes)
    assert ref.sum() > 20
    np.testing.assert_array_equal(ours, ref)
    t = points_in_boxes(torch.from_numpy(points).float(), torch.from_numpy(boxes).float())
    assert t.dtype == torch.bool and t.shape == (400, 7)


def test_corners_match_rotation_matrix_and_bev_is_ccw():
    rng = np.random.default_rng(6)
    boxes = random_boxes(rng, 10)
    corners = box_corners(boxes)
    assert corners.shape == (10, 8, 3)
    for b, c in zip(boxes, corners):
        np.testing.assert_allclose(c[:4, :2], ref_rect(b), atol=1e-12)
        np.testing.assert_allclose(c[4:, :2], ref_rect(b), atol=1e-12)
        np.testing.assert_allclose(c[:4, 2], b[2] - b[5] / 2)
        np.testing.assert_allclose(c[4:, 2], b[2] + b[5] / 2)
    bev = bev_corners(boxes)
    x, y = bev[..., 0], bev[..., 1]
    signed = 0.5 * (x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y).sum(1)
    np.testing.assert_allclose(signed, boxes[:, 3] * boxes[:, 4], rtol=1e-12)


def test_limit_yaw_range_and_equivalence():
    y = np.array([-10.0, -math.pi, math.pi, 7.5, 0.0, -1e-18, 2 * math.pi])
    w = limit_yaw(y)
    assert np.all(w >= -math.pi) and np.all(w < math.pi)
    np.testing.assert_allclose(np.cos(w), np.cos(y), atol=1e-12)
    np.testing.assert_allclose(np.sin(w), np.sin(y), atol=1e-12)


@pytest.mark.parametrize("op", ["rotate", "flip_x", "flip_y"])
def test_box_transforms_move_boxes_with_points(op):
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 6)
    points = rng.uniform(-2.5, 2.5, (300, 3))
    if op == "rotate":
        ang = 0.7
        R = np.array([[math.cos(ang), -math.sin(ang), 0], [math.sin(ang), math.cos(ang), 0], [0, 0, 1]])
        p2, b2 = points @ R.T, rotate_boxes(boxes, ang)
    else:
        axis = 0 if op == "flip_x" else 1
        p2 = points.copy()
        p2[:, axis] *= -1
        b2 = flip_boxes(boxes, axis)
    assert np.all(b2[:, 6] >= -math.pi) and np.all(b2[:, 6] < math.pi)
    np.testing.assert_array_equal(points_in_boxes(p2, b2), brute_points_in_boxes(points, boxes))
    # Containment cannot see a half-turn error: the heading tip (centre + dx/2 along yaw) must map too.
    def tip(b):
        return b[:, :3] + 0.5 * b[:, 3:4] * np.c_[np.cos(b[:, 6]), np.sin(b[:, 6]), np.zeros(len(b))]
    moved = tip(boxes) @ R.T if op == "rotate" else tip(boxes) * np.where(np.arange(3) == axis, -1, 1)
    np.testing.assert_allclose(tip(b2), moved, atol=1e-12)


def test_minmax_round_trip():
    lo = np.array([[0, 0, 0], [-1, 2, 0.5]])
    hi = np.array([[1, 2, 3], [0, 4, 1.0]])
    boxes = boxes_from_minmax(lo, hi)
    np.testing.assert_allclose(boxes, [[0.5, 1, 1.5, 1, 2, 3, 0], [-0.5, 3, 0.75, 1, 2, 0.5, 0]])
    np.testing.assert_allclose(boxes_to_minmax(boxes), np.c_[lo, hi])
    # A square turned 45 degrees is enclosed by a square of side sqrt(2) times larger.
    mm = boxes_to_minmax(np.array([[0, 0, 0, 2, 2, 2, math.pi / 4]]))
    np.testing.assert_allclose(mm, [[-math.sqrt(2), -math.sqrt(2), -1, math.sqrt(2), math.sqrt(2), 1]], atol=1e-12)
    with pytest.raises(ValueError):
        boxes_from_minmax(hi, lo)
