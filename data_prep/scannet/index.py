"""OUT_ROOT/index.json and OUT_ROOT/splits/*.txt, rebuilt from every finished scene's meta.json.

Rebuilding from what is on disk (not from one run's scene list) lets shards of an array job run
independently: whichever finishes last writes an index covering all of them. A file lock
serialises concurrent rebuilds so that a slower, staler scan never overwrites a newer one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import numpy as np

from voxclip.classes import SCANNET_DET_CLASSES

from .layout import SPLITS
from voxclip.utils.atomic import atomic_save_json, atomic_write_bytes, file_lock


SCENE_KEYS = ("num_points", "num_faces", "num_objects", "num_boxes", "num_annotated_points")


def collect_index(out_root: Union[str, Path]) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
    """Index dict over all finished scenes, and (scene_id, problem) for unreadable ones.

    `class_mean_sizes`: 18 entries, each the mean full (dx, dy, dz) of that class's boxes over the
    train split, or None when the class has no train box.
    """
    out_root = Path(out_root)
    scenes: Dict[str, Dict[str, Any]] = {}
    problems: List[Tuple[str, str]] = []
    k = len(SCANNET_DET_CLASSES)
    size_sum, count = np.zeros((k, 3)), np.zeros(k, dtype=np.int64)
    scans = out_root / "scans"
    metas = sorted(p for p in scans.glob("*/meta.json") if not p.parent.name.startswith(".")) \
        if scans.is_dir() else []
    for meta_path in metas:
        sid = meta_path.parent.name
        try:
            meta = json.loads(meta_path.read_text())
            split = meta["split"]
            entry = {"split": split, **{key: int(meta[key]) for key in SCENE_KEYS}}
            if split == "train" and meta["num_boxes"]:
                boxes = np.load(meta_path.parent / "boxes.npy")
                labels = np.load(meta_path.parent / "box_labels.npy")
                np.add.at(size_sum, labels, boxes[:, 3:6].astype(np.float64))
                count += np.bincount(labels, minlength=k)
        except Exception as err:  # report, never drop silently
            problems.append((sid, f"{meta_path}: unreadable processed scene "
                                  f"({type(err).__name__}: {err})"))
            continue
        scenes[sid] = entry
    mean_sizes = [(size_sum[c] / count[c]).tolist() if count[c] else None for c in range(k)]
    index = {
        "format_version": 1,
        "classes": list(SCANNET_DET_CLASSES),
        "splits": {s: sum(e["split"] == s for e in scenes.values()) for s in SPLITS},
        "class_mean_sizes": mean_sizes,
        "class_train_box_counts": count.tolist(),
        "scenes": scenes,
    }
    return index, problems


def rebuild_index(out_root: Union[str, Path]) -> Tuple[Dict[str, Any], List[Tuple[str, str]]]:
    """Rescan OUT_ROOT and atomically write `splits/{train,val,test}.txt` and `index.json`."""
    out_root = Path(out_root)
    with file_lock(out_root / ".index.lock"):
        index, problems = collect_index(out_root)
        for split in SPLITS:
            ids = sorted(s for s, e in index["scenes"].items() if e["split"] == split)
            atomic_write_bytes(out_root / "splits" / f"{split}.txt",
                               "".join(f"{s}\n" for s in ids).encode())
        atomic_save_json(out_root / "index.json", index)
    return index, problems
