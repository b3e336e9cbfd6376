"""SUN RGB-D v1 detection dataset over processed samples (docs/sunrgbd.md).

Processed layout (tools/prepare_sunrgbd.py): OUT/splits/<split>.txt (one id per line),
OUT/samples/<id>/{points.npy (N,6) upright xyz + rgb in [0,1], boxes.npy (M,7) project convention,
labels.npy (M,) indexing SUNRGBD_DET_CLASSES}, OUT/index.json (`class_mean_sizes`, 10x3).
Boxes are oriented: configs rotate them with the points (RandomRotateZ box_mode='rotate') and flip
with heading=True.
"""
from __future__ import annotations

import os

import numpy as np

from voxclip.registry import DATASETS

from .base import PointCloudDataset, load_npy
from voxclip.classes import SUNRGBD_DET_CLASSES

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
    SAMPLE_DIR = "samples"
    PREPARE_HINT = " (create it with: python tools/prepare_sunrgbd.py RAW {root})"

    # ---- one sample -------------------------------------------------------------------------
    def load_sample(self, info: dict) -> dict:
        d, hint = info["sample_dir"], self.hint
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
