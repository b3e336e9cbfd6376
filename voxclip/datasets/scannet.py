"""ScanNet v2 detection and segmentation datasets over processed scenes (docs/architecture.md).

Processed layout: OUT_ROOT/splits/<split>.txt (one scene id per line), OUT_ROOT/scans/<id>/*.npy,
OUT_ROOT/index.json (optional here; its `class_mean_sizes` goes into metainfo).
"""
from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np

from voxclip.registry import DATASETS

from .base import PointCloudDataset, load_npy
from .classes import SCANNET_DET_CLASSES, SCANNET_SEG_CLASSES

_PREPARE_HINT = " (create it with: python tools/prepare_scannet.py RAW_ROOT {root})"


def _label_map(all_classes: Sequence[str], class_names: Sequence[str], who: str) -> np.ndarray:
    """Lookup full-list index -> index in `class_names` (-1 when dropped)."""
    unknown = [c for c in class_names if c not in all_classes]
    if unknown or len(set(class_names)) != len(class_names) or not class_names:
        raise ValueError(f"{who}: class_names must be distinct names from {list(all_classes)}, "
                         f"got {list(class_names)}")
    lut = np.full(len(all_classes), -1, dtype=np.int64)
    for i, name in enumerate(class_names):
        lut[all_classes.index(name)] = i
    return lut


class _ScanNetBase(PointCloudDataset):
    ALL_CLASSES: tuple = ()

    def __init__(self, data_root: str, split: str = "train", pipeline=(), with_boxes: bool = True,
                 with_instance: bool = False, with_semantic: bool = False, with_normal: bool = False,
                 class_names: Sequence[str] | None = None, **kwargs):
        self.with_boxes, self.with_instance = bool(with_boxes), bool(with_instance)
        self.with_semantic, self.with_normal = bool(with_semantic), bool(with_normal)
        self.class_names = tuple(class_names) if class_names is not None else tuple(self.ALL_CLASSES)
        self.label_map = _label_map(self.ALL_CLASSES, self.class_names, type(self).__name__)
        metainfo = dict(kwargs.pop("metainfo", None) or {})
        metainfo.setdefault("classes", self.class_names)
        super().__init__(data_root, split, pipeline, metainfo=metainfo, **kwargs)

    # ---- scene list -------------------------------------------------------------------------
    def load_data_list(self) -> list[dict]:
        root = self.data_root
        hint = _PREPARE_HINT.format(root=root)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: ScanNet data_root does not exist{hint}")
        split_file = os.path.join(root, "splits", f"{self.split}.txt")
        if not os.path.isfile(split_file):
            raise FileNotFoundError(f"{split_file}: split list missing{hint}")
        with open(split_file, encoding="utf-8") as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            raise ValueError(f"{split_file}: lists no scenes")
        infos, missing = [], []
        for scene_id in ids:
            scene_dir = os.path.join(root, "scans", scene_id)
            if not os.path.isdir(scene_dir):
                missing.append(scene_dir)
            infos.append(dict(scene_id=scene_id, scene_dir=scene_dir))
        if missing:
            raise FileNotFoundError(f"{split_file}: {len(missing)} listed scene folder(s) missing, first "
                                    f"{missing[0]}{hint}")
        self._load_mean_sizes(os.path.join(root, "index.json"))
        return infos

    def _load_mean_sizes(self, path: str) -> None:
        """metainfo['class_mean_sizes']: (K,3) list in class_names order (None for absent classes)."""
        if not os.path.isfile(path) or self.ALL_CLASSES != SCANNET_DET_CLASSES:
            return
        try:
            with open(path, encoding="utf-8") as f:
                sizes = json.load(f).get("class_mean_sizes")
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read index ({exc})") from exc
        if sizes is None:
            return
        if len(sizes) != len(self.ALL_CLASSES):
            raise ValueError(f"{path}: class_mean_sizes has {len(sizes)} rows, expected {len(self.ALL_CLASSES)}")
        self._metainfo["class_mean_sizes"] = [sizes[self.ALL_CLASSES.index(c)] for c in self.class_names]

    # ---- one scene --------------------------------------------------------------------------
    def load_sample(self, info: dict) -> dict:
        d, hint = info["scene_dir"], _PREPARE_HINT.format(root=self.data_root)

        def npy(name, dtype, shape):
            return load_npy(os.path.join(d, name), dtype, shape, hint)

        points = npy("coord.npy", np.float32, (None, 3))
        n = len(points)
        if not np.isfinite(points).all():
            raise ValueError(f"{os.path.join(d, 'coord.npy')}: non-finite coordinates")
        results = dict(points=points, colors=npy("color.npy", np.uint8, (n, 3)),
                       meta=dict(scene_id=info["scene_id"], sample_idx=info.get("sample_idx", -1)))
        if self.with_normal:
            results["normals"] = npy("normal.npy", np.float32, (n, 3))
        if self.with_instance:
            results["instance"] = npy("instance.npy", np.int64, (n,))
        if self.with_semantic:
            results["semantic"] = self._semantic(npy("segment20.npy", np.int64, (n,)), d)
        boxes, labels = np.zeros((0, 7), np.float32), np.zeros((0,), np.int64)
        if self.with_boxes:
            boxes = npy("boxes.npy", np.float32, (None, 7))
            labels = npy("box_labels.npy", np.int64, (len(boxes),))
            if len(labels) and (labels.min() < 0 or labels.max() >= len(SCANNET_DET_CLASSES)):
                raise ValueError(f"{os.path.join(d, 'box_labels.npy')}: labels outside [0, "
                                 f"{len(SCANNET_DET_CLASSES)})")
            new = _det_lut(self)[labels] if len(labels) else labels
            boxes, labels = boxes[new >= 0], new[new >= 0]
        results["gt_boxes"], results["gt_labels"] = boxes, labels
        return results

    def _semantic(self, seg: np.ndarray, scene_dir: str) -> np.ndarray:
        if len(seg) and (seg.min() < -1 or seg.max() >= len(SCANNET_SEG_CLASSES)):
            raise ValueError(f"{os.path.join(scene_dir, 'segment20.npy')}: labels outside [-1, "
                             f"{len(SCANNET_SEG_CLASSES)})")
        return seg


def _det_lut(ds: _ScanNetBase) -> np.ndarray:
    """Detection label lookup: the dataset's own map when it is a detection dataset, else identity."""
    if ds.ALL_CLASSES == SCANNET_DET_CLASSES:
        return ds.label_map
    return np.arange(len(SCANNET_DET_CLASSES))


@DATASETS.register_module()
class ScanNetDetection(_ScanNetBase):
    """ScanNet v2 3D detection (18 classes, axis-aligned boxes).

    Args:
        data_root: processed root (tools/prepare_scannet.py output). split: 'train' | 'val' | 'test'.
        pipeline: transforms; the usual one is PointSample(40000), RandomFlip, RandomRotateZ,
            NormalizeColor, HeightFeature, PointFeatures, Voxelize, PackInputs.
        with_instance: load instance.npy as `instance` (vote targets). with_semantic: load
            segment20.npy as `semantic` (20 segmentation classes, -1 ignore). with_normal: normals.
        class_names: a subset of the 18 classes, in the order wanted; boxes of other classes are
            dropped and labels index this list. Default: all 18.
    `metainfo`: classes, and class_mean_sizes (from index.json, when present).
    """

    ALL_CLASSES = SCANNET_DET_CLASSES

    def __init__(self, data_root: str, split: str = "train", pipeline=(), with_instance: bool = True,
                 with_semantic: bool = False, with_normal: bool = False,
                 class_names: Sequence[str] | None = None, **kwargs):
        super().__init__(data_root, split, pipeline, with_boxes=True, with_instance=with_instance,
                         with_semantic=with_semantic, with_normal=with_normal, class_names=class_names,
                         **kwargs)


@DATASETS.register_module()
class ScanNetSegmentation(_ScanNetBase):
    """ScanNet v2 semantic segmentation (20 classes, `semantic` -1 = ignore).

    Args as ScanNetDetection; with_boxes (default False) also loads the detection boxes.
    class_names: a subset of the 20 classes; other labels become -1.
    """

    ALL_CLASSES = SCANNET_SEG_CLASSES

    def __init__(self, data_root: str, split: str = "train", pipeline=(), with_instance: bool = False,
                 with_normal: bool = False, with_boxes: bool = False,
                 class_names: Sequence[str] | None = None, **kwargs):
        super().__init__(data_root, split, pipeline, with_boxes=with_boxes, with_instance=with_instance,
                         with_semantic=True, with_normal=with_normal, class_names=class_names, **kwargs)

    def _semantic(self, seg: np.ndarray, scene_dir: str) -> np.ndarray:
        seg = super()._semantic(seg, scene_dir)
        return np.where(seg >= 0, self.label_map[np.clip(seg, 0, None)], -1)
