"""Frame and unit checks for a user's point cloud: the models were trained on z-up scenes in metres.

Indoor scans are a few metres tall and wider than tall; a millimetre export spans thousands of
units, and a y-up export (most mesh tools and game engines) has its smallest extent along y.
"""
from __future__ import annotations

import numpy as np

# (x, y, z) of a y-up cloud -> z-up: rotate +90 degrees about x (right-handed): (x, -z, y)
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], np.float32)


def to_z_up(points: np.ndarray, up: str = "z", scale: float = 1.0) -> np.ndarray:
    """Rescale (`scale`, e.g. 0.001 for millimetres) and rotate a `up`-axis-up cloud to z up."""
    pts = np.asarray(points, np.float32) * np.float32(scale)
    if up == "y":
        pts = pts @ Y_UP_TO_Z_UP.T
    elif up != "z":
        raise ValueError(f"up must be 'z' or 'y', got {up!r}")
    return pts


def frame_warnings(points: np.ndarray, name: str = "") -> list[str]:
    """Warnings when a (z-up, metres expected) cloud looks like millimetres / centimetres or y-up."""
    ext = np.ptp(np.asarray(points, np.float64), axis=0)
    size = float(ext.max()) if len(ext) else 0.0
    where = f"{name}: " if name else ""
    shown = f"extent x {ext[0]:.3g}, y {ext[1]:.3g}, z {ext[2]:.3g}"
    out = []
    if size > 200:
        out.append(f"{where}{shown}: looks like MILLIMETRES (models expect metres); rerun with --scale 0.001")
    elif size > 40:
        out.append(f"{where}{shown}: larger than an indoor scene in metres; centimetres? rerun with --scale 0.01")
    elif 0 < size < 0.2:
        out.append(f"{where}{shown}: smaller than 20 cm; units are not metres?")
    if ext[1] < ext[2] and ext[2] > 1.5 * ext[1] and ext[1] < ext[0]:
        out.append(f"{where}{shown}: the smallest extent is along y, not z: looks Y-UP (models expect z up); "
                   f"rerun with --up y")
    return out
