"""Engine of tools/prepare_objects.py: read a raw object dataset file by file, validate every file,
resample each cloud by farthest point sampling and write the prepared cache (layout:
voxclip/datasets/objects/prepared.py).

Every bad file is named with its problem and the run writes nothing: the whole cache goes to a
staging folder that replaces ``out_root`` only when every file was good (``--overwrite`` for an
existing one), so a reader never sees a half-written cache.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch

from data_prep.batch import run_batch
from voxclip.datasets.objects import readers as R
from voxclip.datasets.objects import shapenetpart as SP
from voxclip.ops.fps import farthest_point_sample
from voxclip.utils.atomic import atomic_save_json, atomic_save_npy

__all__ = ["prepare_objects", "PrepareResult", "DATASETS", "DEFAULT_POINTS", "fps_resample"]

# dataset -> default splits
DATASETS = {"modelnet40": ("train", "test"), "modelnet40_h5": ("train", "test"), "scanobjectnn": ("train", "test"),
            "shapenet55": ("train", "test"), "shapenetpart": ("train", "val", "test")}
# dataset -> default FPS size (None: keep as stored): Point-MAE caches ModelNet40 at 8192 FPS points;
# the HDF5 releases hold 2048 points, ShapeNet55 8192
DEFAULT_POINTS = {"modelnet40": 8192, "modelnet40_h5": None, "scanobjectnn": None, "shapenet55": None,
                  "shapenetpart": None}  # ShapeNetPart: every point kept (ragged cache, see _write_parts)


@dataclass
class PrepareResult:
    failed: List[Tuple[str, str]] = field(default_factory=list)  # (file, one-line reason)
    counts: dict = field(default_factory=dict)
    index: dict = field(default_factory=dict)
    seconds: float = 0.0


def fps_resample(arr: np.ndarray, num_points: Optional[int]) -> np.ndarray:
    """FPS to ``num_points`` rows (None: unchanged); fewer points repeat the FPS order cyclically."""
    if num_points is None:
        return arr
    idx = farthest_point_sample(torch.from_numpy(np.ascontiguousarray(arr[:, :3])), num_points).numpy()
    return arr[idx]


def _units(dataset: str, raw: str, split: str, variant: str) -> Tuple[tuple, list]:
    """(class names, [(kind, args)]): one unit per file to read."""
    if dataset == "modelnet40":
        names, ids, items = R.modelnet40_txt_ids(raw, split)
        return names, [("mn40_txt", (path, label, sid)) for sid, (path, label) in zip(ids, items)]
    if dataset == "modelnet40_h5":
        names = R.read_class_list(os.path.join(raw, "shape_names.txt"))
        files = R.read_list(os.path.join(raw, f"{split}_files.txt"))
        return names, [("mn40_h5", (os.path.join(raw, os.path.basename(f)),)) for f in files]
    if dataset == "scanobjectnn":
        return R.SCANOBJECTNN_CLASSES, [("sonn", (R.scanobjectnn_path(raw, variant, split), raw, variant, split))]
    if dataset == "shapenet55":
        lists = [os.path.join(raw, "ShapeNet-55", f"{s}.txt") for s in ("train", "test")]  # classes: both lists
        entries = R.read_list(os.path.join(raw, "ShapeNet-55", f"{split}.txt"))
        synsets = sorted({e.split("-", 1)[0] for p in lists if os.path.isfile(p) for e in R.read_list(p)})
        return tuple(synsets), [("sn55", (os.path.join(raw, "shapenet_pc", e), e)) for e in entries]
    if dataset == "shapenetpart":
        return SP.SHAPENETPART_CATEGORIES, [("snp", (path, f"{syn}/{model}")) for syn, model, path in
                                            SP.shapenetpart_entries(raw, split)]
    raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")


def _load_parts(path: str, sid: str, use_normals: bool) -> list:
    """One ShapeNetPart file -> [(id, category, (N, C + 1) array with the part id last)], parts checked
    against the category (by synset in the benchmark's fixed list)."""
    synset = sid.split("/")[0]
    if synset not in SP.SHAPENETPART_SYNSETS:
        raise R.ObjectDataError(f"{path}: synset {synset} is not one of the 16 ShapeNetPart categories")
    cat = SP.SHAPENETPART_SYNSETS.index(synset)
    cloud, part = SP.read_shapenetpart_file(path, use_normals)
    bad = sorted(set(np.unique(part).tolist()) - set(SP.shapenetpart_seg_classes()[cat]))
    if bad:
        raise R.ObjectDataError(f"{path}: part ids {bad} do not belong to {SP.SHAPENETPART_CATEGORIES[cat]}")
    return [(sid, cat, np.concatenate([cloud, part[:, None].astype(np.float64)], axis=1))]


def _write_parts(stage: Path, split: str, recs: list) -> int:
    """Ragged ShapeNetPart cache: <split>_points.npy (N_total, C) float32, <split>_parts.npy (N_total,)
    int64, <split>_offsets.npy (S + 1,) int64 (shape i = rows offsets[i]:offsets[i+1]). -> C."""
    arrs = [a for _, _, a in recs]
    offsets = np.cumsum([0] + [len(a) for a in arrs]).astype(np.int64)
    flat = np.concatenate(arrs) if arrs else np.zeros((0, 4), np.float32)
    atomic_save_npy(stage / f"{split}_points.npy", np.ascontiguousarray(flat[:, :-1], np.float32))
    atomic_save_npy(stage / f"{split}_parts.npy", np.rint(flat[:, -1]).astype(np.int64))
    atomic_save_npy(stage / f"{split}_offsets.npy", offsets)
    return int(flat.shape[1] - 1)


def _load_unit(kind: str, args: tuple, num_points: Optional[int], use_normals: bool, classes: tuple):
    """-> ([(id, label, (P, C) array)], None) or ([], reason)."""
    try:
        if kind == "mn40_txt":
            path, label, sid = args
            arr = R.normalize_unit_sphere(R.read_modelnet40_txt_file(path, use_normals))
            recs = [(sid, label, R.to_z_up(arr, "y"))]
        elif kind == "mn40_h5":
            d = R.read_h5_arrays(args[0], ["data", "label"], ["normal"])
            data, label = R.h5_clouds(args[0], d, 3)
            if use_normals:
                if "normal" not in d or d["normal"].shape != data.shape:
                    raise R.ObjectDataError(f"{args[0]}: --normals needs a 'normal' dataset of shape {data.shape}")
                data = np.concatenate([data, d["normal"].astype(np.float32)], axis=2)
            if (label < 0).any() or (label >= len(classes)).any():
                raise R.ObjectDataError(f"{args[0]}: labels outside [0, {len(classes)})")
            stem = Path(args[0]).stem
            recs = [(f"{stem}_{i:04d}", int(lab), R.to_z_up(c, "y")) for i, (c, lab) in enumerate(zip(data, label))]
        elif kind == "sonn":
            _, root, variant, split = args
            s = R.read_scanobjectnn(root, variant, split)
            recs = list(zip(s.ids, s.labels.tolist(), s.points))
        elif kind == "snp":
            recs = _load_parts(args[0], args[1], use_normals)
        else:
            path, entry = args
            if not os.path.isfile(path):
                raise R.ObjectDataError(f"{path}: file missing")
            try:
                arr = np.load(path, allow_pickle=False)
            except Exception as exc:
                raise R.ObjectDataError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
            arr = R.normalize_unit_sphere(R.check_cloud(np.asarray(arr), path, (3,)))
            recs = [(entry[:-4], classes.index(entry.split("-", 1)[0]), R.to_z_up(arr, "y"))]
        return [(i, lab, fps_resample(a, num_points).astype(np.float32)) for i, lab, a in recs], None
    except R.ObjectDataError as err:
        return [], str(err)
    except Exception as err:  # report and carry on: every bad file is listed at the end
        return [], f"{args[0]}: {type(err).__name__}: {' '.join(str(err).split())}"


def prepare_objects(dataset: str, raw_root, out_root, num_points: Optional[int] = 8192, splits=None,
                    variant: str = "PB_T50_RS", use_normals: bool = False, workers: int = 1, overwrite: bool = False,
                    progress: bool = True, log: Callable[[str], None] = print) -> PrepareResult:
    """Validate ``raw_root`` and write the cache to ``out_root`` (nothing is written if any file is bad)."""
    t0 = time.time()
    raw, out = str(raw_root), Path(out_root)
    if not os.path.isdir(raw):
        raise FileNotFoundError(f"{raw}: raw {dataset} folder not found")
    if (out / "index.json").exists() and not overwrite:
        raise FileExistsError(f"{out}: a prepared cache exists already (pass --overwrite to replace it)")
    result = PrepareResult()
    collected = {}
    for split in splits or DATASETS.get(dataset, ()):
        try:
            classes, units = _units(dataset, raw, split, variant)
        except (R.ObjectDataError, ValueError) as err:
            result.failed.append((split, str(err)))
            continue
        recs = []
        for job, (rows, reason), crash in run_batch(_load_unit, [(k, a, num_points, use_normals, classes) for k, a in units],
                                                    workers, progress, desc=f"{dataset} {split}", unit="file"):
            if crash or reason:
                result.failed.append((job[1][0], crash or reason))
            recs += rows
        collected[split] = (classes, recs)
    if result.failed:
        result.seconds = time.time() - t0
        return result
    index = dict(dataset=dataset, variant=variant if dataset == "scanobjectnn" else None, source=os.path.abspath(raw),
                 num_points=num_points, up_axis="z", splits={})
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for split, (classes, recs) in collected.items():
            recs.sort(key=lambda r: r[0])  # order independent of the worker count
            labels = np.array([lab for _, lab, _ in recs], np.int64)
            if dataset == "shapenetpart":
                atomic_save_npy(stage / f"{split}_labels.npy", labels)
                atomic_save_json(stage / f"{split}_ids.json", [i for i, _, _ in recs])
                counts = Counter(labels.tolist())
                index.update(classes=list(classes), channels=_write_parts(stage, split, recs), layout="ragged",
                             seg_classes=[list(p) for p in SP.shapenetpart_seg_classes()])
                index["splits"][split] = dict(count=len(recs),
                                              class_counts=[counts.get(c, 0) for c in range(len(classes))])
                result.counts[split] = len(recs)
                continue
            pts = np.stack([a for _, _, a in recs]) if recs else np.zeros((0, num_points or 0, 3), np.float32)
            atomic_save_npy(stage / f"{split}_points.npy", pts)
            atomic_save_npy(stage / f"{split}_labels.npy", labels)
            atomic_save_json(stage / f"{split}_ids.json", [i for i, _, _ in recs])
            counts = Counter(labels.tolist())
            index["classes"] = list(classes)
            names_file = os.path.join(raw, "ShapeNet-55", "synset_names.json")
            if dataset == "shapenet55" and os.path.isfile(names_file):  # labels index the sorted synsets
                with open(names_file, encoding="utf-8") as f:
                    table = json.load(f)
                index["synsets"], index["classes"] = list(classes), [table.get(c, c) for c in classes]
            index["channels"] = int(pts.shape[2]) if pts.ndim == 3 else 3
            index["splits"][split] = dict(count=len(recs), class_counts=[counts.get(c, 0) for c in range(len(classes))])
            result.counts[split] = len(recs)
        atomic_save_json(stage / "index.json", index)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(stage, out)
            shutil.rmtree(old)
        else:
            os.replace(stage, out)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    result.index, result.seconds = index, time.time() - t0
    log(f"{dataset}: " + ", ".join(f"{s} {n}" for s, n in result.counts.items()) + f" objects -> {out}")
    return result
