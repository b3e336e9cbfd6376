"""ScanNet raw readers: hand-made fixtures in the official formats, checked against independent
brute-force computations (python loops, hand-worked numbers)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from plyfile import PlyData, PlyElement

from data_prep.scannet import (AggregationError, AxisAlignmentError, LabelMapError,
                               MissingFileError, NonFiniteVerticesError, PlyReadError,
                               ScanNetError, SegCountMismatchError, SegIndicesError,
                               UnknownLabelError, UnknownSegmentError, process_scene,
                               read_aggregation, read_axis_alignment, read_label_map, read_mesh,
                               read_seg_indices, scene_files, vertex_normals)
from data_prep.scannet.raw_writer import write_label_tsv, write_ply, write_raw_scene
from voxclip.classes import (SCANNET_DET_CLASSES, SCANNET_DET_NYU40_IDS,
                                       SCANNET_SEG_NYU40_IDS)

SID = "scene0007_01"
TSV_ROWS = [("chair", 5), ("office chair", 5), ("wall", 1), ("bed", 4), ("lamp", 35),
            ("trash can", 39), ("kitchen counter", 12)]


def rot_z(deg: float, t=(0.0, 0.0, 0.0)) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    m[:3, 3] = t
    return m


def random_scene(tmp_path, seed=0, n=300, groups=None, matrix=None):
    """A random mesh with sparse, non-contiguous segment ids and some objects; returns the raw
    pieces so tests can recompute everything independently."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(-2, 4, (n, 3)).astype(np.float32)
    c = rng.integers(0, 256, (n, 3)).astype(np.uint8)
    f = rng.integers(0, n, (2 * n, 3))
    seg = rng.integers(0, 25, n) * 13 + 5  # ids 5, 18, ..., like ScanNet's sparse ones
    if groups is None:
        groups = [{"objectId": 0, "label": "chair", "segments": [5, 18]},
                  {"objectId": 3, "label": "wall", "segments": [31, 44]},
                  {"objectId": 1, "label": "office chair", "segments": [57]},
                  {"objectId": 2, "label": "lamp", "segments": [70, 83]},
                  {"objectId": 4, "label": "bed", "segments": [96, 109, 122]},
                  {"objectId": 5, "label": "trash can", "segments": [135]}]
    matrix = rot_z(30, (1.0, -2.0, 0.5)) if matrix is None else matrix
    d = tmp_path / "scans" / SID
    write_raw_scene(d, SID, v, c, f, seg, groups, matrix)
    tsv = tmp_path / "labels.tsv"
    write_label_tsv(tsv, TSV_ROWS)
    return d, v, c, f, seg, groups, matrix, read_label_map(tsv)


# ---------------------------------------------------------------- label tsv


@pytest.mark.parametrize("newline,final", [("\r\n", True), ("\r\r\n", False), ("\n", False)])
def test_label_tsv_line_endings(tmp_path, newline, final):
    p = tmp_path / "l.tsv"
    write_label_tsv(p, TSV_ROWS, newline=newline, final_newline=final)
    assert read_label_map(p) == dict(TSV_ROWS)


def test_label_tsv_columns_found_by_name(tmp_path):
    p = tmp_path / "l.tsv"
    p.write_bytes(b"nyu40id\tfoo\traw_category\r\r\n5\tx\tchair\r\r\n1\ty\twall")
    assert read_label_map(p) == {"chair": 5, "wall": 1}


@pytest.mark.parametrize("text,problem", [
    (b"id\tcategory\tnyu40id\r\n1\tchair\t5\r\n", "raw_category"),
    (b"raw_category\tnyu40id\r\nchair\tfive\r\n", "not an integer"),
    (b"raw_category\tnyu40id\r\nchair\t41\r\n", "outside"),
    (b"raw_category\tnyu40id\r\nchair\t5\r\nchair\t6\r\n", "both"),
    (b"raw_category\tnyu40id\r\nchair\r\n", "columns"),
])
def test_label_tsv_errors(tmp_path, text, problem):
    p = tmp_path / "bad.tsv"
    p.write_bytes(text)
    with pytest.raises(LabelMapError, match=problem) as e:
        read_label_map(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


# ---------------------------------------------------------------- axis alignment txt


def test_axis_alignment_crlf(tmp_path):
    m = rot_z(-47.5, (0.25, 3.0, -1.0))
    p = tmp_path / "s.txt"
    nums = " ".join(repr(float(x)) for x in m.reshape(-1))
    p.write_bytes(f"colorHeight = 968\r\naxisAlignment = {nums}\r\nsceneType = Office\r\n".encode())
    got, present = read_axis_alignment(p)
    assert present and got.shape == (4, 4)
    np.testing.assert_allclose(got, m, rtol=0, atol=1e-12)


def test_axis_alignment_absent_is_identity(tmp_path):
    p = tmp_path / "s.txt"
    p.write_bytes(b"colorHeight = 968\r\ncolorWidth = 1296\r\n")
    got, present = read_axis_alignment(p)
    assert not present
    np.testing.assert_array_equal(got, np.eye(4))


@pytest.mark.parametrize("values,problem", [
    ("1 0 0 0 0 1 0 0 0 0 1 0 0 0 0", "15 values"),
    ("1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1 0", "17 values"),
    ("1 0 0 0 0 nan 0 0 0 0 1 0 0 0 0 1", "NaN/inf"),
    ("1 0 0 0 0 inf 0 0 0 0 1 0 0 0 0 1", "NaN/inf"),
    ("1 0 0 0 2 0 0 0 0 0 1 0 0 0 0 1", "not invertible"),  # rows 1 and 2 parallel
    ("1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 0", "last row"),
    ("1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 x", "non-number"),
])
def test_axis_alignment_errors(tmp_path, values, problem):
    p = tmp_path / f"{SID}.txt"
    p.write_bytes(f"axisAlignment = {values}\r\n".encode())
    with pytest.raises(AxisAlignmentError, match=problem) as e:
        read_axis_alignment(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


# ---------------------------------------------------------------- mesh ply and normals


def test_mesh_roundtrip(tmp_path):
    rng = np.random.default_rng(1)
    v = rng.normal(size=(50, 3)).astype(np.float32)
    c = rng.integers(0, 256, (50, 3)).astype(np.uint8)
    f = rng.integers(0, 50, (70, 3))
    for text in (False, True):
        p = tmp_path / f"m{int(text)}.ply"
        write_ply(p, v, c, f, text=text)
        m = read_mesh(p)
        assert m.vertices.dtype == np.float32 and m.colors.dtype == np.uint8
        np.testing.assert_array_equal(m.vertices, v)
        np.testing.assert_array_equal(m.colors, c)
        np.testing.assert_array_equal(m.faces, f)


def test_mesh_errors(tmp_path):
    v = np.zeros((4, 3), np.float32)
    c = np.zeros((4, 3), np.uint8)
    f = np.array([[0, 1, 2], [1, 2, 3]])
    good = tmp_path / "good.ply"
    write_ply(good, v, c, f)
    data = good.read_bytes()
    cases = {"truncated.ply": data[:-5], "garbage.ply": b"not a ply at all\n" + data[20:],
             "empty.ply": b""}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(PlyReadError, match="corrupt or truncated") as e:
            read_mesh(tmp_path / name)
        assert name in str(e.value) and "\n" not in str(e.value)
    vn = v.copy()
    vn[2, 1] = np.nan
    write_ply(tmp_path / "nan.ply", vn, c, f)
    with pytest.raises(NonFiniteVerticesError, match="1 of 4 vertices"):
        read_mesh(tmp_path / "nan.ply")
    vi = v.copy()
    vi[0, 0] = np.inf
    write_ply(tmp_path / "inf.ply", vi, c, f)
    with pytest.raises(NonFiniteVerticesError, match="NaN/inf"):
        read_mesh(tmp_path / "inf.ply")
    write_ply(tmp_path / "range.ply", v, c, np.array([[0, 1, 4]]))
    with pytest.raises(PlyReadError, match="out of range"):
        read_mesh(tmp_path / "range.ply")
    # A quad: generic list property, not a triangle.
    vert = np.zeros(4, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"),
                              ("green", "u1"), ("blue", "u1")])
    quad = np.empty(1, dtype=[("vertex_indices", "O")])
    quad["vertex_indices"][0] = np.array([0, 1, 2, 3], np.int32)
    PlyData([PlyElement.describe(vert, "vertex"), PlyElement.describe(quad, "face")]).write(
        str(tmp_path / "quad.ply"))
    with pytest.raises(PlyReadError, match="triangles"):
        read_mesh(tmp_path / "quad.ply")
    with pytest.raises(MissingFileError):
        read_mesh(tmp_path / "absent.ply")


def test_normals_hand_computed():
    # Triangle A: area 2 in the xy plane, normal +z; B: area 0.5 in the xz plane, normal +y;
    # they share vertex 0. Vertex 4 is isolated.
    v = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0], [0, 0, 1], [5, 5, 5], [1, 0, 0]], float)
    f = np.array([[0, 1, 2], [0, 3, 5]])
    n = vertex_normals(v, f)
    # Vertex 0: 2*area weighted sum (0,0,4) + (0,1,0) -> (0,1,4)/sqrt(17).
    np.testing.assert_allclose(n[0], np.array([0, 1, 4]) / math.sqrt(17), atol=1e-6)
    np.testing.assert_allclose(n[1], [0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(n[2], [0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(n[3], [0, 1, 0], atol=1e-7)
    np.testing.assert_allclose(n[5], [0, 1, 0], atol=1e-7)
    np.testing.assert_array_equal(n[4], [0, 0, 0])
    assert n.dtype == np.float32


def test_normals_brute_force_area_weighting():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(30, 3))
    f = rng.integers(0, 30, (60, 3))
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    expected = np.zeros((30, 3))
    for a, b, c in f:  # unit face normal times area (Heron), accumulated per corner
        e1, e2 = v[b] - v[a], v[c] - v[a]
        cr = np.array([e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2],
                       e1[0] * e2[1] - e1[1] * e2[0]])
        la, lb, lc = (np.linalg.norm(v[b] - v[a]), np.linalg.norm(v[c] - v[b]),
                      np.linalg.norm(v[a] - v[c]))
        s = (la + lb + lc) / 2
        area = math.sqrt(max(s * (s - la) * (s - lb) * (s - lc), 0.0))
        for i in (a, b, c):
            expected[i] += cr / np.linalg.norm(cr) * area
    used = np.linalg.norm(expected, axis=1) > 1e-9
    expected[used] /= np.linalg.norm(expected[used], axis=1, keepdims=True)
    np.testing.assert_allclose(vertex_normals(v, f)[used], expected[used], atol=1e-5)


# ---------------------------------------------------------------- segs / aggregation


def test_segs_errors(tmp_path):
    p = tmp_path / "x.segs.json"
    p.write_text(json.dumps({"segIndices": [1, 1, 2]}))
    np.testing.assert_array_equal(read_seg_indices(p, 3), [1, 1, 2])
    with pytest.raises(SegCountMismatchError, match="3 entries but the mesh has 4 vertices"):
        read_seg_indices(p, 4)
    with pytest.raises(MissingFileError, match="segs.json not found"):
        read_seg_indices(tmp_path / "absent.segs.json", 3)
    p.write_text('{"segIndices": [1, 2')
    with pytest.raises(SegIndicesError, match="unreadable json"):
        read_seg_indices(p)
    p.write_text('{"segIndices": [1.5, 2]}')
    with pytest.raises(SegIndicesError, match="integers"):
        read_seg_indices(p)
    p.write_text('{"other": []}')
    with pytest.raises(SegIndicesError, match="segIndices"):
        read_seg_indices(p)


def test_aggregation_reader(tmp_path):
    p = tmp_path / "a.aggregation.json"
    p.write_text(json.dumps({"segGroups": []}))
    assert read_aggregation(p) == []
    p.write_text(json.dumps({"segGroups": [{"objectId": 2, "label": "bed", "segments": [4, 9]}]}))
    (g,) = read_aggregation(p)
    assert (g.object_id, g.label, g.segments.tolist()) == (2, "bed", [4, 9])
    for groups, problem in [
        ([{"objectId": 0, "label": "bed", "segments": [1]},
          {"objectId": 0, "label": "bed", "segments": [2]}], "duplicate objectId 0"),
        ([{"objectId": -1, "label": "bed", "segments": [1]}], "not an int"),
        ([{"objectId": 0, "segments": [1]}], "lacks"),
        ([{"objectId": 0, "label": "bed", "segments": ["a"]}], "list of integers"),
    ]:
        p.write_text(json.dumps({"segGroups": groups}))
        with pytest.raises(AggregationError, match=problem):
            read_aggregation(p)


# ---------------------------------------------------------------- whole scene


def brute_force_labels(n, seg, groups, label_map):
    """Per-vertex loops, independent of the vectorised lookups."""
    inst = np.zeros(n, int)
    for g in groups:  # later groups win
        for i in range(n):
            if seg[i] in g["segments"]:
                inst[i] = g["objectId"] + 1
    oid_label = {g["objectId"] + 1: label_map[g["label"]] for g in groups}
    nyu = np.array([oid_label.get(i, 0) for i in inst])
    seg20 = np.array([SCANNET_SEG_NYU40_IDS.index(x) if x in SCANNET_SEG_NYU40_IDS else -1
                      for x in nyu])
    return inst, nyu, seg20


def brute_force_boxes(aligned, inst, nyu):
    boxes, labels = [], []
    for iid in sorted(set(inst.tolist()) - {0}):
        cls = int(nyu[inst == iid][0])
        if cls not in SCANNET_DET_NYU40_IDS:
            continue
        pts = [aligned[i] for i in range(len(inst)) if inst[i] == iid]
        lo = [min(p[k] for p in pts) for k in range(3)]
        hi = [max(p[k] for p in pts) for k in range(3)]
        boxes.append([(lo[k] + hi[k]) / 2 for k in range(3)] + [hi[k] - lo[k] for k in range(3)]
                     + [0.0])
        labels.append(SCANNET_DET_NYU40_IDS.index(cls))
    return np.array(boxes).reshape(-1, 7), np.array(labels, dtype=int)


def test_process_scene_matches_brute_force(tmp_path):
    d, v, c, f, seg, groups, m, lm = random_scene(tmp_path)
    out = process_scene(d, SID, lm)
    a = out.arrays
    n = len(v)
    aligned = np.array([[sum(m[r, k] * float(v[i, k]) for k in range(3)) + m[r, 3]
                         for r in range(3)] for i in range(n)])
    np.testing.assert_allclose(a["coord"], aligned, atol=1e-5)
    np.testing.assert_array_equal(a["color"], c)
    inst, nyu, seg20 = brute_force_labels(n, seg, groups, lm)
    np.testing.assert_array_equal(a["instance"], inst)
    np.testing.assert_array_equal(a["segment_nyu40"], nyu)
    np.testing.assert_array_equal(a["segment20"], seg20)
    boxes, labels = brute_force_boxes(aligned, inst, nyu)
    assert len(boxes) == 4  # chair, office chair, bed, trash can; not wall or lamp
    np.testing.assert_allclose(a["boxes"], boxes, atol=1e-5)
    np.testing.assert_array_equal(a["box_labels"], labels)
    assert [SCANNET_DET_CLASSES[i] for i in a["box_labels"]] == \
        ["chair", "chair", "bed", "garbagebin"]
    # Normals live in the aligned frame: rotating the raw-frame normals gives the same.
    raw_n = vertex_normals(v, f)
    np.testing.assert_allclose(a["normal"], raw_n @ m[:3, :3].T, atol=1e-5)
    dtypes = {"coord": np.float32, "color": np.uint8, "normal": np.float32,
              "segment_nyu40": np.int16, "segment20": np.int16, "instance": np.int32,
              "boxes": np.float32, "box_labels": np.int64, "superpoint": np.int32}
    assert {k: x.dtype for k, x in a.items()} == dtypes
    meta = out.meta
    assert meta["scene_id"] == SID and meta["num_points"] == n and meta["num_boxes"] == 4
    np.testing.assert_allclose(meta["axis_align_matrix"], m, atol=1e-12)
    files = scene_files(d, SID)
    assert meta["source_files"][files["mesh"].name] == files["mesh"].stat().st_size


def test_overlapping_segment_goes_to_last_group(tmp_path):
    groups = [{"objectId": 0, "label": "chair", "segments": [5, 18]},
              {"objectId": 1, "label": "bed", "segments": [18, 31]}]
    d, v, c, f, seg, groups, m, lm = random_scene(tmp_path, seed=4, groups=groups)
    out = process_scene(d, SID, lm)
    inst, _, _ = brute_force_labels(len(v), seg, groups, lm)
    np.testing.assert_array_equal(out.arrays["instance"], inst)
    assert (out.arrays["instance"][seg == 18] == 2).all()
    assert out.meta["segments_in_several_objects"] == 1


def test_empty_aggregation_and_identity(tmp_path):
    d, v, *_ , lm = random_scene(tmp_path, groups=[], matrix=np.eye(4))
    scene_files(d, SID)["info"].write_bytes(b"sceneType = Bathroom\r\n")  # no axisAlignment
    out = process_scene(d, SID, lm)
    np.testing.assert_array_equal(out.arrays["coord"], v)
    assert not out.arrays["instance"].any() and not out.arrays["segment_nyu40"].any()
    assert (out.arrays["segment20"] == -1).all()
    assert out.arrays["boxes"].shape == (0, 7) and out.arrays["box_labels"].shape == (0,)
    assert out.meta["axis_alignment_in_file"] is False and out.meta["num_objects"] == 0


def test_unannotated_test_scene(tmp_path):
    d, v, *_ = random_scene(tmp_path)
    for k in ("segs", "aggregation"):
        scene_files(d, SID)[k].unlink()
    out = process_scene(d, SID, None, annotated=False)
    assert out.arrays["coord"].shape == v.shape and out.arrays["boxes"].shape == (0, 7)
    assert (out.arrays["segment20"] == -1).all()


@pytest.mark.parametrize("case", ["missing_segs", "missing_aggregation", "seg_count",
                                  "unknown_label", "unknown_segment", "singular", "nan_vertex",
                                  "truncated"])
def test_scene_errors_name_file_and_problem(tmp_path, case):
    d, v, c, f, seg, groups, m, lm = random_scene(tmp_path)
    files = scene_files(d, SID)
    expect = {"missing_segs": (MissingFileError, "segs", "not found"),
              "missing_aggregation": (MissingFileError, "aggregation", "not found"),
              "seg_count": (SegCountMismatchError, "segs", "entries but the mesh has"),
              "unknown_label": (UnknownLabelError, "aggregation", "'sofa thing', 'zebra'"),
              "unknown_segment": (UnknownSegmentError, "aggregation", "2 segment ids not in"),
              "singular": (AxisAlignmentError, "info", "not invertible"),
              "nan_vertex": (NonFiniteVerticesError, "mesh", "NaN/inf"),
              "truncated": (PlyReadError, "mesh", "truncated")}[case]
    if case == "missing_segs":
        files["segs"].unlink()
    elif case == "missing_aggregation":
        files["aggregation"].unlink()
    elif case == "seg_count":
        files["segs"].write_text(json.dumps({"segIndices": seg[:-1].tolist()}))
    elif case in ("unknown_label", "unknown_segment"):
        extra = ([{"objectId": 9, "label": "zebra", "segments": [5]},
                  {"objectId": 10, "label": "sofa thing", "segments": [18]}]
                 if case == "unknown_label" else
                 [{"objectId": 9, "label": "bed", "segments": [6, 5, 100000]}])
        write_raw_scene(d, SID, v, c, f, seg, groups + extra, m)
    elif case == "singular":
        bad = m.copy()
        bad[2, :3] = 0
        write_raw_scene(d, SID, v, c, f, seg, groups, bad)
    elif case == "nan_vertex":
        v2 = v.copy()
        v2[7] = np.nan
        write_raw_scene(d, SID, v2, c, f, seg, groups, m)
    elif case == "truncated":
        data = files["mesh"].read_bytes()
        files["mesh"].write_bytes(data[: len(data) // 2])
    err_type, file_key, problem = expect
    with pytest.raises(err_type, match=problem) as e:
        process_scene(d, SID, lm)
    msg = str(e.value)
    assert isinstance(e.value, ScanNetError) and "\n" not in msg
    assert msg.startswith(str(files[file_key]) + ": ")
