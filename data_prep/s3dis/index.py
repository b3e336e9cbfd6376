"""OUT/index.json and OUT/splits/area_<N>.txt, rebuilt from every finished room's meta.json.

Rebuilt from what is on disk (not from one run's room list), so shards of an array job run
independently; a file lock serialises concurrent rebuilds (as data_prep/scannet/index.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

from voxclip.classes import S3DIS_SEG_CLASSES
from voxclip.utils.atomic import atomic_save_json, atomic_write_bytes, file_lock


ROOMS_DIR = "rooms"


def collect_index(out_root: Union[str, Path]) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
    """Index over all finished rooms, and (room_id, problem) for unreadable ones."""
    rooms_dir = Path(out_root) / ROOMS_DIR
    rooms: Dict[str, Dict[str, Any]] = {}
    problems: List[Tuple[str, str]] = []
    k = len(S3DIS_SEG_CLASSES)
    counts: Dict[str, List[int]] = {}
    metas = sorted(p for p in rooms_dir.glob("*/meta.json") if not p.parent.name.startswith(".")) \
        if rooms_dir.is_dir() else []
    for meta_path in metas:
        rid = meta_path.parent.name
        try:
            meta = json.loads(meta_path.read_text())
            area = int(meta["area"])
            entry = {"area": area, "num_points": int(meta["num_points"]),
                     "num_objects": int(meta["num_objects"])}
            per_class = [int(c) for c in meta["class_point_counts"]]
            if len(per_class) != k:
                raise ValueError(f"class_point_counts has {len(per_class)} entries, not {k}")
        except Exception as err:  # report, never drop silently
            problems.append((rid, f"{meta_path}: unreadable processed room "
                                  f"({type(err).__name__}: {err})"))
            continue
        rooms[rid] = entry
        acc = counts.setdefault(str(area), [0] * k)
        counts[str(area)] = [a + b for a, b in zip(acc, per_class)]
    areas = sorted({e["area"] for e in rooms.values()})
    index = {
        "format_version": 1,
        "classes": list(S3DIS_SEG_CLASSES),
        "areas": {str(a): sum(e["area"] == a for e in rooms.values()) for a in areas},
        "class_point_counts": {str(a): counts[str(a)] for a in areas},
        "rooms": rooms,
    }
    return index, problems


def rebuild_index(out_root: Union[str, Path]) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
    """Rescan OUT and atomically write `splits/area_<N>.txt` (one room id per line) and
    `index.json`; split files of areas that no longer have rooms are removed."""
    out_root = Path(out_root)
    with file_lock(out_root / ".index.lock"):
        index, problems = collect_index(out_root)
        splits = out_root / "splits"
        keep = set()
        for area in index["areas"]:
            ids = sorted(r for r, e in index["rooms"].items() if str(e["area"]) == area)
            name = f"area_{area}.txt"
            keep.add(name)
            atomic_write_bytes(splits / name, "".join(f"{r}\n" for r in ids).encode())
        if splits.is_dir():
            for p in splits.glob("area_*.txt"):
                if p.name not in keep:
                    p.unlink()
        atomic_save_json(out_root / "index.json", index)
    return index, problems
