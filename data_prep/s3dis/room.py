"""One raw S3DIS room -> the processed arrays and meta.json of docs/s3dis.md."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

from voxclip.classes import S3DIS_SEG_CLASSES

from .errors import S3DISError
from .labels import class_index, object_sort_key, parse_object_name
from .reader import read_point_text

FORMAT_VERSION = 1


@dataclass
class ProcessedRoom:
    """`arrays`: file stem -> array (coord, color, segment, instance); `meta`: meta.json content.
    (Same shape as data_prep.scannet.ProcessedScene, so the atomic scene writer serves both.)"""

    arrays: Dict[str, np.ndarray]
    meta: Dict[str, Any]


def annotation_files(room_dir: Union[str, Path]) -> List[Path]:
    """`Annotations/*.txt` of a room in natural order (class name, then object number); hidden and
    non-.txt entries (.DS_Store, ...) are ignored."""
    ann = Path(room_dir) / "Annotations"
    files = [p for p in ann.iterdir() if p.is_file() and p.suffix == ".txt"
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: object_sort_key(p.name))


def process_room(room_dir: Union[str, Path], area: int, room: str) -> ProcessedRoom:
    """Read every object file of the room and build the processed arrays.

    Points = the concatenation of the annotation files in `annotation_files` order; instance = the
    1-based position of the object file in that order; segment = class index (stairs -> clutter).
    Coordinates are shifted so that the room's minimum x, y, z is 0 (PointNet / mmdetection3d
    convention); the shift is kept in meta.json `origin` (area frame = coord + origin).
    Raises an S3DISError subclass naming the bad file (and line).
    """
    room_dir = Path(room_dir)
    files = annotation_files(room_dir)
    if not files:
        raise S3DISError(room_dir / "Annotations", "no <class>_<k>.txt object files")
    xyz, rgb, seg, inst, objects, repairs = [], [], [], [], [], []
    for i, path in enumerate(files, start=1):
        cls_name, _ = parse_object_name(path.name)
        cls = class_index(cls_name, str(path))
        pts = read_point_text(path)
        n = len(pts.xyz)
        xyz.append(pts.xyz)
        rgb.append(pts.rgb)
        seg.append(np.full(n, cls, dtype=np.int16))
        inst.append(np.full(n, i, dtype=np.int32))
        objects.append({"instance": i, "file": path.name, "class": S3DIS_SEG_CLASSES[cls],
                        "num_points": n})
        repairs += [f"Annotations/{path.name}:{r.line}: {r.action} non-printable "
                    f"{', '.join(r.chars)}" for r in pts.repairs]
    points = np.concatenate(xyz)
    origin = points.min(0)
    coord = (points - origin).astype(np.float32)
    segment = np.concatenate(seg)
    rid = f"Area_{area}_{room}"
    meta = {
        "format_version": FORMAT_VERSION,
        "scene_id": rid,
        "area": int(area),
        "room": room,
        "num_points": int(len(coord)),
        "num_objects": len(objects),
        "origin": origin.tolist(),
        "extent": np.round(coord.max(0).astype(np.float64), 4).tolist(),
        "class_point_counts": np.bincount(segment, minlength=len(S3DIS_SEG_CLASSES)).tolist(),
        "objects": objects,
        "repaired_lines": repairs,
        "source": str(room_dir),
    }
    arrays = {"coord": coord, "color": np.concatenate(rgb), "segment": segment,
              "instance": np.concatenate(inst)}
    return ProcessedRoom(arrays, meta)
