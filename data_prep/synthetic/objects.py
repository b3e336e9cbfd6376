"""Synthetic single objects for the object-level demo and tests: the scene generator's furniture
(unions of boxes, data_prep/synthetic/shapes.py) sampled as surface points with normals, plus the
triangle mesh of the same boxes (for rendering).

Objects are generated z up (voxclip's frame), centred and scaled into the unit sphere; the writers
(object_writers.py) store them y up, as the released datasets do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence

import numpy as np

from .shapes import CATALOG, Furniture

__all__ = ["SyntheticObject", "make_object", "sample_surface", "box_mesh", "MODELNET_KINDS", "SCANOBJECTNN_KINDS",
           "SHAPENET_SYNSETS"]

# ModelNet40 classes that the furniture catalogue can draw (ModelNet40 name -> catalogue kind)
MODELNET_KINDS: Dict[str, str] = {"bathtub": "bathtub", "bed": "bed", "bookshelf": "bookshelf", "chair": "chair",
                                  "desk": "desk", "door": "door", "lamp": "lamp", "sofa": "sofa", "table": "table",
                                  "toilet": "toilet"}
# ScanObjectNN classes -> catalogue kind (12 of its 15 classes)
SCANOBJECTNN_KINDS: Dict[str, str] = {"bag": "backpack", "bin": "garbagebin", "box": "box", "cabinet": "cabinet",
                                      "chair": "chair", "desk": "desk", "door": "door", "shelf": "bookshelf",
                                      "table": "table", "bed": "bed", "sofa": "sofa", "toilet": "toilet"}
# ShapeNetCore synset ids of catalogue kinds
SHAPENET_SYNSETS: Dict[str, str] = {"02808440": "bathtub", "02818832": "bed", "02871439": "bookshelf",
                                    "02933112": "cabinet", "03001627": "chair", "03636649": "lamp",
                                    "04256520": "sofa", "04379243": "table"}

_FACES = [(0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1)]  # (axis, side)


@dataclass
class SyntheticObject:
    """points (N,3) and normals (N,3) z up in the unit sphere; mesh vertices (V,3) / faces (F,3) in the
    same frame; colours (N,3) and vertex colours (V,3) uint8."""

    kind: str
    points: np.ndarray
    normals: np.ndarray
    colors: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray
    vertex_colors: np.ndarray


def sample_surface(f: Furniture, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points uniformly (by area) on the faces of the object's boxes, with outward normals and colours."""
    faces = []
    for part in f.parts:
        size = part.hi - part.lo
        for axis, side in _FACES:
            a, b = [i for i in range(3) if i != axis]
            faces.append((part, axis, side, a, b, size[a] * size[b]))
    area = np.array([fc[-1] for fc in faces], float)
    pick = rng.choice(len(faces), n, p=area / area.sum())
    pts, nrm, col = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 3))
    uv = rng.random((n, 2))
    for i, (part, axis, side, a, b, _) in enumerate(faces):
        sel = pick == i
        if not sel.any():
            continue
        p = np.empty((sel.sum(), 3))
        p[:, axis] = part.hi[axis] if side > 0 else part.lo[axis]
        p[:, a] = part.lo[a] + uv[sel, 0] * (part.hi[a] - part.lo[a])
        p[:, b] = part.lo[b] + uv[sel, 1] * (part.hi[b] - part.lo[b])
        pts[sel], col[sel] = p, part.color
        nrm[sel, axis] = side
    return pts, nrm, col


def box_mesh(f: Furniture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed triangle mesh (outward winding) of each box: vertices (8P,3), faces (12P,3), colours."""
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    verts, faces, cols = [], [], []
    for k, part in enumerate(f.parts):
        verts.append(part.lo + corners * (part.hi - part.lo))
        cols.append(np.repeat(part.color[None], 8, 0))
        for q in quads:
            faces += [(8 * k + q[0], 8 * k + q[1], 8 * k + q[2]), (8 * k + q[0], 8 * k + q[2], 8 * k + q[3])]
    return np.concatenate(verts), np.asarray(faces, np.int64), np.concatenate(cols)


def make_object(kind: str, num_points: int, rng: np.random.Generator, noise: float = 0.0,
                random_yaw: bool = False) -> SyntheticObject:
    """One object of catalogue ``kind``: surface points (+ Gaussian noise of std ``noise``, in unit-sphere
    units) with normals, normalised into the unit sphere around its centroid; ``random_yaw`` turns it
    about the up axis by a uniform angle (points, normals and mesh)."""
    if kind not in CATALOG:
        raise ValueError(f"unknown object kind {kind!r}; choose from {sorted(CATALOG)}")
    f = CATALOG[kind][2](rng)
    pts, nrm, col = sample_surface(f, num_points, rng)
    verts, faces, vcol = box_mesh(f)
    centre = pts.mean(0)
    radius = float(np.sqrt(((pts - centre) ** 2).sum(1)).max())
    pts, verts = (pts - centre) / radius, (verts - centre) / radius
    if random_yaw:
        a = rng.uniform(0, 2 * np.pi)
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        pts, nrm, verts = pts @ rot.T, nrm @ rot.T, verts @ rot.T
    if noise > 0:
        pts = pts + rng.normal(0, noise, pts.shape)
    u8 = lambda c: np.clip(np.rint(c), 0, 255).astype(np.uint8)  # noqa: E731
    return SyntheticObject(kind, pts.astype(np.float32), nrm.astype(np.float32), u8(col), verts.astype(np.float32),
                           faces, u8(vcol))


def split_counts(names: Sequence[str], per_class_train: int, per_class_test: int):
    """[(name, split, index within the class)] in a fixed order."""
    jobs = []
    for name in names:
        jobs += [(name, "train", i) for i in range(per_class_train)]
        jobs += [(name, "test", i) for i in range(per_class_test)]
    return jobs
