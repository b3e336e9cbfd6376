"""Superpoints (voxclip.ops.superpoints): graph segmentation on hand-made graphs, boundaries of a
synthetic scene's objects (purity against the generator's instance labels) and superpoint.npy of
prepare_scannet (the same partition as ScanNet's segs.json)."""
import json

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from data_prep.scannet.normals import vertex_normals
from data_prep.synthetic.scannet import generate_scene
from voxclip.ops.fps import farthest_point_sample
from voxclip.ops.superpoints import (edge_weights, estimate_normals, felzenszwalb_segment, knn_edges, mesh_edges,
                                     mesh_superpoints, point_superpoints, relabel_consecutive)


def purity(sp: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of points whose superpoint's majority label is their own label (brute force)."""
    good = 0
    for s in np.unique(sp):
        lab = labels[sp == s]
        good += np.bincount(lab - lab.min()).max()
    return good / len(sp)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_two_cliques_split_at_the_heavy_edge():
    # two 30-vertex cliques, internal weight 0.001, joined by one edge of weight 0.9
    a = [(i, j) for i in range(30) for j in range(i + 1, 30)]
    b = [(i + 30, j + 30) for i, j in a]
    edges = np.array(a + b + [(0, 30)])
    w = np.r_[np.full(len(a) + len(b), 0.001), 0.9]
    seg = felzenszwalb_segment(60, edges, w, k_thresh=0.5, min_size=5)
    assert seg.dtype == np.int64
    assert same_partition(seg, np.r_[np.zeros(30, int), np.ones(30, int)])
    # a bigger k merges across the heavy edge: 0.9 <= 0.001 + k / 30
    assert len(np.unique(felzenszwalb_segment(60, edges, w, k_thresh=40.0, min_size=5))) == 1


def test_small_segments_join_their_lightest_neighbour():
    # chain 0-1-...-9 with a heavy edge before vertex 8: {8, 9} is below min_size and must merge
    edges = np.array([(i, i + 1) for i in range(9)])
    w = np.full(9, 1e-4)
    w[7] = 0.8
    assert len(np.unique(felzenszwalb_segment(10, edges, w, k_thresh=0.01, min_size=1))) == 2
    assert len(np.unique(felzenszwalb_segment(10, edges, w, k_thresh=0.01, min_size=3))) == 1


def test_edges_and_weights_by_hand():
    faces = np.array([[0, 1, 2], [2, 1, 3]])
    np.testing.assert_array_equal(mesh_edges(faces, 4), [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]])
    p = np.array([[0, 0, 0], [1, 0, 0.0]])
    n = np.array([[0, 0, 1], [1, 0, 0.0]])  # n_b . (p_b - p_a) = 1 > 0: convex -> (1 - 0)^2
    assert edge_weights(p, n, np.array([[0, 1]]))[0] == pytest.approx(1.0)
    n2 = np.array([[0, 0, 1], [-0.6, 0, 0.8]])  # concave: 1 - 0.8 = 0.2, not squared
    assert edge_weights(p, n2, np.array([[0, 1]]))[0] == pytest.approx(0.2)
    c = np.array([[0, 0, 0], [255, 255, 255]])
    assert edge_weights(p, n2, np.array([[0, 1]]), c, color_weight=0.5)[0] == pytest.approx(0.7)
    pts = np.random.default_rng(0).random((50, 3))
    e = knn_edges(pts, 4)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    nn4 = np.argsort(d, 1)[:, 1:5]
    brute = {tuple(sorted((i, int(j)))) for i in range(50) for j in nn4[i]}
    assert set(map(tuple, e.tolist())) == brute


def test_pca_normals_of_a_plane():
    rng = np.random.default_rng(1)
    pts = np.c_[rng.random((200, 2)), np.zeros(200)] @ np.array([[1, 0, 0], [0, 0.6, 0.8], [0, -0.8, 0.6]])
    n = estimate_normals(pts, 10)
    np.testing.assert_allclose(np.abs(n @ np.array([0, -0.8, 0.6])), 1.0, atol=1e-6)


def test_superpoints_follow_object_boundaries():
    scene = generate_scene("scene0000_00", 0)
    v, f, obj = scene.vertices, scene.faces, scene.object_ids
    normals = vertex_normals(v, f)
    sp_mesh = mesh_superpoints(v, f, normals)
    sp_pts = point_superpoints(v, scene.colors, normals=None, k=10)  # bare cloud: kNN graph, PCA normals
    n_obj = len(np.unique(obj))
    for sp, least in ((sp_mesh, 0.99), (sp_pts, 0.96)):
        m = len(np.unique(sp))
        assert n_obj < m < len(v) / 20  # an over-segmentation, not single points
        assert purity(sp, obj) > least
        # as many purely spatial cells (nearest of m FPS centres) cut through objects far more often
        centres = farthest_point_sample(torch.from_numpy(v).float(), m).numpy()
        _, cell = cKDTree(v[centres]).query(v)
        assert purity(cell, obj) < purity(sp, obj) - 0.08


def test_prepare_writes_superpoints_of_segs_json(prepared_scannet):
    scene = sorted((prepared_scannet / "scans").iterdir())[0]
    sp = np.load(scene / "superpoint.npy")
    raw = prepared_scannet.parent / "raw" / "scans" / scene.name / f"{scene.name}_vh_clean_2.0.010000.segs.json"
    seg = np.asarray(json.loads(raw.read_text())["segIndices"])
    assert sp.dtype == np.int32 and sp.min() == 0 and same_partition(sp, seg)
    np.testing.assert_array_equal(sp, relabel_consecutive(seg))


def test_superpoints_do_not_depend_on_the_metric_scale():
    scene = generate_scene("scene0001_00", 0)
    # 1 mm jitter: on the generator's exact grid, equal neighbour distances make the kNN order a
    # matter of float rounding, which scaling changes
    v = scene.vertices[::3] + np.random.default_rng(0).normal(0, 1e-3, (len(scene.vertices[::3]), 3))
    ref = point_superpoints(v, scene.colors[::3])
    for s in (0.01, 25.0):
        assert same_partition(point_superpoints(v * s, scene.colors[::3]), ref)


def test_superpoints_travel_with_their_points(prepared_scannet):
    from voxclip.datasets.collate import sparse_collate
    from voxclip.datasets.scannet import ScanNetSegmentation

    pipeline = [dict(type="PointSample", num_points=500), dict(type="NormalizeColor"), dict(type="HeightFeature"),
                dict(type="PointFeatures", keys=("colors", "height")), dict(type="Voxelize", voxel_size=0.05),
                dict(type="PackInputs")]
    ds = ScanNetSegmentation(str(prepared_scannet), split="train", pipeline=pipeline, with_superpoint=True)
    item = ds[0]
    scene = prepared_scannet / "scans" / ds.get_data_info(0)["scene_id"]
    coord, sp = np.load(scene / "coord.npy"), np.load(scene / "superpoint.npy")
    ids = {}  # coordinates -> superpoints of the vertices there (tile seams duplicate vertices)
    for c, s in zip(coord.tolist(), sp.tolist()):
        ids.setdefault(tuple(c), set()).add(s)
    got = item["superpoint"]
    assert got.dtype == torch.int64 and len(got) == 500
    assert all(s in ids[tuple(p)] for p, s in zip(item["points"].numpy().tolist(), got.tolist()))
    batch = sparse_collate([item, ds[1]])
    assert batch["data_samples"][0]["superpoint"].tolist() == got.tolist()


def _rotated_jittered_scene(step: int = 3):
    """A synthetic scan turned by a generic rotation and jittered by 1 mm: no kNN distance ties and no
    normal lying in the z = 0 plane, where the n_z >= 0 orientation is decided by float rounding."""
    scene = generate_scene("scene0001_00", 0)
    v = scene.vertices[::step]
    rot = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    return (v + np.random.default_rng(0).normal(0, 1e-3, v.shape)) @ rot.T, scene.colors[::step]


def test_fast_path_gives_the_previous_implementations_segments():
    # tests/superpoints_reference.py is the implementation before the speed-up (two KD-tree queries,
    # batched eigh in float32, deduplicating contraction): same labels on the same input
    import superpoints_reference as ref

    v, c = _rotated_jittered_scene()
    e = ref.knn_edges(v, 10)
    w = ref.edge_weights(v, ref.estimate_normals(v, 16), e, c, 0.5)
    np.testing.assert_array_equal(felzenszwalb_segment(len(v), e, w), ref.felzenszwalb_segment(len(v), e, w))
    np.testing.assert_array_equal(knn_edges(v, 10), e)
    np.testing.assert_allclose(edge_weights(v, ref.estimate_normals(v, 16), e, c, 0.5), w, atol=1e-12)
    new, old = point_superpoints(v, c), ref.point_superpoints(v, c)
    assert len(np.unique(new)) > 50 and same_partition(new, old)


def test_closed_form_normals_against_float64_eigh():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(400, 3)) * np.array([1.0, 0.5, 0.05])  # noisy slabs: well-defined normals
    pts = np.r_[pts, rng.random((100, 3))]  # and isotropic blobs
    _, idx = cKDTree(pts).query(pts, k=12)
    nb = pts[idx] - pts[idx].mean(1, keepdims=True)
    vec = np.linalg.eigh(np.einsum("nki,nkj->nij", nb, nb))[1][:, :, 0]
    vec *= np.where(vec[:, 2:3] < 0, -1.0, 1.0)
    np.testing.assert_allclose(estimate_normals(pts, 12), vec, atol=1e-6)


def test_stable_float_argsort_keeps_ties_in_index_order():
    from voxclip.utils.superpoints import _stable_argsort_float

    w = np.random.default_rng(0).integers(0, 7, 5000) / 4.0  # many exact ties
    np.testing.assert_array_equal(_stable_argsort_float(w), np.argsort(w, kind="stable"))
