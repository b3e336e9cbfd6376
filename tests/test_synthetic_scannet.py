"""Synthetic ScanNet generator: every file is re-read here with independent parsers (plyfile,
json, hand-written struct/zlib/PIL decoding of .sens) and checked against geometry facts
(floor at z = 0, walls on the room planes, back-projected depth on the mesh surface)."""
import io
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from plyfile import PlyData

from data_prep.synthetic.layout import choose_kinds, place_objects, sample_room
from data_prep.synthetic.scannet import generate_scene, make_scannet_demo

SEED, SPACING, FRAMES = 5, 0.12, 5
CW, CH, DW, DH = 160, 120, 80, 60
DET_NYU40 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)


def _make(root):
    return make_scannet_demo(root, 2, SEED, num_test_scenes=1, frames=FRAMES, val_fraction=0.5,
                             vertex_spacing=SPACING, color_size=(CW, CH), depth_size=(DW, DH),
                             progress=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("synscannet")
    return root, _make(root)


def _tsv(root):
    raw = (root / "scannetv2-labels.combined.tsv").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") and raw.endswith(b"\r\n")
    lines = raw.decode().split("\r\n")[:-1]
    header = lines[0].split("\t")
    rows = [dict(zip(header, ln.split("\t"))) for ln in lines[1:]]
    return header, {r["raw_category"]: int(r["nyu40id"]) for r in rows}


def _txt(path):
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") > 5
    return dict(ln.split(" = ", 1) for ln in raw.decode().split("\r\n") if ln)


def _axis_alignment(d, sid):
    values = _txt(d / f"{sid}.txt")["axisAlignment"].split()
    return np.array([float(x) for x in values]).reshape(4, 4)


def _load(root, sid, sub="scans"):
    d = root / sub / sid
    ply = PlyData.read(str(d / f"{sid}_vh_clean_2.ply"))
    v = ply["vertex"].data
    xyz = np.stack([v["x"], v["y"], v["z"]], 1).astype(np.float64)
    faces = np.stack(list(ply["face"].data["vertex_indices"]))
    return d, ply, xyz, faces


def _groups(d, sid):
    segs = json.loads((d / f"{sid}_vh_clean_2.0.010000.segs.json").read_text())
    agg = json.loads((d / f"{sid}.aggregation.json").read_text())
    return segs, agg


def test_layout_splits_and_tsv(demo):
    root, ids = demo
    assert ids == ["scene0000_00", "scene0001_00", "scene0002_00"]
    split = {s: (root / f"scannetv2_{s}.txt").read_text().split() for s in ("train", "val", "test")}
    assert sorted(split["train"] + split["val"]) == ids[:2] and len(split["val"]) == 1
    assert split["test"] == ["scene0002_00"]
    for sid in ids[:2]:
        names = {p.name for p in (root / "scans" / sid).iterdir()}
        assert names == {f"{sid}_vh_clean_2.ply", f"{sid}_vh_clean_2.0.010000.segs.json",
                         f"{sid}.aggregation.json", f"{sid}.txt", f"{sid}.sens"}
    names = {p.name for p in (root / "scans_test" / "scene0002_00").iterdir()}
    assert names == {"scene0002_00_vh_clean_2.ply", "scene0002_00.txt", "scene0002_00.sens"}
    assert "axisAlignment" not in _txt(root / "scans_test" / "scene0002_00" / "scene0002_00.txt")
    header, mapping = _tsv(root)
    assert header == ["id", "raw_category", "category", "count", "nyu40id", "eigen13id",
                      "nyuClass", "nyu40class", "eigen13class", "ModelNet40", "ModelNet10",
                      "ShapeNetCore55", "synsetoffset", "wnsynsetid", "wnsynsetkey", "mpcat40",
                      "mpcat40index"]
    assert mapping["office chair"] == 5 and mapping["kitchen cabinet"] == 3
    assert mapping["trash can"] == 39 and mapping["couch"] == 6 and mapping["lamp"] == 35


def test_mesh_segs_and_aggregation(demo):
    root, ids = demo
    _, mapping = _tsv(root)
    for sid in ids[:2]:
        d, ply, xyz, faces = _load(root, sid)
        names = [p.name for p in ply["vertex"].properties]
        assert names == ["x", "y", "z", "red", "green", "blue", "alpha"]
        assert ply["vertex"].data["x"].dtype == np.float32
        assert ply["vertex"].data["red"].dtype == np.uint8 and ply.byte_order == "<"
        assert faces.shape[1] == 3 and faces.min() >= 0 and faces.max() < len(xyz)
        tri = xyz[faces]  # every triangle has a positive area
        area2 = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        assert area2.min() > 1e-6
        segs, agg = _groups(d, sid)
        assert segs["sceneId"] == sid and agg["segmentsFile"].endswith("segs.json")
        seg = np.asarray(segs["segIndices"])
        assert len(seg) == len(xyz)
        used = set()
        for g in agg["segGroups"]:
            assert set(g["segments"]) <= set(seg.tolist())
            assert not used & set(g["segments"])  # a segment belongs to one object
            used |= set(g["segments"])
            assert g["label"] in mapping
        oids = [g["objectId"] for g in agg["segGroups"]]
        assert sorted(oids) == list(range(len(oids)))
        labels = [mapping[g["label"]] for g in agg["segGroups"]]
        n_det = sum(lab in DET_NYU40 for lab in labels)
        assert 5 <= n_det <= 10 and labels.count(1) == 4 and labels.count(2) == 1
        assert any(lab not in DET_NYU40 + (1, 2) for lab in labels)  # clutter
        # over-segmentation: each object made of several patches
        big = [g for g in agg["segGroups"] if mapping[g["label"]] in (1, 2, 4, 6, 7, 10)]
        assert all(len(g["segments"]) >= 3 for g in big)


def test_axis_alignment_maps_raw_to_aligned(demo):
    root, ids = demo
    for sid in ids[:2]:
        d, _, raw, _ = _load(root, sid)
        m = _axis_alignment(d, sid)
        assert not np.allclose(m, np.eye(4), atol=1e-3)
        aligned = raw @ m[:3, :3].T + m[:3, 3]
        scene = generate_scene(sid, SEED, vertex_spacing=SPACING)
        np.testing.assert_allclose(aligned, scene.vertices, atol=2e-4)
        # independent facts of the aligned frame: floor at z = 0, walls on x/y planes
        segs, agg = _groups(d, sid)
        seg = np.asarray(segs["segIndices"])
        W, L = aligned[:, 0].max(), aligned[:, 1].max()
        np.testing.assert_allclose(aligned.min(0), 0.0, atol=2e-4)
        for g in agg["segGroups"]:
            pts = aligned[np.isin(seg, g["segments"])]
            if g["label"] == "floor":
                np.testing.assert_allclose(pts[:, 2], 0.0, atol=2e-4)
            if g["label"] == "wall":
                on = [np.abs(pts[:, 0]).max(), np.abs(pts[:, 0] - W).max(),
                      np.abs(pts[:, 1]).max(), np.abs(pts[:, 1] - L).max()]
                assert min(on) < 2e-4
        # and the raw floor is not axis-aligned in x/y (the scan frame is rotated)
        assert abs(np.cos(4 * np.arctan2(m[1, 0], m[0, 0]))) < 0.999


def test_detection_boxes_brute_force_and_separable(demo):
    root, ids = demo
    _, mapping = _tsv(root)
    for sid in ids[:2]:
        d, _, raw, _ = _load(root, sid)
        m = _axis_alignment(d, sid)
        segs, agg = _groups(d, sid)
        seg = np.asarray(segs["segIndices"])
        boxes = {}
        for g in agg["segGroups"]:
            if mapping[g["label"]] not in DET_NYU40:
                continue
            lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
            for i in np.flatnonzero(np.isin(seg, g["segments"])):  # brute-force min/max
                p = m[:3, :3] @ raw[i] + m[:3, 3]
                lo, hi = np.minimum(lo, p), np.maximum(hi, p)
            boxes[g["objectId"]] = (lo, hi, DET_NYU40.index(mapping[g["label"]]))
        gt, labels, oids = generate_scene(sid, SEED, vertex_spacing=SPACING).detection_boxes()
        assert sorted(boxes) == oids.tolist()
        for b, lab, oid in zip(gt, labels, oids):
            lo, hi, ref = boxes[oid]
            np.testing.assert_allclose(b[:3], (lo + hi) / 2, atol=1e-5)
            np.testing.assert_allclose(b[3:6], hi - lo, atol=1e-5)
            assert lab == ref and b[6] == 0 and np.all(b[3:6] > 0.02)
        vals = list(boxes.values())
        for i in range(len(vals)):  # no two detection boxes share volume
            for j in range(i + 1, len(vals)):
                (alo, ahi, _), (blo, bhi, _) = vals[i], vals[j]
                assert np.clip(np.minimum(ahi, bhi) - np.maximum(alo, blo), 0, None).prod() == 0


def _read_sens(path):
    """Independent .sens v4 reader (struct-based), returns header dict and frame list."""
    buf = path.read_bytes()
    off = 0

    def take(fmt):
        nonlocal off
        out = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return out

    version, = take("I")
    n, = take("Q")
    name = buf[off:off + n].decode()
    off += n
    mats = [np.array(take("16f")).reshape(4, 4) for _ in range(4)]
    ccomp, dcomp = take("ii")
    cw, ch, dw, dh = take("IIII")
    shift, = take("f")
    nframes, = take("Q")
    assert off == 304 + n
    frames = []
    for _ in range(nframes):
        pose = np.array(take("16f")).reshape(4, 4)
        _, _, nc, nd = take("QQQQ")
        color, depth = buf[off:off + nc], buf[off + nc:off + nc + nd]
        off += nc + nd
        frames.append((pose, color, depth))
    imu, = take("Q")
    assert off == len(buf) and imu == 0
    return dict(version=version, name=name, mats=mats, comp=(ccomp, dcomp), size=(cw, ch, dw, dh),
                shift=shift), frames


def _point_mesh_distance(p, verts, faces):
    """Brute-force distance from p (3,) to the triangles near it."""
    tri = verts[faces]
    near = np.linalg.norm(tri.mean(1) - p, axis=1) < 0.5
    a, b, c = tri[near, 0], tri[near, 1], tri[near, 2]
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    h = np.einsum("ij,ij->i", p - a, n)
    q = p - h[:, None] * n
    inside = np.ones(len(a), bool)
    for u, v in ((a, b), (b, c), (c, a)):  # same side of all three edges as the normal
        inside &= np.einsum("ij,ij->i", np.cross(v - u, q - u), n) >= -1e-9
    best = np.where(inside, np.abs(h), np.inf)
    for u, v in ((a, b), (b, c), (c, a)):
        t = np.clip(np.einsum("ij,ij->i", p - u, v - u) / np.einsum("ij,ij->i", v - u, v - u), 0, 1)
        best = np.minimum(best, np.linalg.norm(p - (u + t[:, None] * (v - u)), axis=1))
    return best.min()


@pytest.mark.parametrize("sub,idx", [("scans", 0), ("scans_test", 2)])
def test_sens_decodes_and_depth_lands_on_mesh(demo, sub, idx):
    root, ids = demo
    sid = ids[idx]
    d, _, raw, faces = _load(root, sid, sub)
    head, frames = _read_sens(d / f"{sid}.sens")
    assert head["version"] == 4 and head["comp"] == (2, 1) and head["shift"] == 1000.0
    assert head["size"] == (CW, CH, DW, DH) and len(frames) == FRAMES
    kc, ec, kd, ed = head["mats"]
    np.testing.assert_allclose(ec, np.eye(4)) and np.testing.assert_allclose(ed, np.eye(4))
    assert kd[0, 1] == 0 and kd[2, 2] == 1 and kd[3, 3] == 1 and 0 < kd[0, 2] < DW
    txt = _txt(d / f"{sid}.txt")
    assert abs(float(txt["fx_depth"]) - kd[0, 0]) < 1e-3 and int(txt["numDepthFrames"]) == FRAMES
    bad = [i for i, f in enumerate(frames) if np.isneginf(f[0]).all()]
    assert len(bad) == 1 and bad[0] != 0
    rng = np.random.default_rng(0)
    for i, (pose, color, depth) in enumerate(frames):
        img = Image.open(io.BytesIO(color))
        assert img.format == "JPEG" and img.size == (CW, CH)
        dep = np.frombuffer(zlib.decompress(depth), "<u2").reshape(DH, DW)
        assert (dep > 0).mean() > 0.9 and dep.max() < 12000  # the closed room fills the view
        assert np.asarray(img).mean() > 30
        if i in bad:
            continue
        assert np.all(np.isfinite(pose)) and abs(np.linalg.det(pose[:3, :3]) - 1) < 1e-3
        vs, us = np.nonzero(dep)
        pick = rng.choice(len(us), 12, replace=False)
        for u, v in zip(us[pick], vs[pick]):
            z = dep[v, u] / head["shift"]
            cam = np.array([(u - kd[0, 2]) / kd[0, 0] * z, (v - kd[1, 2]) / kd[1, 1] * z, z, 1.0])
            world = (pose @ cam)[:3]
            assert _point_mesh_distance(world, raw, faces) < 0.02


def test_deterministic_per_seed(demo, tmp_path):
    root, ids = demo
    assert _make(tmp_path / "again") == ids
    again = tmp_path / "again"
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert not [f for f in files if f.name.endswith(".tmp")]
    for f in files:
        assert (root / f).read_bytes() == (again / f).read_bytes(), f
    a = generate_scene("scene0000_00", SEED, vertex_spacing=SPACING).vertices
    b = generate_scene("scene0000_00", SEED + 1, vertex_spacing=SPACING).vertices
    assert a.shape != b.shape or not np.allclose(a, b)


def test_layouts_cover_classes_without_overlap():
    seen = set()
    for s in range(40):
        rng = np.random.default_rng(s)
        room = sample_room(rng)
        placed = place_objects(rng, room, choose_kinds(rng))
        det = [o for o in placed if o.kind not in ("box", "lamp", "backpack")]
        assert 5 <= len(det) <= 10
        seen |= {o.kind for o in det}
        for o in placed:  # inside the room
            lo, hi = o.world_aabb()
            assert lo[0] >= -1e-9 and lo[1] >= -1e-9 and hi[0] <= room.width + 1e-9
            assert hi[1] <= room.length + 1e-9 and lo[2] >= -1e-9 and hi[2] < room.height
    assert {"bed", "chair", "sofa", "table", "desk", "cabinet", "bookshelf", "toilet", "bathtub",
            "garbagebin", "refrigerator", "door", "window", "picture"} <= seen


def test_tool_cli(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import make_demo_data

    out = tmp_path / "raw"
    assert make_demo_data.main([str(out), "--scenes", "1", "--frames", "0", "--test-scenes", "0",
                                "--vertex-spacing", "0.3", "--seed", "2"]) == 0
    head, frames = _read_sens(out / "scans" / "scene0000_00" / "scene0000_00.sens")
    assert frames == [] and head["version"] == 4
    assert (out / "scannetv2_train.txt").read_text() == "scene0000_00\n"
    with pytest.raises(SystemExit) as e:
        make_demo_data.main([str(out), "--scenes", "-1"])
    assert e.value.code != 0
