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
from voxclip.classes import SCANNET_DET_CLASSES, SCANNET_SEG_CLASSES


class _ScanNetBase(PointCloudDataset):
    SAMPLE_DIR = "scans"
    PREPARE_HINT = " (create it with: python tools/prepare_scannet.py RAW_ROOT {root})"

    def __init__(self, data_root: str, split: str = "train", pipeline=(), with_boxes: bool = True,
                 with_instance: bool = False, with_semantic: bool = False, with_normal: bool = False,
                 class_names: Sequence[str] | None = None, with_superpoint: bool = False, **kwargs):
        self.with_superpoint = bool(with_superpoint)  # superpoint.npy (S4Token), per point
        self.with_boxes, self.with_instance = bool(with_boxes), bool(with_instance)
        self.with_semantic, self.with_normal = bool(with_semantic), bool(with_normal)
        super().__init__(data_root, split, pipeline, class_names=class_names, **kwargs)

    # ---- one scene --------------------------------------------------------------------------
    def load_sample(self, info: dict) -> dict:
        d, hint = info["sample_dir"], self.hint

        def npy(name, dtype, shape):
            return load_npy(os.path.join(d, name), dtype, shape, hint)

        points, colors = self._load_coloured_points(d)
        n = len(points)
        results = dict(points=points, colors=colors,
                       meta=dict(scene_id=info["scene_id"], sample_idx=info.get("sample_idx", -1)))
        if self.with_normal:
            results["normals"] = npy("normal.npy", np.float32, (n, 3))
        if self.with_instance:
            results["instance"] = npy("instance.npy", np.int64, (n,))
        if self.with_superpoint:
            results["superpoint"] = npy("superpoint.npy", np.int64, (n,))
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
            keep = new >= 0
            if self.with_instance:
                results["gt_instance_ids"] = self._box_instance_ids(d, len(boxes))[keep]
            boxes, labels = boxes[keep], new[keep]
        results["gt_boxes"], results["gt_labels"] = boxes, labels
        return results

    @staticmethod
    def _box_instance_ids(scene_dir: str, num_boxes: int) -> np.ndarray:
        """Instance id of each box (meta.json `box_instance_ids`, written by prepare_scannet.py)."""
        path = os.path.join(scene_dir, "meta.json")
        try:
            with open(path, encoding="utf-8") as f:
                ids = json.load(f)["box_instance_ids"]
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: cannot read box_instance_ids ({type(exc).__name__}: {exc}); "
                             f"re-run tools/prepare_scannet.py") from exc
        if len(ids) != num_boxes:
            raise ValueError(f"{path}: {len(ids)} box_instance_ids for {num_boxes} boxes")
        return np.asarray(ids, dtype=np.int64).reshape(-1)

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
