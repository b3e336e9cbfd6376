"""Bad annotations and geometry stop at preparation, per scene, with the reason (docs/reliability.md)."""
import io
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))


def _strict_json(path: Path):
    def refuse(name):
        raise AssertionError(f"{path}: non-strict JSON constant {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def broken_raw(tmp_path_factory):
    """5 synthetic train/val scenes; four of them broken in a different way, one unaligned."""
    from plyfile import PlyData, PlyElement

    from data_prep.synthetic.scannet import make_scannet_demo

    root = tmp_path_factory.mktemp("broken") / "raw"
    make_scannet_demo(root, num_scenes=5, seed=1, num_test_scenes=0, frames=0, progress=False)
    scans = root / "scans"

    def edit_alignment(sid, fn):
        info = scans / sid / f"{sid}.txt"
        lines = info.read_text().splitlines()
        out = []
        for line in lines:
            if line.startswith("axisAlignment"):
                m = np.array([float(v) for v in line.split("=")[1].split()]).reshape(4, 4)
                m = fn(m)
                if m is None:
                    continue
                line = "axisAlignment = " + " ".join(f"{v:.6f}" for v in m.ravel())
            out.append(line)
        info.write_text("\r\n".join(out) + "\r\n")

    def scaled(m):
        m = m.copy()
        m[:3, :3] *= 1e6
        return m

    edit_alignment("scene0000_00", scaled)  # not rigid
    edit_alignment("scene0003_00", lambda m: None)  # annotated scene without axisAlignment
    ply_path = scans / "scene0001_00" / "scene0001_00_vh_clean_2.ply"
    ply = PlyData.read(io.BytesIO(ply_path.read_bytes()))  # not memory-mapped: rewritten below
    vertex = ply["vertex"].data.copy()
    vertex["x"][7] = 1e30  # huge coordinate (finite in float32)
    PlyData([PlyElement.describe(vertex, "vertex"), ply["face"]], text=False).write(str(ply_path))
    ply_path = scans / "scene0002_00" / "scene0002_00_vh_clean_2.ply"
    ply = PlyData.read(io.BytesIO(ply_path.read_bytes()))  # not memory-mapped: rewritten below
    PlyData([ply["vertex"]], text=False).write(str(ply_path))  # no faces
    return root


def test_prepare_scannet_stops_bad_scenes_with_reasons(broken_raw, tmp_path, capsys):
    import prepare_scannet as tool

    out = tmp_path / "out"
    assert tool.main([str(broken_raw), str(out), "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    reasons = dict(line.strip().split(": ", 1) for line in err.splitlines() if line.startswith("  scene"))
    assert "axisAlignment's 3x3 part is not a rotation" in reasons["scene0000_00"]
    # 1e30 along x, rotated about z by the alignment: ~1e30 m either way
    assert re.search(r"coordinates reach \d\.\d+e\+(29|30) m \(limit 10000 m\)", reasons["scene0001_00"])
    assert "mesh has no faces" in reasons["scene0002_00"]
    assert "warning: 1 annotated scene(s) have no axisAlignment in <id>.txt and were prepared unaligned " \
           "(scan frame): scene0003_00" in err
    index = _strict_json(out / "index.json")
    assert sorted(index["scenes"]) == ["scene0003_00", "scene0004_00"]
    sizes = [v for row in index["class_mean_sizes"] if row is not None for v in row]
    assert sizes and all(0 < v < 100 for v in sizes)  # the scaled scene did not reach the means
    for sid in ("scene0000_00", "scene0001_00", "scene0002_00"):
        assert not (out / "scans" / sid).exists()


def _label_line(w=0.5, l=0.4, h=0.3, cx=1.0):
    return f"chair 10 20 30 40 {cx} 2.0 0.5 {w} {l} {h} 1.0 0.0"


@pytest.mark.parametrize("values, needle", [
    (dict(w="nan"), "NaN/inf"), (dict(h="inf"), "NaN/inf"), (dict(l=-0.2), "outside (0, 100] m"),
    (dict(w=0), "outside (0, 100] m"), (dict(cx=1e30), "reach 1e+30 m"),
])
def test_sunrgbd_label_values_are_checked(values, needle):
    from data_prep.sunrgbd.export import parse_label_line

    name, box = parse_label_line(_label_line())
    assert np.allclose(box[3:6], [0.8, 1.0, 0.6])  # full sizes = 2 x half sizes, l along the heading (+x)
    with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        parse_label_line(_label_line(**values))


def test_sunrgbd_calib_is_checked(tmp_path):
    from data_prep.sunrgbd.errors import SunrgbdError
    from data_prep.sunrgbd.export import read_calib

    k = "529.5 0 0 0 529.5 0 365 265 1"
    cases = {"zero_rtilt.txt": ("0 0 0 0 0 0 0 0 0", k, "is not a rotation"),
             "nan_rtilt.txt": ("1 0 0 0 1 0 0 0 nan", k, "NaN/inf"),
             "nan_k.txt": ("1 0 0 0 1 0 0 0 1", "nan 0 0 0 529.5 0 365 265 1", "NaN/inf")}
    for name, (rtilt, kk, needle) in cases.items():
        (tmp_path / name).write_text(f"{rtilt}\n{kk}\n")
        with pytest.raises(SunrgbdError, match=needle) as excinfo:
            read_calib(tmp_path / name)
        assert str(excinfo.value).startswith(str(tmp_path / name))
    (tmp_path / "ok.txt").write_text(f"1 0 0 0 1 0 0 0 1\n{k}\n")
    rtilt, K = read_calib(tmp_path / "ok.txt")
    assert np.allclose(rtilt, np.eye(3)) and K[0, 0] == 529.5


def test_s3dis_huge_coordinates_name_the_line(tmp_path):
    from data_prep.s3dis.errors import MalformedLineError
    from data_prep.s3dis.reader import read_point_text

    path = tmp_path / "chair_1.txt"
    path.write_text("1.0 2.0 0.5 10 20 30\n1e30 2.0 0.5 10 20 30\n")
    with pytest.raises(MalformedLineError, match="beyond 10000 m") as excinfo:
        read_point_text(path)
    assert f"{path}:2" in str(excinfo.value) or "line 2" in str(excinfo.value)


def test_json_outputs_are_strict(tmp_path):
    from voxclip.utils.atomic import atomic_save_json

    path = tmp_path / "index.json"
    with pytest.raises(ValueError, match="non-finite number"):
        atomic_save_json(path, {"size": [1.0, math.inf]})
    assert not path.exists() and not list(tmp_path.iterdir())
