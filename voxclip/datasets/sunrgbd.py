"""SUN RGB-D v1 detection dataset over processed samples (docs/sunrgbd.md).

Processed layout (tools/prepare_sunrgbd.py): OUT/splits/<split>.txt (one id per line),
OUT/samples/<id>/{points.npy (N,6) upright xyz + rgb in [0,1], boxes.npy (M,7) project convention,
labels.npy (M,) indexing SUNRGBD_DET_CLASSES}, OUT/index.json (`class_mean_sizes`, 10x3).
Boxes are oriented: configs rotate them with the points (RandomRotateZ box_mode='rotate') and flip
with heading=True.
"""
from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np

from voxclip.registry import DATASETS

from .base import PointCloudDataset, load_npy
from .classes import SUNRGBD_DET_CLASSES

_PREPARE_HINT = " (create it with: python tools/prepare_sunrgbd.py RAW {root})"
# rgb is stored in [0, 1]; a little slack for float rounding in exports.
_COLOR_TOL = 1e-3


@DATASETS.register_module()
class SUNRGBDDetection(PointCloudDataset):
    """SUN RGB-D 3D detection (10 classes, oriented boxes).

    Args:
        data_root: processed root (tools/prepare_sunrgbd.py output). split: 'train' | 'val' | 'all'.
        pipeline: transforms; the usual one is PointSample(20000), RandomFlip(prob_x=0.5, prob_y=0,
            heading=True), RandomRotateZ(30, box_mode='rotate'), RandomScale((0.85, 1.15)),
            NormalizeColor(0.5, 0.5), HeightFeature, PointFeatures, Voxelize, PackInputs.
        class_names: a subset of SUNRGBD_DET_CLASSES in the order wanted; boxes of other classes
            are dropped and labels index this list. Default: all 10.
        test_mode and the rest: see PointCloudDataset.

    Working dict handed to the pipeline: points (N,3) float32, colors (N,3) float32 in [0,1],
    gt_boxes (M,7) float32, gt_labels (M,) int64, meta {scene_id, sample_idx}.
    `metainfo`: classes, and class_mean_sizes (from index.json, when present; None rows for
    classes absent from the train split).
    """

    ALL_CLASSES = SUNRGBD_DET_CLASSES

    def __init__(self, data_root: str, split: str = "train", pipeline=(),
                 class_names: Sequence[str] | None = None, **kwargs):
        self.class_names = tuple(class_names) if class_names is not None else tuple(self.ALL_CLASSES)
        unknown = [c for c in self.class_names if c not in self.ALL_CLASSES]
        if unknown or not self.class_names or len(set(self.class_names)) != len(self.class_names):
            raise ValueError(f"SUNRGBDDetection: class_names must be distinct names from "
                             f"{list(self.ALL_CLASSES)}, got {list(self.class_names)}")
        self.label_map = np.full(len(self.ALL_CLASSES), -1, dtype=np.int64)
        for i, name in enumerate(self.class_names):
            self.label_map[self.ALL_CLASSES.index(name)] = i
        metainfo = dict(kwargs.pop("metainfo", None) or {})
        metainfo.setdefault("classes", self.class_names)
        super().__init__(data_root, split, pipeline, metainfo=metainfo, **kwargs)

    # ---- sample list ------------------------------------------------------------------------
    def load_data_list(self) -> list[dict]:
        root = self.data_root
        hint = _PREPARE_HINT.format(root=root)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: SUN RGB-D data_root does not exist{hint}")
        split_file = os.path.join(root, "splits", f"{self.split}.txt")
        if not os.path.isfile(split_file):
            raise FileNotFoundError(f"{split_file}: split list missing{hint}")
        with open(split_file, encoding="utf-8") as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            raise ValueError(f"{split_file}: lists no samples")
        infos, missing = [], []
        for sample_id in ids:
            sample_dir = os.path.join(root, "samples", sample_id)
            if not os.path.isdir(sample_dir):
                missing.append(sample_dir)
            infos.append(dict(scene_id=sample_id, sample_dir=sample_dir))
        if missing:
            raise FileNotFoundError(f"{split_file}: {len(missing)} listed sample folder(s) missing, first "
                                    f"{missing[0]}{hint}")
        self._load_mean_sizes(os.path.join(root, "index.json"))
        return infos

    def _load_mean_sizes(self, path: str) -> None:
        """metainfo['class_mean_sizes']: (K,3) list in class_names order (None for absent classes)."""
        if not os.path.isfile(path):
            return
        try:
            with open(path, encoding="utf-8") as f:
                index = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read index ({exc})") from exc
        sizes = index.get("class_mean_sizes")
        if sizes is None:
            return
        classes = list(index.get("classes") or self.ALL_CLASSES)
        if classes != list(self.ALL_CLASSES) or len(sizes) != len(self.ALL_CLASSES):
            raise ValueError(f"{path}: expected class_mean_sizes for the {len(self.ALL_CLASSES)} classes "
                             f"{list(self.ALL_CLASSES)}, got {len(sizes)} rows for {classes}")
        self._metainfo["class_mean_sizes"] = [sizes[self.ALL_CLASSES.index(c)] for c in self.class_names]

    # ---- one sample -------------------------------------------------------------------------
    def load_sample(self, info: dict) -> dict:
        d, hint = info["sample_dir"], _PREPARE_HINT.format(root=self.data_root)
        pts_path = os.path.join(d, "points.npy")
        pts = load_npy(pts_path, np.float32, (None, 6), hint)
        if len(pts) == 0:
            raise ValueError(f"{pts_path}: no points")
        if not np.isfinite(pts).all():
            raise ValueError(f"{pts_path}: non-finite values")
        colors = pts[:, 3:6]
        if colors.min() < -_COLOR_TOL or colors.max() > 1 + _COLOR_TOL:
            raise ValueError(f"{pts_path}: rgb outside [0, 1] (got [{colors.min():.3g}, {colors.max():.3g}]); "
                             f"expected the prepare_sunrgbd.py format")
        boxes = load_npy(os.path.join(d, "boxes.npy"), np.float32, (None, 7), hint)
        labels = load_npy(os.path.join(d, "labels.npy"), np.int64, (len(boxes),), hint)
        if not np.isfinite(boxes).all() or (len(boxes) and (boxes[:, 3:6] <= 0).any()):
            raise ValueError(f"{os.path.join(d, 'boxes.npy')}: non-finite values or non-positive sizes")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.ALL_CLASSES)):
            raise ValueError(f"{os.path.join(d, 'labels.npy')}: labels outside [0, {len(self.ALL_CLASSES)})")
        new = self.label_map[labels] if len(labels) else labels
        keep = new >= 0
        return dict(points=np.ascontiguousarray(pts[:, :3]), colors=np.ascontiguousarray(colors),
                    gt_boxes=boxes[keep], gt_labels=new[keep],
                    meta=dict(scene_id=info["scene_id"], sample_idx=info.get("sample_idx", -1)))
