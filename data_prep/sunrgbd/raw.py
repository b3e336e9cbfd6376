"""Reader for the raw SUN RGB-D release (per-image folders) and the toolbox split/meta files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import SunrgbdError
from .geometry import decode_depth, depth_to_upright_points, polygon_to_box, rtilt_from_extrinsics
from .matio import read_string_cells, read_struct_strings
from .record import SunrgbdSample, assign_labels

# Toolbox split file and the v2 meta file whose order defines the %06d ids of the export.
SPLIT_CANDIDATES = ("allsplit.mat", "SUNRGBDtoolbox/traintestSUNRGBD/allsplit.mat",
                    "traintestSUNRGBD/allsplit.mat")
META_CANDIDATES = ("SUNRGBDMeta3DBB_v2.mat",)


def find_sunrgbd_dir(root: str | os.PathLike) -> Path:
    """``root/SUNRGBD`` when present, else ``root`` itself."""
    root = Path(root)
    return root / "SUNRGBD" if (root / "SUNRGBD").is_dir() else root


def find_first(root: str | os.PathLike, candidates) -> Path | None:
    for rel in candidates:
        if (Path(root) / rel).is_file():
            return Path(root) / rel
    return None


def discover_raw_folders(sunrgbd_dir: str | os.PathLike) -> list[str]:
    """Relative posix paths (e.g. ``kv2/kinect2data/000065_...``) of folders with intrinsics.txt."""
    found = []
    for dirpath, dirnames, filenames in os.walk(sunrgbd_dir):
        if "intrinsics.txt" in filenames:
            found.append(Path(dirpath).relative_to(sunrgbd_dir).as_posix())
            dirnames[:] = []  # an image folder holds no further image folders
        else:
            dirnames.sort()
    return sorted(found)


def folder_key(path: str) -> str:
    """Toolbox paths ('/n/fs/sun3d/data/SUNRGBD/kv1/NYUdata/NYU0001/') -> 'kv1/NYUdata/NYU0001'."""
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p]
    if "SUNRGBD" in parts:
        parts = parts[len(parts) - parts[::-1].index("SUNRGBD"):]
    return "/".join(parts)


def read_raw_split(path: str | os.PathLike) -> dict[str, str]:
    """``allsplit.mat`` -> {folder key: 'train' | 'val'} (alltrain -> train, alltest -> val)."""
    split = {}
    for var, name in (("alltrain", "train"), ("alltest", "val")):
        for entry in read_string_cells(path, var):
            key = folder_key(entry)
            if split.get(key, name) != name:
                raise SunrgbdError(path, f"{key} is in both alltrain and alltest")
            split[key] = name
    return split


def read_meta_order(path: str | os.PathLike) -> list[str]:
    """Folder keys in ``SUNRGBDMeta`` order: entry i (0-based) is export id ``%06d % (i+1)``.

    Like extract_split.m, the folder is the parent of the depth file's folder.
    """
    depth_paths = read_struct_strings(path, "SUNRGBDMeta", "depthpath")
    return [folder_key(p.strip().replace("\\", "/").rsplit("/", 2)[0]) for p in depth_paths]


def _read_floats(path: Path) -> list[list[float]]:
    if not path.is_file():
        raise SunrgbdError(path, "file not found")
    try:
        rows = [[float(v) for v in line.replace(",", " ").split()]
                for line in path.read_text().splitlines() if line.strip()]
    except ValueError as exc:
        raise SunrgbdError(path, f"non-numeric value ({exc})") from None
    return rows


def read_intrinsics(path: Path) -> np.ndarray:
    """``intrinsics.txt``: 9 numbers, row-major 3x3 (the toolbox reads them with fscanf + ')."""
    values = [v for row in _read_floats(path) for v in row]
    if len(values) != 9:
        raise SunrgbdError(path, f"expected 9 numbers (3x3 K), found {len(values)}")
    K = np.asarray(values, dtype=np.float64).reshape(3, 3)
    if not np.isfinite(K).all():
        raise SunrgbdError(path, "intrinsics hold NaN/inf")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise SunrgbdError(path, "focal lengths must be positive")
    return K


def read_extrinsics(folder: Path) -> tuple[np.ndarray, Path]:
    """Last ``extrinsics/*.txt`` (sorted, as the toolbox's ``filename(end)``): its 3x3 rotation."""
    files = sorted((folder / "extrinsics").glob("*.txt"))
    if not files:
        raise SunrgbdError(folder / "extrinsics", "no extrinsics/*.txt (camera tilt) found")
    rows = _read_floats(files[-1])
    if len(rows) < 3 or any(len(r) < 3 for r in rows[:3]):
        raise SunrgbdError(files[-1], "expected a 3x4 (or 3x3) matrix")
    rot = np.asarray([r[:3] for r in rows[:3]], dtype=np.float64)
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-2) or np.linalg.det(rot) < 0:
        raise SunrgbdError(files[-1], "rotation part is not a rotation matrix")
    return rot, files[-1]


def _first_file(folder: Path, sub: str, suffix: str) -> Path | None:
    files = sorted((folder / sub).glob(f"*{suffix}")) if (folder / sub).is_dir() else []
    return files[0] if files else None


def read_depth_png(path: Path) -> np.ndarray:
    """A 16-bit depth PNG as uint16 (H,W)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            mode = im.mode
            arr = np.array(im)
    except Exception as exc:
        raise SunrgbdError(path, f"cannot read depth PNG ({exc})") from None
    if arr.ndim != 2 or mode not in ("I;16", "I;16B", "I;16L", "I"):
        raise SunrgbdError(path, f"not a single-channel 16-bit depth PNG (mode {mode})")
    if arr.dtype != np.uint16:
        if arr.min() < 0 or arr.max() > 65535:
            raise SunrgbdError(path, "depth values outside the uint16 range")
        arr = arr.astype(np.uint16)
    return arr


def read_rgb(path: Path) -> np.ndarray:
    """An image as float64 (H,W,3) in [0,1] (MATLAB im2double)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    except Exception as exc:
        raise SunrgbdError(path, f"cannot read image ({exc})") from None


def read_annotation(path: Path) -> tuple[list[str], list[np.ndarray], int]:
    """``annotation3Dfinal/index.json`` -> (names, boxes (7,), number of empty objects skipped)."""
    try:
        doc = json.loads(path.read_text())
    except Exception as exc:
        raise SunrgbdError(path, f"invalid JSON ({exc})") from None
    objects = doc.get("objects") if isinstance(doc, dict) else None
    if not isinstance(objects, list):
        raise SunrgbdError(path, "no 'objects' list")
    names, boxes, empty = [], [], 0
    for i, obj in enumerate(objects):
        # The toolbox skips null objects and objects without a polygon.
        if not obj or not obj.get("polygon"):
            empty += 1
            continue
        poly = obj["polygon"][0]
        try:
            box = polygon_to_box(poly["X"], poly["Z"], poly["Ymin"], poly["Ymax"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SunrgbdError(path, f"object {i} ('{obj.get('name')}'): bad polygon ({exc})") from None
        names.append(str(obj.get("name", "")))
        boxes.append(box)
    return names, boxes, empty


def read_raw_sample(folder: str | os.PathLike, sample_id: str) -> SunrgbdSample:
    """Read one raw image folder into a :class:`SunrgbdSample` (all valid pixels, no sampling)."""
    folder = Path(folder)
    K = read_intrinsics(folder / "intrinsics.txt")
    extr, extr_path = read_extrinsics(folder)
    Rtilt = rtilt_from_extrinsics(extr)
    depth_path = _first_file(folder, "depth_bfx", ".png") or _first_file(folder, "depth", ".png")
    if depth_path is None:
        raise SunrgbdError(folder, "no depth_bfx/*.png or depth/*.png")
    image_path = _first_file(folder, "image", ".jpg")
    if image_path is None:
        raise SunrgbdError(folder / "image", "no image/*.jpg")
    depth = decode_depth(read_depth_png(depth_path))
    rgb = read_rgb(image_path)
    if rgb.shape[:2] != depth.shape:
        raise SunrgbdError(image_path, f"image size {rgb.shape[:2]} != depth size {depth.shape}")
    xyz, flat = depth_to_upright_points(depth, K, Rtilt)
    if len(xyz) == 0:
        raise SunrgbdError(depth_path, "depth map has no valid (non-zero) pixel")
    colours = rgb.transpose(1, 0, 2).reshape(-1, 3)[flat]  # column-major pixel order, as xyz
    points = np.concatenate([xyz, colours], axis=1).astype(np.float32)

    anno_path = folder / "annotation3Dfinal" / "index.json"
    names, boxes, empty = read_annotation(anno_path) if anno_path.is_file() else ([], [], 0)
    boxes_arr, labels, dropped = assign_labels(names, boxes)
    source = {"layout": "raw", "folder": str(folder), "depth": str(depth_path),
              "image": str(image_path), "extrinsics": str(extr_path),
              "annotation": str(anno_path) if anno_path.is_file() else None,
              "empty_objects": empty, "image_size": list(depth.shape)}
    return SunrgbdSample(sample_id, points, boxes_arr, labels, Rtilt, K, dropped, source)
