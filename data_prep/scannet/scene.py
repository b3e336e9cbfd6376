"""One raw ScanNet scene -> the processed arrays and meta of docs/architecture.md."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from data_prep.validate import check_coords

from .aggregation import read_aggregation
from .errors import NonFiniteVerticesError, PlyReadError
from .axis_alignment import apply_transform, read_axis_alignment
from .boxes import instance_boxes
from .labels import map_raw_labels, vertex_labels
from .layout import scene_files
from .mesh import read_mesh
from .normals import vertex_normals
from .segments import read_seg_indices
from voxclip.utils.superpoints import mesh_superpoints, relabel_consecutive

FORMAT_VERSION = 1


@dataclass
class ProcessedScene:
    """`arrays`: file stem -> array (coord, color, normal, segment_nyu40, segment20, instance,
    boxes, box_labels, superpoint); `meta`: the json-able meta.json content."""

    arrays: Dict[str, np.ndarray]
    meta: Dict[str, Any]


def scene_superpoints(segs_path: Path, coord: np.ndarray, faces: np.ndarray, normal: np.ndarray,
                      seg: Optional[np.ndarray],
                      source: str = "segs") -> np.ndarray:
    """Superpoint id per vertex, consecutive from 0 (S4Token, docs/s4token.md).

    source 'segs': ScanNet's own segs.json over-segmentation when the scene has one (already read
    as `seg` for annotated scenes), else the graph segmentation below; 'graph': always
    voxclip.ops.superpoints.mesh_superpoints (ScanNet segmentator's kThresh 0.01, segMinVerts 20).
    """
    if source not in ("segs", "graph"):
        raise ValueError(f"superpoint source must be 'segs' or 'graph', got {source!r}")
    if source == "segs":
        if seg is None and segs_path.is_file():
            seg = read_seg_indices(segs_path, len(coord))
        if seg is not None:
            return relabel_consecutive(seg)
    return mesh_superpoints(coord, faces, normal)


def process_scene(scene_dir: Union[str, Path], scene_id: str, label_map: Optional[Dict[str, int]],
                  annotated: bool = True, split: Optional[str] = None,
                  superpoints: str = "segs") -> ProcessedScene:
    """Read, validate and convert one scene folder.

    Coordinates are axis-aligned first; normals, boxes (min/max of aligned vertices) follow from
    the aligned mesh. Unannotated scenes (test) get nyu40 0, segment20 -1, instance 0 and no boxes;
    `label_map` may then be None. Raises a `ScanNetError` subclass naming the bad file.
    """
    files = scene_files(scene_dir, scene_id)
    matrix, has_alignment = read_axis_alignment(files["info"])
    mesh = read_mesh(files["mesh"])
    n = len(mesh.vertices)
    if len(mesh.faces) == 0:
        raise PlyReadError(files["mesh"], "mesh has no faces: vertex normals cannot be computed")
    coord = apply_transform(mesh.vertices, matrix)
    try:
        check_coords(coord, "axis-aligned vertex coordinates")
    except ValueError as err:
        raise NonFiniteVerticesError(files["mesh"], str(err)) from None
    normal = vertex_normals(coord, mesh.faces)
    used = ["mesh", "info"]
    seg = None
    stats: Dict[str, int] = {"num_objects": 0, "num_annotated_points": 0,
                             "segments_in_several_objects": 0}
    if annotated:
        if label_map is None:
            raise ValueError("label_map is required for annotated scenes")
        seg = read_seg_indices(files["segs"], n)
        groups = read_aggregation(files["aggregation"])
        group_nyu40 = map_raw_labels(groups, label_map, files["aggregation"])
        labels = vertex_labels(seg, groups, group_nyu40, files["aggregation"])
        instance, nyu40, seg20 = labels.instance, labels.nyu40, labels.segment20
        boxes, box_labels, box_ids = instance_boxes(coord, instance, labels.instance_nyu40)
        stats.update(labels.stats)
        stats["num_segments"] = int(len(np.unique(seg)))
        used += ["segs", "aggregation"]
    else:
        instance = np.zeros(n, np.int32)
        nyu40 = np.zeros(n, np.int16)
        seg20 = np.full(n, -1, np.int16)
        boxes, box_labels, box_ids = np.zeros((0, 7), np.float32), np.zeros(0, np.int64), \
            np.zeros(0, np.int64)
    arrays = {
        "coord": coord.astype(np.float32),
        "color": mesh.colors.astype(np.uint8),
        "normal": normal.astype(np.float32),
        "segment_nyu40": nyu40.astype(np.int16),
        "segment20": seg20.astype(np.int16),
        "instance": instance.astype(np.int32),
        "boxes": boxes.astype(np.float32).reshape(-1, 7),
        "box_labels": box_labels.astype(np.int64),
        "superpoint": scene_superpoints(files["segs"], coord, mesh.faces, normal, seg,
                                        superpoints).astype(np.int32),
    }
    meta = {
        "format_version": FORMAT_VERSION,
        "scene_id": scene_id,
        "split": split,
        "annotated": bool(annotated),
        "axis_align_matrix": matrix.tolist(),
        "axis_alignment_in_file": bool(has_alignment),
        "num_points": int(n),
        "num_faces": int(len(mesh.faces)),
        "num_boxes": int(len(boxes)),
        **stats,
        "box_instance_ids": [int(i) for i in box_ids],
        "source_files": {files[k].name: files[k].stat().st_size for k in used},
    }
    return ProcessedScene(arrays, meta)
