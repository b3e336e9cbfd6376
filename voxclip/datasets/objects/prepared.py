"""The prepared object cache written by tools/prepare_objects.py, and its reader.

Layout of ``<out>/``: ``index.json`` (dataset, variant, classes, channels, num_points, splits:
{split: {count, class_counts}}), and per split ``<split>_points.npy`` (S, P, C) float32 (FPS-resampled
to P points; C = 3 xyz or 6 xyz + normals, z up), ``<split>_labels.npy`` (S,) int64,
``<split>_ids.json`` (list of S sample ids).
"""
from __future__ import annotations

import json
import os

import numpy as np

from .readers import ObjectDataError, ObjectSet

__all__ = ["read_prepared", "read_prepared_parts", "prepared_paths", "PREPARE_HINT"]

PREPARE_HINT = ("; write it with: python tools/prepare_objects.py {dataset} RAW_ROOT {root} "
                "(see docs/objects.md)")


def _read_json(path: str, what: str, hint: str):
    """One JSON file of a prepared cache; unreadable or not JSON is an ObjectDataError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise ObjectDataError(f"{path}: cannot read {what} ({exc}){hint}") from exc


def prepared_paths(root: str, split: str) -> dict:
    return dict(points=os.path.join(root, f"{split}_points.npy"), labels=os.path.join(root, f"{split}_labels.npy"),
                ids=os.path.join(root, f"{split}_ids.json"), index=os.path.join(root, "index.json"))


def read_prepared(root: str, split: str) -> ObjectSet:
    paths = prepared_paths(root, split)
    hint = PREPARE_HINT.format(dataset="DATASET", root=root)
    if not os.path.isfile(paths["index"]):
        raise ObjectDataError(f"{paths['index']}: prepared object index missing{hint}")
    index = _read_json(paths["index"], "index", hint)
    try:
        classes = tuple(index["classes"])
    except (KeyError, TypeError) as exc:
        raise ObjectDataError(f"{paths['index']}: cannot read index ({exc}){hint}") from exc
    if split not in index.get("splits", {}):
        raise ObjectDataError(f"{paths['index']}: no split {split!r} (has {sorted(index.get('splits', {}))}){hint}")
    arrays = {}
    for key in ("points", "labels"):
        if not os.path.isfile(paths[key]):
            raise ObjectDataError(f"{paths[key]}: file missing{hint}")
        try:
            arrays[key] = np.load(paths[key], allow_pickle=False, mmap_mode="r")
        except Exception as exc:
            raise ObjectDataError(f"{paths[key]}: cannot read ({type(exc).__name__}: {exc}){hint}") from exc
    pts, labels = arrays["points"], np.asarray(arrays["labels"], np.int64)
    if pts.ndim != 3 or pts.shape[2] not in (3, 6) or len(pts) != len(labels):
        raise ObjectDataError(f"{paths['points']}: expected (S, P, 3|6) for {len(labels)} labels, got {pts.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ObjectDataError(f"{paths['labels']}: labels outside [0, {len(classes)})")
    ids = _read_json(paths["ids"], "ids", hint)
    if len(ids) != len(labels):
        raise ObjectDataError(f"{paths['ids']}: {len(ids)} ids for {len(labels)} samples")
    return ObjectSet(list(pts), labels, list(ids), classes, extra=dict(index=index))


def read_prepared_parts(root: str, split: str) -> ObjectSet:
    """The ragged ShapeNetPart cache (``tools/prepare_objects.py shapenetpart``): ``<split>_points.npy``
    (N_total, C), ``<split>_parts.npy`` (N_total,), ``<split>_offsets.npy`` (S + 1,), labels and ids as
    above. -> ObjectSet with ``extra['parts']`` per shape."""
    hint = PREPARE_HINT.format(dataset="shapenetpart", root=root)
    index_path = os.path.join(root, "index.json")
    if not os.path.isfile(index_path):
        raise ObjectDataError(f"{index_path}: prepared ShapeNetPart index missing{hint}")
    index = _read_json(index_path, "index", hint)
    if index.get("dataset") != "shapenetpart" or split not in index.get("splits", {}):
        raise ObjectDataError(f"{index_path}: not a ShapeNetPart cache with split {split!r}{hint}")
    arrays = {}
    for key in ("points", "parts", "offsets", "labels"):
        path = os.path.join(root, f"{split}_{key}.npy")
        try:
            arrays[key] = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise ObjectDataError(f"{path}: cannot read ({type(exc).__name__}: {exc}){hint}") from exc
    pts, parts, offs, labels = (arrays[k] for k in ("points", "parts", "offsets", "labels"))
    if (pts.ndim != 2 or pts.shape[1] not in (3, 6) or parts.shape != (len(pts),) or offs.shape != (len(labels) + 1,)
            or offs[0] != 0 or offs[-1] != len(pts) or (np.diff(offs) <= 0).any()):
        raise ObjectDataError(f"{root}/{split}_*.npy: inconsistent ragged cache (points {pts.shape}, parts "
                              f"{parts.shape}, offsets {offs.shape} for {len(labels)} shapes){hint}")
    ids = _read_json(os.path.join(root, f"{split}_ids.json"), "ids", hint)
    if len(ids) != len(labels):
        raise ObjectDataError(f"{root}/{split}_ids.json: {len(ids)} ids for {len(labels)} shapes")
    clouds = [pts[a:b] for a, b in zip(offs[:-1], offs[1:])]
    return ObjectSet(clouds, labels.astype(np.int64), list(ids), tuple(index["classes"]),
                     extra=dict(index=index, parts=[parts[a:b].astype(np.int64) for a, b in zip(offs[:-1], offs[1:])]))
