"""Reader for ScanNet's `<id>_vh_clean_2.ply` meshes (binary or ascii ply, via plyfile)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
from plyfile import PlyData

from .errors import MissingFileError, NonFiniteVerticesError, PlyReadError


@dataclass
class Mesh:
    """A triangle mesh: `vertices` float32 (N,3), `colors` uint8 (N,3), `faces` int64 (F,3)."""

    vertices: np.ndarray
    colors: np.ndarray
    faces: np.ndarray


def _read_ply(path: Path) -> PlyData:
    try:
        # Triangles declared up front let plyfile memory-map the faces instead of parsing them row
        # by row (10x faster); plyfile itself checks every list really has length 3.
        return PlyData.read(str(path), known_list_len={"face": {"vertex_indices": 3}})
    except Exception as err:  # plyfile raises several types (PlyParseError, ValueError, ...)
        if "unexpected list length" not in str(err):
            raise PlyReadError(path, f"corrupt or truncated ply ({type(err).__name__}: {err})")
    try:  # Polygons other than triangles: the slow generic path, then reject below.
        return PlyData.read(str(path))
    except Exception as err:
        raise PlyReadError(path, f"corrupt or truncated ply ({type(err).__name__}: {err})")


def _faces(path: Path, ply: PlyData, num_vertices: int) -> np.ndarray:
    if "face" not in ply:
        return np.zeros((0, 3), dtype=np.int64)
    face = ply["face"]
    names = [p.name for p in face.properties]
    key = "vertex_indices" if "vertex_indices" in names else "vertex_index"
    if key not in names:
        raise PlyReadError(path, "face element has no vertex_indices property")
    data = face.data[key]
    if data.dtype == object:  # generic path: ragged lists
        if any(len(f) != 3 for f in data):
            raise PlyReadError(path, "faces must all be triangles")
        data = np.stack(data) if len(data) else np.zeros((0, 3))
    faces = np.asarray(data).reshape(-1, 3).astype(np.int64)
    if faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
        raise PlyReadError(path, f"face vertex index out of range [0, {num_vertices})")
    return faces


def read_mesh(path: Union[str, Path]) -> Mesh:
    """Read vertices (x,y,z), colours (red,green,blue) and triangle faces of a ScanNet mesh ply.

    Raises `MissingFileError`, `PlyReadError` (truncated, corrupt, missing properties, bad faces)
    or `NonFiniteVerticesError`.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "mesh ply not found")
    ply = _read_ply(path)
    if "vertex" not in ply:
        raise PlyReadError(path, "no vertex element")
    vertex = ply["vertex"]
    names = {p.name for p in vertex.properties}
    missing = [k for k in ("x", "y", "z", "red", "green", "blue") if k not in names]
    if missing:
        raise PlyReadError(path, f"vertex element lacks properties {missing}")
    v = vertex.data
    vertices = np.stack([v["x"], v["y"], v["z"]], axis=1).astype(np.float32)
    rgb = np.stack([v["red"], v["green"], v["blue"]], axis=1)
    if rgb.dtype != np.uint8:
        if rgb.size and (rgb.min() < 0 or rgb.max() > 255):
            raise PlyReadError(path, f"vertex colours outside 0..255 (dtype {rgb.dtype})")
        rgb = rgb.astype(np.uint8)
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise NonFiniteVerticesError(
            path, f"{int(bad.sum())} of {len(vertices)} vertices have NaN/inf coordinates "
            f"(first at vertex {int(np.flatnonzero(bad)[0])})")
    faces = _faces(path, ply, len(vertices))
    return Mesh(vertices=vertices, colors=np.ascontiguousarray(rgb), faces=faces)
