"""Plausibility checks shared by the preparation tools; each raises ValueError with the reason, which
the caller wraps in its dataset's error naming the file (docs/reliability.md lists the ranges).

Indoor scenes span tens of metres; the limits below are loose enough for any real room or building
and tight enough to stop a scaled matrix (1e6), float overflow (3e38) or a broken sensor value
before it reaches dataset-wide statistics such as the mean box sizes.
"""
from __future__ import annotations

import numpy as np

MAX_COORD = 1.0e4        # metres: |x|, |y|, |z| of any point or box centre
MAX_BOX_SIZE = 100.0     # metres: full box size along any axis
ROTATION_ATOL = 1.0e-3   # |R^T R - I| and |det R - 1|

__all__ = ["MAX_COORD", "MAX_BOX_SIZE", "ROTATION_ATOL", "check_coords", "check_rotation", "check_rigid",
           "check_box_sizes", "check_finite"]


def check_finite(values, what: str) -> None:
    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        raise ValueError(f"{what} holds NaN/inf")


def check_coords(points, what: str = "coordinates") -> None:
    """Finite and within +-MAX_COORD metres."""
    p = np.asarray(points, dtype=np.float64)
    check_finite(p, what)
    if p.size and np.abs(p).max() > MAX_COORD:
        raise ValueError(f"{what} reach {np.abs(p).max():.3g} m (limit {MAX_COORD:g} m): wrong units or corrupt")


def check_rotation(rot, what: str = "rotation") -> None:
    """A proper rotation: orthonormal with determinant +1 (no scale, shear or mirror)."""
    r = np.asarray(rot, dtype=np.float64)
    check_finite(r, what)
    err = np.abs(r.T @ r - np.eye(3)).max()
    det = float(np.linalg.det(r))
    if err > ROTATION_ATOL or abs(det - 1.0) > ROTATION_ATOL:
        raise ValueError(f"{what} is not a rotation (|R^T R - I| = {err:.3g}, det = {det:.6g}): "
                         f"scaled, sheared, mirrored or all zero")


def check_rigid(matrix, what: str = "transform") -> None:
    """4x4 rigid transform: rotation part, translation within MAX_COORD."""
    m = np.asarray(matrix, dtype=np.float64)
    check_rotation(m[:3, :3], f"{what}'s 3x3 part")
    if np.abs(m[:3, 3]).max() > MAX_COORD:
        raise ValueError(f"{what}'s translation {m[:3, 3].tolist()} exceeds {MAX_COORD:g} m")


def check_box_sizes(sizes, what: str = "box size") -> None:
    """Full sizes: finite, > 0 and <= MAX_BOX_SIZE metres."""
    s = np.asarray(sizes, dtype=np.float64)
    check_finite(s, what)
    if s.size and (s.min() <= 0 or s.max() > MAX_BOX_SIZE):
        raise ValueError(f"{what} {s.tolist()} outside (0, {MAX_BOX_SIZE:g}] m")
