"""Writers for the ScanNet v2 raw scan files (except .sens, see ``sens.py``).

- ``<id>_vh_clean_2.ply``: binary little-endian; vertex x,y,z float32, red,green,blue,alpha
  uint8; face vertex_indices list(uchar, int).
- ``<id>_vh_clean_2.0.010000.segs.json``: {"params", "sceneId", "segIndices"}.
- ``<id>.aggregation.json``: {"sceneId": "scannet.<id>", "appId", "segGroups", "segmentsFile"}.
- ``<id>.txt``: ``key = value`` lines, CRLF, sorted keys as in the official files.
"""

from __future__ import annotations

import json
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
from plyfile import PlyData, PlyElement

from voxclip.utils.atomic import PathLike, atomic_open, atomic_write_bytes, atomic_write_text

SEGS_SUFFIX = "_vh_clean_2.0.010000.segs.json"
PLY_SUFFIX = "_vh_clean_2.ply"
SEGS_PARAMS = {"kThresh": "0.0001", "segMinVerts": "20", "minPoints": "750",
               "maxPoints": "5000", "thinThresh": "0.05", "flatThresh": "0.001",
               "minLength": "0.02", "maxLength": "1"}


class _TriangleFaces(PlyElement):
    """The face element with a vectorised binary writer: every list has 3 entries, so a row is
    one packed (uint8 count, 3 x int32) record. plyfile's generic path loops per face in Python."""

    def _write_bin(self, stream, byte_order):
        f = np.asarray(self.data["vertex_indices"].tolist() if self.data.dtype.hasobject
                       else self.data["vertex_indices"])
        rec = np.empty(len(f), dtype=np.dtype([("n", "u1"), ("v", byte_order + "i4", (3,))]))
        rec["n"], rec["v"] = 3, f
        stream.write(rec.tobytes())


def write_mesh_ply(path: PathLike, vertices: np.ndarray, colors: np.ndarray,
                   faces: np.ndarray) -> None:
    """vertices (V,3) float, colors (V,3) uint8, faces (F,3) int indices into vertices."""
    vertices, faces = np.asarray(vertices), np.asarray(faces)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f"{path}: face indices outside [0, {len(vertices)})")
    v = np.empty(len(vertices), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"),
                                       ("green", "u1"), ("blue", "u1"), ("alpha", "u1")])
    v["x"], v["y"], v["z"] = vertices[:, 0], vertices[:, 1], vertices[:, 2]
    v["red"], v["green"], v["blue"], v["alpha"] = colors[:, 0], colors[:, 1], colors[:, 2], 255
    f = np.empty(len(faces), dtype=[("vertex_indices", "<i4", (3,))])
    f["vertex_indices"] = faces
    generic = PlyElement.describe(f, "face", len_types={"vertex_indices": "u1"})
    face_el = _TriangleFaces("face", generic.properties, len(faces))
    face_el.data = f
    ply = PlyData([PlyElement.describe(v, "vertex"), face_el], text=False, byte_order="<")
    with atomic_open(path) as fh:
        ply.write(fh)


def _json_bytes(doc) -> bytes:
    return json.dumps(doc, indent=None, separators=(", ", ": ")).encode("utf-8")


def write_segs_json(path: PathLike, scene_id: str, seg_indices: np.ndarray) -> None:
    doc = {"params": SEGS_PARAMS, "sceneId": scene_id,
           "segIndices": [int(s) for s in seg_indices]}
    atomic_write_bytes(path, _json_bytes(doc))


def write_aggregation_json(path: PathLike, scene_id: str,
                           groups: Sequence[Mapping]) -> None:
    """groups: dicts with objectId (int), label (raw category), segments (list of int)."""
    seg_groups = [{"id": int(g["objectId"]), "objectId": int(g["objectId"]),
                   "segments": [int(s) for s in g["segments"]], "label": str(g["label"])}
                  for g in groups]
    doc = {"sceneId": f"scannet.{scene_id}", "appId": "Aggregator.v2", "segGroups": seg_groups,
           "segmentsFile": f"scannet.{scene_id}{SEGS_SUFFIX}"}
    atomic_write_bytes(path, _json_bytes(doc))


def _fmt_matrix(m: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in np.asarray(m, np.float64).reshape(-1))


def write_scene_txt(path: PathLike, meta: Mapping[str, object],
                    axis_alignment: Optional[np.ndarray]) -> None:
    """``key = value`` lines with CRLF. ``axis_alignment`` (4,4) or None (test scenes)."""
    items: Dict[str, str] = {k: (_fmt_matrix(v) if isinstance(v, np.ndarray) else str(v))
                             for k, v in meta.items()}
    if axis_alignment is not None:
        items["axisAlignment"] = _fmt_matrix(axis_alignment)
    lines = [f"{k} = {items[k]}" for k in sorted(items)]
    atomic_write_text(path, "\n".join(lines) + "\n", newline="\r\n")
