"""Triangle meshes of rectangles and boxes with roughly uniform vertex spacing.

Every rectangle is its own regular grid (vertices are not shared across box edges, which is
harmless for ScanNet-style processing). Each grid is also cut into square tiles of about
``tile`` metres: the tiles are the over-segmentation patches written to segs.json.
"""

from __future__ import annotations

import math
from typing import List, Tuple

import numpy as np

# The six faces of an axis-aligned box as (origin corner selector, edge a, edge b), with a x b
# pointing outwards so triangles wind counter-clockwise seen from outside.
_FACES = {
    "+x": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "-x": ((0, 0, 0), (0, 0, 1), (0, 1, 0)),
    "+y": ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    "-y": ((0, 0, 0), (1, 0, 0), (0, 0, 1)),
    "+z": ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    "-z": ((0, 0, 0), (0, 1, 0), (1, 0, 0)),
}
FACE_NAMES = tuple(_FACES)


def tessellate_rect(origin: np.ndarray, a: np.ndarray, b: np.ndarray, spacing: float,
                    tile: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid-mesh the rectangle ``origin + s*a + t*b`` (s, t in [0, 1]); normal along a x b.

    Returns vertices (V,3) float64, triangles (F,3) int64 (local indices), patch (V,) int64
    (local tile index, 0..P-1).
    """
    la, lb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    nu, nv = max(1, math.ceil(la / spacing - 1e-9)), max(1, math.ceil(lb / spacing - 1e-9))
    s, t = np.meshgrid(np.linspace(0.0, 1.0, nu + 1), np.linspace(0.0, 1.0, nv + 1),
                       indexing="ij")
    verts = origin + s.reshape(-1, 1) * a + t.reshape(-1, 1) * b
    idx = np.arange((nu + 1) * (nv + 1)).reshape(nu + 1, nv + 1)
    p00, p10 = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    p11, p01 = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    tris = np.concatenate([np.stack([p00, p10, p11], 1), np.stack([p00, p11, p01], 1)])
    ntu, ntv = max(1, round(la / tile)), max(1, round(lb / tile))
    tu = np.minimum((s.ravel() * ntu).astype(np.int64), ntu - 1)
    tv = np.minimum((t.ravel() * ntv).astype(np.int64), ntv - 1)
    return verts, tris, tu * ntv + tv


def rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def tessellate_box(center: np.ndarray, size: np.ndarray, yaw: float, spacing: float, tile: float,
                   skip: Tuple[str, ...] = ()) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Mesh the faces of a box (centre (3,), full size (3,), yaw about z), minus ``skip`` faces.

    Returns one (vertices, triangles, patch) tuple per face, as ``tessellate_rect``.
    """
    size = np.asarray(size, dtype=np.float64)
    lo = -size / 2
    r, c = rot_z(yaw), np.asarray(center, dtype=np.float64)
    out = []
    for name, (corner, ea, eb) in _FACES.items():
        if name in skip:
            continue
        origin = lo + np.asarray(corner) * size
        a, b = np.asarray(ea) * size, np.asarray(eb) * size
        v, f, p = tessellate_rect(origin, a, b, spacing, tile)
        out.append((v @ r.T + c, f, p))
    return out
