"""Pointcept's preprocessed ScanNet as a voxclip data root, and voxclip prepared scenes exported to it.

Pointcept layout (pointcept/datasets/preprocessing/scannet/preprocess_scannet.py): DATA_ROOT/<split>/
<scene_id>/ with coord.npy float32 (N,3), color.npy uint8 (N,3), normal.npy float32 (N,3),
segment20.npy / segment200.npy int (N,) (index into ScanNet's VALID_CLASS_IDS_20 / _200, -1 = ignore),
instance.npy int (N,) (aggregation objectId, -1 = none). Pointcept does not axis-align the scans
(its preprocessing leaves that step commented out); voxclip's prepared scenes are aligned
(docs/conventions.md), so an export is aligned and a Pointcept-made root is not (docs/interop.md).
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from voxclip.classes import SCANNET_SEG_NYU40_IDS
from voxclip.datasets.base import load_npy
from voxclip.datasets.scannet import ScanNetDetection, ScanNetSegmentation, _det_lut
from voxclip.registry import DATASETS
from voxclip.utils.atomic import atomic_save_npy

_SEG20_TO_NYU40 = np.asarray(SCANNET_SEG_NYU40_IDS, np.int64)


def instance_nyu40_from_segments(instance: np.ndarray, segment20: np.ndarray) -> np.ndarray:
    """nyu40 id per instance id (voxclip ids: 0 = none): the most frequent segment20 class of its points."""
    k = int(instance.max(initial=0)) + 1
    out = np.zeros(k, np.int64)
    keep = (instance > 0) & (segment20 >= 0)
    if keep.any():
        counts = np.zeros((k, len(_SEG20_TO_NYU40)), np.int64)
        np.add.at(counts, (instance[keep], segment20[keep]), 1)
        has = counts.sum(1) > 0
        out[has] = _SEG20_TO_NYU40[counts[has].argmax(1)]
    return out


class _PointceptMixin:
    """Reads DATA_ROOT/<split>/<scene>/*.npy: the split is the folder, no splits/ lists or index.json."""

    PREPARE_HINT = (" (a Pointcept preprocessed ScanNet root: train/ and val/ folders of scenes, made by "
                    "Pointcept's preprocess_scannet.py or tools/export_pointcept.py)")

    def load_data_list(self) -> list[dict]:
        folder = os.path.join(self.data_root, self.split)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder}: split folder missing{self.hint}")
        ids = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
        if not ids:
            raise ValueError(f"{folder}: holds no scene folders{self.hint}")
        return [dict(scene_id=i, sample_dir=os.path.join(folder, i)) for i in ids]

    def load_sample(self, info: dict) -> dict:
        d, hint = info["sample_dir"], self.hint
        points, colors = self._load_coloured_points(d)
        n = len(points)
        results = dict(points=points, colors=colors,
                       meta=dict(scene_id=info["scene_id"], sample_idx=info.get("sample_idx", -1)))
        need_labels = self.with_semantic or self.with_instance or self.with_boxes
        seg = inst = None
        if need_labels:
            seg = load_npy(os.path.join(d, "segment20.npy"), np.int64, (n,), hint)
            inst = load_npy(os.path.join(d, "instance.npy"), np.int64, (n,), hint) + 1  # voxclip: 0 = none
            if inst.min(initial=0) < 0:
                raise ValueError(f"{os.path.join(d, 'instance.npy')}: ids below -1")
        if self.with_normal:
            results["normals"] = load_npy(os.path.join(d, "normal.npy"), np.float32, (n, 3), hint)
        if self.with_instance:
            results["instance"] = inst
        if self.with_semantic:
            results["semantic"] = self._semantic(seg, d)
        boxes, labels = np.zeros((0, 7), np.float32), np.zeros((0,), np.int64)
        if self.with_boxes:
            from data_prep.scannet.boxes import instance_boxes

            boxes, labels, ids = instance_boxes(points, inst, instance_nyu40_from_segments(inst, seg))
            new = _det_lut(self)[labels] if len(labels) else labels
            keep = new >= 0
            if self.with_instance:
                results["gt_instance_ids"] = ids[keep]
            boxes, labels = boxes[keep], new[keep]
        results["gt_boxes"], results["gt_labels"] = boxes, labels
        return results


@DATASETS.register_module()
class PointceptScanNetSegmentation(_PointceptMixin, ScanNetSegmentation):
    """ScanNet 20-class segmentation read from a Pointcept preprocessed root (args as ScanNetSegmentation)."""


@DATASETS.register_module()
class PointceptScanNetDetection(_PointceptMixin, ScanNetDetection):
    """ScanNet 18-class detection from a Pointcept root: boxes are the min/max of each instance's points
    with its majority segment20 class (as tools/prepare_scannet.py computes them), in the root's frame."""


def export_scene(src_dir: str, dst_dir: str) -> int:
    """One voxclip prepared scene folder -> a Pointcept scene folder; returns the point count."""
    def npy(name, dtype, shape):
        return load_npy(os.path.join(src_dir, name), dtype, shape)

    coord = npy("coord.npy", np.float32, (None, 3))
    n = len(coord)
    out = dict(coord=coord, color=npy("color.npy", np.uint8, (n, 3)))
    if os.path.isfile(os.path.join(src_dir, "normal.npy")):
        out["normal"] = npy("normal.npy", np.float32, (n, 3))
    if os.path.isfile(os.path.join(src_dir, "segment20.npy")):
        out["segment20"] = npy("segment20.npy", np.int64, (n,))
        out["instance"] = npy("instance.npy", np.int64, (n,)) - 1  # Pointcept: objectId, -1 = none
    for name, arr in out.items():
        atomic_save_npy(os.path.join(dst_dir, f"{name}.npy"), arr)
    return n


def export_root(prepared_root: str, out_root: str, splits: Sequence[str] = ("train", "val", "test")) -> dict:
    """Every scene of `prepared_root`'s split lists -> `out_root/<split>/<scene>/`; returns {split: count}."""
    done = {}
    for split in splits:
        lst = os.path.join(prepared_root, "splits", f"{split}.txt")
        if not os.path.isfile(lst):
            continue
        with open(lst, encoding="utf-8") as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            continue
        for scene in ids:
            export_scene(os.path.join(prepared_root, "scans", scene), os.path.join(out_root, split, scene))
        done[split] = len(ids)
    if not done:
        raise FileNotFoundError(f"{prepared_root}: no splits/*.txt (not a tools/prepare_scannet.py output)")
    return done
