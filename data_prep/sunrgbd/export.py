"""Reader for the widely used MATLAB export ``sunrgbd_trainval/{depth,calib,label,image}``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data_prep.validate import check_box_sizes, check_coords, check_finite, check_rotation

from .errors import SunrgbdError
from .geometry import label_to_box
from .matio import read_numeric
from .record import SunrgbdSample, assign_labels

EXPORT_DIRS = ("depth", "calib", "label")


def find_export_root(root: str | os.PathLike) -> Path | None:
    """``root`` or ``root/sunrgbd_trainval`` when it has depth/, calib/ and label/; else None."""
    for cand in (Path(root), Path(root) / "sunrgbd_trainval"):
        if all((cand / d).is_dir() for d in EXPORT_DIRS):
            return cand
    return None


def discover_export_ids(root: str | os.PathLike) -> list[str]:
    """Sample ids (file stems of ``depth/*.mat``), sorted."""
    return sorted(p.stem for p in (Path(root) / "depth").glob("*.mat"))


def read_export_split(root: str | os.PathLike) -> tuple[dict[str, str], list[str]]:
    """{id: 'train'|'val'} from ``train_data_idx.txt``/``val_data_idx.txt`` (1-based ints), and
    the list of files used (empty when there are none)."""
    split, used = {}, []
    for fname, name in (("train_data_idx.txt", "train"), ("val_data_idx.txt", "val")):
        path = Path(root) / fname
        if not path.is_file():
            continue
        used.append(str(path))
        for n, line in enumerate(path.read_bytes().decode("utf-8-sig", "replace").splitlines(), 1):
            if line.strip():
                try:
                    sid = f"{int(line.strip()):06d}"
                except ValueError:
                    raise SunrgbdError(path, f"line {n}: not an integer id: {line.strip()!r}") from None
                if split.get(sid, name) != name:
                    raise SunrgbdError(path, f"line {n}: id {sid} is in both the {split[sid]} and the {name} list")
                split[sid] = name
    return split, used


def read_calib(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``calib/%06d.txt``: line 1 Rtilt, line 2 K, 9 numbers each in column-major order."""
    if not path.is_file():
        raise SunrgbdError(path, "calibration file not found")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    if len(lines) < 2:
        raise SunrgbdError(path, f"expected 2 lines (Rtilt, K), found {len(lines)}")
    mats = []
    for n, line in enumerate(lines[:2], 1):
        try:
            values = [float(v) for v in line.replace(",", " ").split()]
        except ValueError as exc:
            raise SunrgbdError(path, f"line {n}: non-numeric value ({exc})") from None
        if len(values) != 9:
            raise SunrgbdError(path, f"line {n}: expected 9 numbers, found {len(values)}")
        mats.append(np.asarray(values, dtype=np.float64).reshape(3, 3, order="F"))
    try:
        check_rotation(mats[0], "Rtilt (line 1)")
        check_finite(mats[1], "K (line 2)")
    except ValueError as err:
        raise SunrgbdError(path, str(err)) from None
    if mats[1][0, 0] <= 0 or mats[1][1, 1] <= 0:
        raise SunrgbdError(path, "K (line 2): focal lengths must be positive")
    return mats[0], mats[1]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_label_line(line: str) -> tuple[str, np.ndarray]:
    """``class xmin ymin w h cx cy cz w l h ox oy`` -> (class name, project box (7,)).

    The 2D box is ignored; ``w l h`` are HALF sizes (l along the orientation vector).
    Class names may contain spaces: the last 12 tokens are the numbers.
    """
    tokens = line.split()
    if len(tokens) < 13:
        raise ValueError(f"expected a class name and 12 numbers, found {len(tokens)} fields")
    name, nums = " ".join(tokens[:-12]), tokens[-12:]
    if _is_number(tokens[-13]):  # e.g. the 16-number frustum-pointnets variant
        n_num = 0
        while n_num < len(tokens) and _is_number(tokens[-1 - n_num]):
            n_num += 1
        raise ValueError(f"expected a class name and 12 numbers, found {n_num} numbers")
    try:
        values = [float(v) for v in nums]
    except ValueError as exc:
        raise ValueError(f"non-numeric field ({exc})") from None
    cx, cy, cz, w, l, h, ox, oy = values[4:]
    check_coords([cx, cy, cz], "box centre")
    check_box_sizes([2 * w, 2 * l, 2 * h], "box size (2 x half sizes w l h)")
    return name, label_to_box((cx, cy, cz), w, l, h, ox, oy)


def read_labels(path: Path) -> tuple[list[str], list[np.ndarray]]:
    """All label lines of one image; an empty file means no annotated object (valid)."""
    if not path.is_file():
        raise SunrgbdError(path, "label file not found")
    names, boxes = [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            name, box = parse_label_line(line)
        except ValueError as exc:
            raise SunrgbdError(path, f"line {n}: {exc}") from None
        names.append(name)
        boxes.append(box)
    return names, boxes


def read_export_sample(root: str | os.PathLike, sample_id: str) -> SunrgbdSample:
    """Read one exported image (``depth/<id>.mat`` variable ``instance`` (N,6), calib, label)."""
    root = Path(root)
    depth_path = root / "depth" / f"{sample_id}.mat"
    inst = read_numeric(depth_path, "instance")
    if inst.ndim != 2 or inst.shape[1] != 6:
        raise SunrgbdError(depth_path, f"'instance' must be N x 6, got shape {inst.shape}")
    if len(inst) == 0:
        raise SunrgbdError(depth_path, "'instance' has no points")
    if not np.all(np.isfinite(inst)):
        raise SunrgbdError(depth_path, "'instance' has non-finite values")
    try:
        check_coords(inst[:, :3], "'instance' xyz")
    except ValueError as err:
        raise SunrgbdError(depth_path, str(err)) from None
    Rtilt, K = read_calib(root / "calib" / f"{sample_id}.txt")
    label_path = root / "label" / f"{sample_id}.txt"
    names, boxes = read_labels(label_path)
    boxes_arr, labels, dropped = assign_labels(names, boxes)
    image_path = root / "image" / f"{sample_id}.jpg"
    source = {"layout": "export", "depth": str(depth_path), "label": str(label_path),
              "image": str(image_path) if image_path.is_file() else None}
    return SunrgbdSample(sample_id, inst.astype(np.float32), boxes_arr, labels, Rtilt, K,
                         dropped, source)
