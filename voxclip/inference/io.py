"""Read a point cloud from a user's file: .ply / .pcd (plyfile / open3d), .npy / .npz, .txt / .xyz.

Every reader returns (points (N, 3) float32, colors (N, 3) uint8 or None); problems raise ValueError
naming the file (tools/infer.py reports them per file).
"""
from __future__ import annotations

import os

import numpy as np

SUFFIXES = (".ply", ".pcd", ".npy", ".npz", ".txt", ".xyz", ".pts")
_NPZ_POINTS = ("coord", "points", "xyz", "pos", "vertices")
_NPZ_COLORS = ("color", "colors", "rgb")


def _colors(c: np.ndarray, path: str) -> np.ndarray:
    c = np.asarray(c, np.float64)
    if not np.isfinite(c).all():
        raise ValueError(f"{path}: non-finite colours")
    if c.size and c.max() <= 1.0:  # colours given in [0, 1]
        c = c * 255.0
    return np.clip(np.round(c), 0, 255).astype(np.uint8)


def _split_columns(arr: np.ndarray, path: str) -> tuple[np.ndarray, np.ndarray | None]:
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise ValueError(f"{path}: expected an (N, 3) xyz or (N, 6) xyz+rgb array, got shape {arr.shape}")
    return arr[:, :3], (_colors(arr[:, 3:6], path) if arr.shape[1] >= 6 else None)


def _read_ply(path: str):
    from plyfile import PlyData

    ply = PlyData.read(path)
    if "vertex" not in ply:
        raise ValueError(f"{path}: PLY file has no 'vertex' element")
    v = ply["vertex"].data
    names = v.dtype.names or ()
    if not all(k in names for k in "xyz"):
        raise ValueError(f"{path}: PLY vertices lack x/y/z (have {list(names)})")
    pts = np.stack([v["x"], v["y"], v["z"]], 1)
    for keys in (("red", "green", "blue"), ("r", "g", "b")):
        if all(k in names for k in keys):
            return pts, _colors(np.stack([v[k] for k in keys], 1), path)
    return pts, None


def _read_pcd(path: str):
    try:
        import open3d as o3d
    except ImportError:
        raise ValueError(f"{path}: reading .pcd needs open3d (pip install 'voxclip[render]'), or convert "
                         f"it to .ply / .npy") from None

    pcd = o3d.io.read_point_cloud(path, format="pcd")
    pts = np.asarray(pcd.points)
    if len(pts) == 0:
        raise ValueError(f"{path}: open3d read no points (not a PCD file, or empty)")
    return pts, (_colors(np.asarray(pcd.colors), path) if pcd.has_colors() else None)


def _read_npz(path: str):
    with np.load(path, allow_pickle=False) as z:
        key = next((k for k in _NPZ_POINTS if k in z.files), None)
        if key is None:
            if len(z.files) == 1:
                return _split_columns(z[z.files[0]], path)
            raise ValueError(f"{path}: no points array (looked for {list(_NPZ_POINTS)}; has {z.files})")
        pts = z[key]
        ckey = next((k for k in _NPZ_COLORS if k in z.files), None)
        if pts.ndim != 2 or pts.shape[1] < 3:
            raise ValueError(f"{path}: '{key}' has shape {pts.shape}, expected (N, 3)")
        return pts[:, :3], (_colors(z[ckey][:, :3], path) if ckey else None)


def _read_txt(path: str):
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    delimiter = "," if "," in first else None
    try:
        arr = np.loadtxt(path, delimiter=delimiter, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: not whitespace/comma separated numbers ({exc})") from None
    return _split_columns(arr, path)


def read_point_cloud(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (N, 3) float32, colors (N, 3) uint8 or None) of a .ply/.pcd/.npy/.npz/.txt/.xyz/.pts file."""
    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: file not found")
    ext = os.path.splitext(path)[1].lower()
    if ext not in SUFFIXES:
        raise ValueError(f"{path}: unsupported point-cloud format {ext!r} (use one of {', '.join(SUFFIXES)})")
    try:
        if ext == ".ply":
            pts, col = _read_ply(path)
        elif ext == ".pcd":
            pts, col = _read_pcd(path)
        elif ext == ".npy":
            pts, col = _split_columns(np.load(path, allow_pickle=False), path)
        elif ext == ".npz":
            pts, col = _read_npz(path)
        else:
            pts, col = _read_txt(path)
    except ValueError:
        raise
    except Exception as exc:  # corrupt files: one line naming the file
        raise ValueError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    pts = np.asarray(pts, np.float32)
    if len(pts) == 0:
        raise ValueError(f"{path}: no points")
    if not np.isfinite(pts).all():
        raise ValueError(f"{path}: non-finite coordinates")
    return pts, col
