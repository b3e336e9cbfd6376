"""Reader of ShapeNetPart as distributed (``shapenetcore_partanno_segmentation_benchmark_v0_normal/``):
``synsetoffset2category.txt`` (``<Category>\\t<synset>`` lines), ``<synset>/<model>.txt`` with
``x y z nx ny nz part`` lines (part ids global over the 16 categories, 50 parts),
``train_test_split/shuffled_{train,val,test}_file_list.json`` (lists of ``shape_data/<synset>/<model>``).

The benchmark's fixed tables: the 16 categories in ``synsetoffset2category.txt`` order and their part ids
(global ids, contiguous per category in category order: PointNet++'s / Point-MAE's ``seg_classes``).
The part-segmentation dataset is ``partseg_dataset.ShapeNetPartSegmentation``.
"""
from __future__ import annotations

import json
import os
import warnings

import numpy as np

from .readers import ObjectDataError, ObjectSet, check_cloud, normalize_unit_sphere, to_z_up

__all__ = ["read_shapenetpart", "read_category_file", "read_shapenetpart_file", "shapenetpart_entries",
           "SHAPENETPART_CATEGORIES", "SHAPENETPART_SYNSETS",
           "SHAPENETPART_NUM_PARTS", "shapenetpart_seg_classes"]

SHAPENETPART_CATEGORIES = ("Airplane", "Bag", "Cap", "Car", "Chair", "Earphone", "Guitar", "Knife", "Lamp", "Laptop",
                           "Motorbike", "Mug", "Pistol", "Rocket", "Skateboard", "Table")
SHAPENETPART_SYNSETS = ("02691156", "02773838", "02954340", "02958343", "03001627", "03261776", "03467604",
                        "03624134", "03636649", "03642806", "03790512", "03797390", "03948459", "04099429",
                        "04225943", "04379243")
_PART_COUNTS = (4, 2, 2, 4, 4, 3, 3, 2, 4, 2, 6, 2, 3, 3, 3, 3)
SHAPENETPART_NUM_PARTS = sum(_PART_COUNTS)  # 50


def shapenetpart_seg_classes() -> tuple[tuple[int, ...], ...]:
    """Part ids of each category, by category index (Airplane (0, 1, 2, 3), ..., Table (47, 48, 49))."""
    out, start = [], 0
    for n in _PART_COUNTS:
        out.append(tuple(range(start, start + n)))
        start += n
    return tuple(out)


def read_category_file(root: str) -> tuple[tuple, tuple]:
    """(category names, synsets) in file order (the label order of the benchmark)."""
    path = os.path.join(root, "synsetoffset2category.txt")
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: category list missing")
    names, synsets = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ObjectDataError(f"{path}: line {n} is not '<Category> <synset>'")
            names.append(parts[0])
            synsets.append(parts[1])
    if not names:
        raise ObjectDataError(f"{path}: lists no categories")
    return tuple(names), tuple(synsets)


def shapenetpart_entries(root: str, split: str) -> list[tuple[str, str, str]]:
    """[(synset, model, path)] of a split list, in list order (checked: known synsets, 3-part entries)."""
    _, synsets = read_category_file(root)
    lst = os.path.join(root, "train_test_split", f"shuffled_{split}_file_list.json")
    if not os.path.isfile(lst):
        raise ObjectDataError(f"{lst}: split list missing")
    try:
        with open(lst, encoding="utf-8") as f:
            entries = json.load(f)
    except ValueError as exc:
        raise ObjectDataError(f"{lst}: not JSON ({exc})") from exc
    out = []
    for e in entries:
        bits = str(e).split("/")
        if len(bits) != 3 or bits[1] not in synsets:
            raise ObjectDataError(f"{lst}: bad entry {e!r} (expected shape_data/<synset>/<model> of a listed synset)")
        out.append((bits[1], bits[2], os.path.join(root, bits[1], f"{bits[2]}.txt")))
    return out


def read_shapenetpart_file(path: str, use_normals: bool = True, up_axis: str = "y",
                           normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One ``x y z nx ny nz part`` file -> (cloud (N, 3|6) float64 z up, part ids (N,) int64)."""
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: file missing")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            arr = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ObjectDataError(f"{path}: not whitespace-separated numbers ({exc})") from exc
    arr = check_cloud(arr, path, (7,))
    part = arr[:, 6]
    if (part != np.round(part)).any() or part.min() < 0 or part.max() >= 50:
        raise ObjectDataError(f"{path}: part ids must be integers in [0, 50)")
    cloud = arr[:, :6] if use_normals else arr[:, :3]
    cloud = normalize_unit_sphere(cloud) if normalize else cloud
    return to_z_up(cloud, up_axis), part.astype(np.int64)


def read_shapenetpart(root: str, split: str = "train", use_normals: bool = True, up_axis: str = "y",
                      normalize: bool = True) -> ObjectSet:
    """ObjectSet with labels = category index and ``extra['parts']`` = per-point part ids (int64)."""
    names, synsets = read_category_file(root)
    pts, labels, ids, parts = [], [], [], []
    for synset, model, path in shapenetpart_entries(root, split):
        cloud, part = read_shapenetpart_file(path, use_normals, up_axis, normalize)
        pts.append(cloud)
        labels.append(synsets.index(synset))
        ids.append(f"{synset}/{model}")
        parts.append(part)
    return ObjectSet(pts, np.asarray(labels, np.int64), ids, names, extra=dict(parts=parts, synsets=synsets))
