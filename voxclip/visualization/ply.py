"""Coloured .ply of a scene: its points plus box wireframes, for MeshLab / open3d / CloudCompare.

Vertices: the N points, then 8 corners per box; `edge` elements join the corners (12 per box) in the
box's colour. Viewers that ignore edges (open3d's point-cloud reader) still show the points and the
corners; MeshLab and CloudCompare draw the wireframes.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from voxclip.utils.atomic import atomic_open

from .colors import class_colors, rgb01
from .scene import BOX_EDGES, BoxSet


def write_scene_ply(path: str, points: np.ndarray, colors: np.ndarray | None = None,
                    box_sets: Iterable[tuple[BoxSet, np.ndarray | None]] = (), num_classes: int = 0) -> dict:
    """Write `path` (binary little-endian PLY). `box_sets`: (BoxSet, fixed RGB or None = class colour).

    Returns counts {'points', 'boxes', 'vertices', 'edges'}.
    """
    from plyfile import PlyData, PlyElement

    pts = np.asarray(points, np.float32).reshape(-1, 3)
    col = (rgb01(colors, len(pts)) * 255).round().astype(np.uint8)
    corner_rows, corner_cols, edges = [], [], []
    base = len(pts)
    sets = list(box_sets)
    k = max([num_classes] + [int(b.labels.max()) + 1 for b, _ in sets if len(b.labels)] + [1])
    palette = (class_colors(k) * 255).round().astype(np.uint8)
    n_boxes = 0
    for boxes, fixed in sets:
        for i, corners in enumerate(boxes.corners):
            rgb = np.asarray(fixed, np.uint8) if fixed is not None else palette[boxes.labels[i]]
            corner_rows.append(corners.astype(np.float32))
            corner_cols.append(np.tile(rgb, (8, 1)))
            edges += [(base + a, base + b, *rgb) for a, b in BOX_EDGES]
            base += 8
            n_boxes += 1
    all_pts = np.concatenate([pts] + corner_rows) if corner_rows else pts
    all_col = np.concatenate([col] + corner_cols) if corner_cols else col
    vertex = np.empty(len(all_pts), dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"),
                                           ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    for j, name in enumerate("xyz"):
        vertex[name] = all_pts[:, j]
    for j, name in enumerate(("red", "green", "blue")):
        vertex[name] = all_col[:, j]
    edge = np.array(edges, dtype=[("vertex1", "i4"), ("vertex2", "i4"), ("red", "u1"), ("green", "u1"),
                                  ("blue", "u1")])
    elements = [PlyElement.describe(vertex, "vertex")]
    if len(edge):
        elements.append(PlyElement.describe(edge, "edge"))
    with atomic_open(path) as f:
        PlyData(elements, text=False, byte_order="<").write(f)
    return dict(points=len(pts), boxes=n_boxes, vertices=len(all_pts), edges=len(edge))
