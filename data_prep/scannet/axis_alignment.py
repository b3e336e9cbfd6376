"""Reader for the `axisAlignment` entry of ScanNet's `<id>.txt` (key = value lines, CRLF)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple, Union

import numpy as np

from data_prep.validate import check_rigid

from .errors import AxisAlignmentError, MissingFileError


def read_scene_info(path: Union[str, Path]) -> Dict[str, str]:
    """Parse `key = value` lines (LF / CRLF / CR line ends); lines without '=' are ignored."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "scene info txt not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AxisAlignmentError(path, f"unreadable ({type(err).__name__}: {err})")
    info: Dict[str, str] = {}
    for line in text.splitlines():  # splitlines treats \r\n and a lone \r as line ends
        key, sep, value = line.partition("=")
        if sep:
            key = key.strip()
            if key in info:
                raise AxisAlignmentError(path, f"key {key!r} appears twice")
            info[key] = value.strip()
    return info


def read_axis_alignment(path: Union[str, Path]) -> Tuple[np.ndarray, bool]:
    """Return the 4x4 (row-major) axis alignment matrix, float64, and whether it was present.

    Scenes without an `axisAlignment` entry (the test scenes) get the identity. Raises
    `AxisAlignmentError` for a wrong number of values, non-numbers, NaN/inf, a last row other than
    (0,0,0,1), or a singular matrix.
    """
    path = Path(path)
    info = read_scene_info(path)
    if "axisAlignment" not in info:
        return np.eye(4), False
    fields = info["axisAlignment"].split()
    if len(fields) != 16:
        raise AxisAlignmentError(path, f"axisAlignment has {len(fields)} values, expected 16")
    try:
        m = np.array([float(x) for x in fields], dtype=np.float64).reshape(4, 4)
    except ValueError as err:
        raise AxisAlignmentError(path, f"axisAlignment holds a non-number ({err})")
    if not np.isfinite(m).all():
        raise AxisAlignmentError(path, "axisAlignment holds NaN/inf")
    if not np.allclose(m[3], (0, 0, 0, 1), atol=1e-6):
        raise AxisAlignmentError(path, f"axisAlignment last row {m[3].tolist()} is not (0,0,0,1)")
    # Relative test: a rotation has |det| = 1; anything near 0 relative to its scale is singular.
    scale = max(np.abs(m[:3, :3]).max(), 1e-300)
    if abs(np.linalg.det(m[:3, :3])) <= 1e-9 * scale ** 3:
        raise AxisAlignmentError(path, "axisAlignment is not invertible (singular 3x3 part)")
    try:  # ScanNet's alignments are rotations about z plus a translation: rigid
        check_rigid(m, "axisAlignment")
    except ValueError as err:
        raise AxisAlignmentError(path, str(err)) from None
    return m, True


def apply_transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 4x4 affine `matrix` to (N,3) points (computed in float64); returns float32 (N,3)."""
    p = np.asarray(points, dtype=np.float64)
    return (p @ matrix[:3, :3].T + matrix[:3, 3]).astype(np.float32)
