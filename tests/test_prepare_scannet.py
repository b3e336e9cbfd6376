"""tools/prepare_scannet.py end to end on hand-made raw trees: outputs, index, resume, overwrite,
failure reporting, sharding. Expected values are recomputed here with plain loops."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_prep.scannet import discover_scenes
from voxclip.classes import SCANNET_DET_CLASSES, SCANNET_DET_NYU40_IDS
from data_prep.scannet.prepare import parse_shard, select_scenes
from data_prep.scannet.raw_writer import write_label_tsv, write_raw_scene

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "prepare_scannet.py"
_spec = importlib.util.spec_from_file_location("prepare_scannet_tool", TOOL)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

LABELS = {"chair": 5, "bed": 4, "wall": 1, "desk": 14}
FILES = {"coord.npy": (np.float32, 3), "color.npy": (np.uint8, 3), "normal.npy": (np.float32, 3),
         "segment_nyu40.npy": (np.int16, None), "segment20.npy": (np.int16, None),
         "instance.npy": (np.int32, None)}


def make_scene(raw, sid, seed, test=False, groups=None):
    """Random small mesh with chair/bed/wall(/desk) objects and a z rotation; returns what the
    test needs to recompute boxes: aligned vertices, per-vertex segment ids, groups."""
    rng = np.random.default_rng(seed)
    n = 120
    v = rng.uniform(0, 3, (n, 3)).astype(np.float32)
    seg = rng.integers(0, 12, n) * 4
    if groups is None:
        groups = [{"objectId": 0, "label": "chair", "segments": [0, 4]},
                  {"objectId": 1, "label": "bed", "segments": [8, 12, 16]},
                  {"objectId": 2, "label": "wall", "segments": [20]}]
        if seed % 2:
            groups.append({"objectId": 3, "label": "desk", "segments": [24, 28]})
    th = rng.uniform(-math.pi, math.pi)
    m = np.eye(4)
    m[:2, :2] = [[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]]
    m[:3, 3] = rng.uniform(-1, 1, 3)
    write_raw_scene(raw / ("scans_test" if test else "scans") / sid, sid, v,
                    rng.integers(0, 256, (n, 3)), rng.integers(0, n, (200, 3)),
                    None if test else seg, None if test else groups, None if test else m)
    aligned = v.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
    return aligned, seg, groups


def make_raw(tmp_path, train=("scene0000_00", "scene0001_00"), val=("scene0002_00",),
             test=("scene0707_00",), split_files=True):
    raw = tmp_path / "raw"
    truth = {}
    for i, sid in enumerate(train + val):
        truth[sid] = make_scene(raw, sid, seed=i)
    for sid in test:
        make_scene(raw, sid, seed=99, test=True)
    write_label_tsv(raw / "scannetv2-labels.combined.tsv", LABELS.items(), newline="\r\r\n",
                    final_newline=False)
    if split_files:
        for name, ids in (("train", train), ("val", val), ("test", test)):
            (raw / f"scannetv2_{name}.txt").write_text("".join(f"{s}\n" for s in ids))
    return raw, truth


def run(raw, out, *extra):
    return tool.main([str(raw), str(out), "--workers", "1", "--no-progress", *extra])


def brute_force_mean_sizes(truth, train_ids):
    sizes = {c: [] for c in range(len(SCANNET_DET_CLASSES))}
    for sid in train_ids:
        aligned, seg, groups = truth[sid]
        for g in groups:
            nyu = LABELS[g["label"]]
            if nyu not in SCANNET_DET_NYU40_IDS:
                continue
            pts = [aligned[i] for i in range(len(seg)) if seg[i] in g["segments"]]
            if pts:
                sizes[SCANNET_DET_NYU40_IDS.index(nyu)].append(
                    [max(p[k] for p in pts) - min(p[k] for p in pts) for k in range(3)])
    return [np.mean(s, axis=0) if s else None for c, s in sizes.items()]


def leftovers(out):
    """Hidden staging/trash folders or temp files: must never survive a run."""
    return [p for p in out.rglob(".*") if p.name != ".index.lock"]


def test_end_to_end_outputs_and_index(tmp_path, capsys):
    raw, truth = make_raw(tmp_path)
    out = tmp_path / "out"
    assert run(raw, out) == 0
    assert "prepared 4, skipped 0" in capsys.readouterr().out
    for sid in ["scene0000_00", "scene0001_00", "scene0002_00", "scene0707_00"]:
        d = out / "scans" / sid
        meta = json.loads((d / "meta.json").read_text())
        n = meta["num_points"]
        assert n == 120 and meta["scene_id"] == sid
        assert np.asarray(meta["axis_align_matrix"]).shape == (4, 4)
        assert set(meta["source_files"]) >= {f"{sid}_vh_clean_2.ply", f"{sid}.txt"}
        for name, (dtype, cols) in FILES.items():
            a = np.load(d / name)
            assert a.dtype == dtype and a.shape == ((n, cols) if cols else (n,)), name
        boxes, labels = np.load(d / "boxes.npy"), np.load(d / "box_labels.npy")
        assert boxes.dtype == np.float32 and labels.dtype == np.int64
        assert boxes.shape == (meta["num_boxes"], 7) and labels.shape == (meta["num_boxes"],)
        if sid == "scene0707_00":  # test scene: no axisAlignment, no labels
            assert meta["num_boxes"] == 0 and meta["axis_alignment_in_file"] is False
            assert (np.load(d / "segment20.npy") == -1).all()
    for split, ids in [("train", ["scene0000_00", "scene0001_00"]), ("val", ["scene0002_00"]),
                       ("test", ["scene0707_00"])]:
        assert (out / "splits" / f"{split}.txt").read_text().split() == ids
    index = json.loads((out / "index.json").read_text())
    assert index["scenes"]["scene0002_00"]["split"] == "val"
    assert index["scenes"]["scene0001_00"]["num_boxes"] == 3  # chair, bed, desk (not wall)
    expected = brute_force_mean_sizes(truth, ["scene0000_00", "scene0001_00"])
    got = index["class_mean_sizes"]
    assert len(got) == 18
    for c in range(18):
        if expected[c] is None:
            assert got[c] is None, SCANNET_DET_CLASSES[c]
        else:
            np.testing.assert_allclose(got[c], expected[c], atol=1e-5)
    assert got[SCANNET_DET_CLASSES.index("desk")] is not None  # train scene 1 has a desk
    assert not leftovers(out)


def test_resume_and_overwrite(tmp_path, capsys):
    raw, _ = make_raw(tmp_path)
    out = tmp_path / "out"
    assert run(raw, out) == 0
    metas = sorted((out / "scans").glob("*/meta.json"))
    stamp = {p: p.stat().st_mtime_ns for p in metas}
    capsys.readouterr()
    assert run(raw, out) == 0
    assert "prepared 0, skipped 4" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in metas} == stamp
    # A scene without meta.json (killed mid-way) is unfinished: redone, the others not.
    (out / "scans" / "scene0001_00" / "meta.json").unlink()
    assert run(raw, out) == 0
    assert "prepared 1, skipped 3" in capsys.readouterr().out
    inode = (out / "scans" / "scene0000_00" / "coord.npy").stat().st_ino
    assert run(raw, out, "--overwrite") == 0
    assert "prepared 4, skipped 0" in capsys.readouterr().out
    assert (out / "scans" / "scene0000_00" / "coord.npy").stat().st_ino != inode
    # A failed overwrite keeps the previous complete scene and says so.
    seg_file = raw / "scans/scene0000_00/scene0000_00_vh_clean_2.0.010000.segs.json"
    seg_file.write_text("{broken")
    assert run(raw, out, "--overwrite", "--scenes", "scene0000_00") == 1
    err = capsys.readouterr().err
    assert "scene0000_00: " in err and "unreadable json" in err and "previous output kept" in err
    assert (out / "scans" / "scene0000_00" / "meta.json").is_file()
    assert not leftovers(out)


def test_broken_scenes_reported_others_finish(tmp_path, capsys):
    raw, truth = make_raw(tmp_path, train=("scene0000_00", "scene0001_00", "scene0003_00",
                                           "scene0004_00"))
    seg_file = raw / "scans/scene0001_00/scene0001_00_vh_clean_2.0.010000.segs.json"
    seg_file.write_text(json.dumps({"segIndices": [0] * 119}))
    make_scene(raw, "scene0003_00", seed=5,
               groups=[{"objectId": 0, "label": "unicorn", "segments": [0]}])
    ply = raw / "scans/scene0004_00/scene0004_00_vh_clean_2.ply"
    ply.write_bytes(ply.read_bytes()[:-100])
    out = tmp_path / "out"
    rc = tool.main([str(raw), str(out), "--workers", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "FAILED scenes (3)" in err
    assert "scene0001_00: " in err and "119 entries but the mesh has 120" in err
    assert "scene0003_00: " in err and "'unicorn'" in err
    assert "scene0004_00: " in err and "truncated" in err
    done = sorted(p.parent.name for p in (out / "scans").glob("*/meta.json"))
    assert done == ["scene0000_00", "scene0002_00", "scene0707_00"]
    assert sorted(p.name for p in (out / "scans").iterdir()) == done  # no partial folders
    assert not leftovers(out)
    index = json.loads((out / "index.json").read_text())
    assert sorted(index["scenes"]) == done


def test_shard_partitions(tmp_path, capsys):
    train = tuple(f"scene000{i}_00" for i in range(5))
    raw, _ = make_raw(tmp_path, train=train, val=())
    sources, _ = discover_scenes(raw)
    all_ids = {s.scene_id for s in sources}
    for n in (1, 2, 3, 7):
        parts = [{s.scene_id for s in select_scenes(sources, shard=(i, n))} for i in range(n)]
        assert set().union(*parts) == all_ids and sum(map(len, parts)) == len(all_ids)
    out = tmp_path / "out"
    assert run(raw, out, "--shard", "0/2") == 0
    first = json.loads((out / "index.json").read_text())["scenes"]
    assert 0 < len(first) < 6
    assert run(raw, out, "--shard", "1/2") == 0
    assert "skipped 0" in capsys.readouterr().out  # disjoint: nothing of shard 0 redone
    index = json.loads((out / "index.json").read_text())
    assert set(index["scenes"]) == all_ids  # the later shard's index covers both
    assert index["splits"] == {"train": 5, "val": 0, "test": 1}
    for bad in ("2/2", "x", "1/0", "-1/3"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_split_lists_and_selection(tmp_path, capsys):
    raw, _ = make_raw(tmp_path)
    make_scene(raw, "scene0555_00", seed=7)  # folder in no list
    with open(raw / "scannetv2_val.txt", "a") as f:
        f.write("scene0666_00\n")  # listed, no folder
    out = tmp_path / "out"
    assert run(raw, out, "--split", "val") == 1
    err = capsys.readouterr().err
    assert "scene0666_00: " in err and "no folder" in err
    assert "scene0555_00: " in err and "no split list" in err
    assert sorted(json.loads((out / "index.json").read_text())["scenes"]) == ["scene0002_00"]
    assert run(raw, out, "--scenes", "scene0000_00", "scene9999_99") == 1
    err = capsys.readouterr().err
    assert "scene9999_99: " in err and "scene0555_00" not in err
    assert (out / "scans/scene0000_00/meta.json").is_file()


def test_no_split_lists_uses_folders(tmp_path, capsys):
    raw, _ = make_raw(tmp_path, split_files=False)
    out = tmp_path / "out"
    assert run(raw, out) == 0
    assert "scans/ -> train, scans_test/ -> test" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["splits"] == {"train": 3, "val": 0, "test": 1}


def test_cli_standalone_without_open3d(tmp_path):
    raw, _ = make_raw(tmp_path, train=("scene0000_00",), val=(), test=())
    out = tmp_path / "out"
    code = ("import sys, runpy; sys.modules['open3d'] = None; sys.modules['torch'] = None; "
            f"sys.argv = ['prepare_scannet.py', {str(raw)!r}, {str(out)!r}, '--workers', '2']; "
            f"runpy.run_path({str(TOOL)!r}, run_name='__main__')")
    env = dict(os.environ, PYTHONPATH="")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (out / "scans/scene0000_00/meta.json").is_file()
    (raw / "scannetv2-labels.combined.tsv").unlink()
    p = subprocess.run([sys.executable, str(TOOL), str(raw), str(out), "--overwrite"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 2 and "label tsv not found" in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("error: ")


def test_failure_while_writing_leaves_nothing(tmp_path, capsys, monkeypatch):
    raw, _ = make_raw(tmp_path, train=("scene0000_00",), val=(), test=())
    out = tmp_path / "out"
    import data_prep.scannet.writer as writer
    real_save, calls = np.save, []

    def flaky_save(f, arr, **kw):  # the disk "fills up" at the fourth array
        calls.append(1)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real_save(f, arr, **kw)

    monkeypatch.setattr(writer.np, "save", flaky_save)
    assert run(raw, out) == 1
    # the file being written, in words (docs/reliability.md)
    assert (f"scene0000_00: {out / 'scans/scene0000_00/segment_nyu40.npy'}: cannot write: no space left on device"
            in capsys.readouterr().err)
    monkeypatch.setattr(writer.np, "save", real_save)
    assert list((out / "scans").iterdir()) == [] and not leftovers(out)
    assert run(raw, out) == 0  # and the next run completes it
    assert (out / "scans/scene0000_00/meta.json").is_file()


def test_generated_scenes_end_to_end(tmp_path):
    """Scenes from the synthetic generator: boxes and labels recomputed from the raw files with
    plyfile/json and plain loops over objects."""
    synthetic = pytest.importorskip("data_prep.synthetic.scannet")
    from plyfile import PlyData

    raw, out = tmp_path / "raw", tmp_path / "out"
    synthetic.make_scannet_demo(raw, 2, seed=3, num_test_scenes=1, frames=0, progress=False)
    assert run(raw, out) == 0
    index = json.loads((out / "index.json").read_text())
    assert len(index["scenes"]) == 3
    tsv = (raw / "scannetv2-labels.combined.tsv").read_bytes().decode().replace("\r", "")
    rows = [r.split("\t") for r in tsv.split("\n") if r]
    ki, vi = rows[0].index("raw_category"), rows[0].index("nyu40id")
    nyu_of = {r[ki]: int(r[vi]) for r in rows[1:]}
    train_ids = (raw / "scannetv2_train.txt").read_text().split()
    for sid in (raw / "scannetv2_train.txt").read_text().split() + \
            (raw / "scannetv2_val.txt").read_text().split():
        d, o = raw / "scans" / sid, out / "scans" / sid
        v = PlyData.read(str(d / f"{sid}_vh_clean_2.ply"))["vertex"]
        xyz = np.stack([v["x"], v["y"], v["z"]], 1).astype(np.float64)
        info = (d / f"{sid}.txt").read_text().splitlines()
        nums = [ln.split("=")[1] for ln in info if ln.startswith("axisAlignment")][0].split()
        m = np.array(nums, float).reshape(4, 4)
        assert not np.allclose(m, np.eye(4))  # the generator writes a real alignment
        aligned = xyz @ m[:3, :3].T + m[:3, 3]
        np.testing.assert_allclose(np.load(o / "coord.npy"), aligned, atol=1e-4)
        seg = np.array(json.loads((d / f"{sid}_vh_clean_2.0.010000.segs.json").read_text())
                       ["segIndices"])
        groups = json.loads((d / f"{sid}.aggregation.json").read_text())["segGroups"]
        inst = np.load(o / "instance.npy")
        exp_boxes, exp_labels = [], []
        for g in sorted(groups, key=lambda g: g["objectId"]):
            mask = np.isin(seg, g["segments"])
            assert (inst[mask] == g["objectId"] + 1).all()
            nyu = nyu_of[g["label"]]
            if nyu in SCANNET_DET_NYU40_IDS and mask.any():
                lo, hi = aligned[mask].min(0), aligned[mask].max(0)
                exp_boxes.append(np.r_[(lo + hi) / 2, hi - lo, 0])
                exp_labels.append(SCANNET_DET_NYU40_IDS.index(nyu))
        assert len(exp_boxes) >= 2
        np.testing.assert_allclose(np.load(o / "boxes.npy"), exp_boxes, atol=1e-4)
        np.testing.assert_array_equal(np.load(o / "box_labels.npy"), exp_labels)
        assert index["scenes"][sid]["split"] == ("train" if sid in train_ids else "val")
