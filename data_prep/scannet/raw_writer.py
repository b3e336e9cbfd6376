"""Write ScanNet raw-format files from arrays (test fixtures, small hand-made scenes).

Mirrors the official formats closely enough to exercise the readers: binary little-endian ply
with x,y,z float32, red,green,blue,alpha uint8 and uchar/int triangle lists; segs/aggregation
json; `<id>.txt` with CRLF line ends; the label tsv with CRLF (or `\\r\\r\\n`) line ends.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
from plyfile import PlyData, PlyElement

from .layout import scene_files

TSV_HEADER = ("id", "raw_category", "category", "count", "nyu40id", "eigen13id", "nyuClass",
              "nyu40class")


def write_ply(path: Union[str, Path], vertices: np.ndarray, colors: np.ndarray,
              faces: np.ndarray, text: bool = False) -> None:
    v = np.zeros(len(vertices), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"),
                                       ("green", "u1"), ("blue", "u1"), ("alpha", "u1")])
    for i, k in enumerate("xyz"):
        v[k] = vertices[:, i]
    for i, k in enumerate(("red", "green", "blue")):
        v[k] = colors[:, i]
    v["alpha"] = 255
    f = np.zeros(len(faces), dtype=[("vertex_indices", "<i4", (3,))])
    f["vertex_indices"] = faces
    PlyData([PlyElement.describe(v, "vertex"), PlyElement.describe(f, "face")],
            text=text).write(str(path))


def write_scene_txt(path: Union[str, Path], axis_alignment: Optional[np.ndarray],
                    newline: str = "\r\n") -> None:
    lines = []
    if axis_alignment is not None:
        lines.append("axisAlignment = " + " ".join(
            repr(float(x)) for x in np.asarray(axis_alignment).reshape(-1)))
    lines += ["colorHeight = 968", "colorWidth = 1296", "sceneType = Living room / Lounge"]
    Path(path).write_bytes((newline.join(lines) + newline).encode())


def write_label_tsv(path: Union[str, Path], rows: Iterable[Tuple[str, int]],
                    newline: str = "\r\n", final_newline: bool = True) -> None:
    """`rows`: (raw_category, nyu40id); other columns get filler values."""
    lines = ["\t".join(TSV_HEADER)]
    for i, (name, nyu) in enumerate(rows, start=1):
        lines.append("\t".join([str(i), name, name, "1", str(nyu), "0", name, name]))
    text = newline.join(lines) + (newline if final_newline else "")
    Path(path).write_bytes(text.encode())


def write_raw_scene(scene_dir: Union[str, Path], scene_id: str, vertices: np.ndarray,
                    colors: np.ndarray, faces: np.ndarray,
                    seg_indices: Optional[Sequence[int]] = None,
                    groups: Optional[Sequence[Dict]] = None,
                    axis_alignment: Optional[np.ndarray] = None) -> Dict[str, Path]:
    """Write a scene folder. `groups`: dicts with objectId, label, segments (as in the json).
    seg/aggregation files are skipped when None (test scenes)."""
    scene_dir = Path(scene_dir)
    scene_dir.mkdir(parents=True, exist_ok=True)
    files = scene_files(scene_dir, scene_id)
    write_ply(files["mesh"], vertices, colors, faces)
    write_scene_txt(files["info"], axis_alignment)
    if seg_indices is not None:
        files["segs"].write_text(json.dumps({"params": {}, "sceneId": scene_id,
                                             "segIndices": [int(s) for s in seg_indices]}))
    if groups is not None:
        segs = [{"id": i, "objectId": g["objectId"], "label": g["label"],
                 "segments": [int(s) for s in g["segments"]]} for i, g in enumerate(groups)]
        files["aggregation"].write_text(json.dumps(
            {"sceneId": f"scannet.{scene_id}", "appId": "Annotator", "segGroups": segs,
             "segmentsFile": f"scannet.{scene_id}_vh_clean_2.0.010000.segs.json"}))
    return files
