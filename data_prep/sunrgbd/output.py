"""Processed SUN RGB-D output: one folder per image, written atomically, plus index and splits.

``OUT/samples/<id>/``: ``points.npy`` float32 (N,6) xyz + rgb in [0,1]; ``boxes.npy`` float32
(M,7); ``labels.npy`` int64 (M,); ``calib.json`` (Rtilt, K row-major); ``meta.json`` (written
last; its presence marks the sample complete). ``OUT/splits/{train,val,all}.txt``, ``OUT/index.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np

from voxclip.classes import SUNRGBD_DET_CLASSES

from voxclip.utils.atomic import atomic_save_json, atomic_write_text, staging_dir, write_error

from .record import SunrgbdSample

FORMAT_VERSION = 1
SPLITS = ("train", "val")


def sample_dir(out_root: str | os.PathLike, sample_id: str) -> Path:
    return Path(out_root) / "samples" / sample_id


def is_done(out_root: str | os.PathLike, sample_id: str) -> bool:
    return (sample_dir(out_root, sample_id) / "meta.json").is_file()


def subsample_indices(n: int, num_points: int, sample_id: str) -> np.ndarray:
    """Sorted indices of ``num_points`` of ``n`` points (all when n <= num_points).

    Deterministic: the generator is seeded from the sample id, so reruns and both layouts of
    the same id pick the same points.
    """
    if num_points <= 0 or n <= num_points:
        return np.arange(n)
    rng = np.random.default_rng(zlib.crc32(sample_id.encode()))
    return np.sort(rng.choice(n, size=num_points, replace=False))


def write_sample(out_root: str | os.PathLike, sample: SunrgbdSample, split: str | None,
                 num_points: int) -> dict:
    """Write one processed sample; returns its meta. All files are written in a temporary
    sibling folder that is renamed into place, so a failure leaves nothing behind."""
    final = sample_dir(out_root, sample.sample_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    idx = subsample_indices(len(sample.points), num_points, sample.sample_id)
    meta = {
        "format_version": FORMAT_VERSION, "id": sample.sample_id, "split": split,
        "num_points_raw": int(len(sample.points)), "num_points": int(len(idx)),
        "num_boxes": int(len(sample.boxes)),
        "class_counts": {SUNRGBD_DET_CLASSES[c]: int(n)
                         for c, n in zip(*np.unique(sample.labels, return_counts=True))},
        "dropped_objects": sample.dropped, "source": sample.source,
        "frame": "upright depth: x right, y forward, z up (Rtilt applied), metres",
        "box_convention": "cx cy cz dx dy dz yaw; full sizes; yaw CCW about +z from +x",
    }
    tmp = staging_dir(final.parent, f".{sample.sample_id}.", ".tmp")
    try:
        np.save(tmp / "points.npy", np.ascontiguousarray(sample.points[idx], dtype=np.float32))
        np.save(tmp / "boxes.npy", np.asarray(sample.boxes, dtype=np.float32).reshape(-1, 7))
        np.save(tmp / "labels.npy", np.asarray(sample.labels, dtype=np.int64).reshape(-1))
        with open(tmp / "calib.json", "w") as f:
            json.dump({"Rtilt": np.asarray(sample.Rtilt).tolist(), "K": np.asarray(sample.K).tolist()}, f,
                      allow_nan=False)
        with open(tmp / "meta.json", "w") as f:  # last: marks completeness
            json.dump(meta, f, indent=1, allow_nan=False)
        if final.exists():  # --overwrite: swap the old folder out, then delete it
            trash = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{sample.sample_id}.", suffix=".old"))
            os.replace(final, trash / "old")
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError):
            raise write_error(final, err) from None
        raise
    return meta


def build_index(out_root: str | os.PathLike, extra: dict | None = None) -> dict:
    """Rebuild ``index.json`` and ``splits/*.txt`` from every complete sample on disk.

    ``class_mean_sizes``: (10,3) mean full sizes per class over the train split (null if absent).
    """
    out_root = Path(out_root)
    samples, lists = {}, {s: [] for s in SPLITS}
    sums, counts = np.zeros((len(SUNRGBD_DET_CLASSES), 3)), np.zeros(len(SUNRGBD_DET_CLASSES))
    dropped_total: dict[str, int] = {}
    sample_root = out_root / "samples"
    for d in sorted(sample_root.iterdir()) if sample_root.is_dir() else []:
        meta_path = d / "meta.json"
        if d.name.startswith(".") or not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        sid, split = meta["id"], meta.get("split")
        samples[sid] = {k: meta[k] for k in ("split", "num_points", "num_boxes", "class_counts")}
        if split in lists:
            lists[split].append(sid)
        for name, n in meta.get("dropped_objects", {}).items():
            dropped_total[name] = dropped_total.get(name, 0) + n
        if split == "train" and meta["num_boxes"]:
            boxes = np.load(d / "boxes.npy")
            labels = np.load(d / "labels.npy")
            np.add.at(sums, labels, boxes[:, 3:6])
            np.add.at(counts, labels, 1)
    mean_sizes = [(sums[c] / counts[c]).tolist() if counts[c] else None
                  for c in range(len(SUNRGBD_DET_CLASSES))]
    index = {"dataset": "sunrgbd", "format_version": FORMAT_VERSION,
             "classes": list(SUNRGBD_DET_CLASSES), "num_samples": len(samples),
             "splits": {s: len(v) for s, v in lists.items()}, "class_mean_sizes": mean_sizes,
             "dropped_objects": dict(sorted(dropped_total.items(), key=lambda kv: -kv[1])),
             **(extra or {}), "samples": samples}
    for split, ids in lists.items():
        atomic_write_text(out_root / "splits" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    atomic_write_text(out_root / "splits" / "all.txt", "".join(f"{i}\n" for i in samples))
    atomic_save_json(out_root / "index.json", index)
    return index
