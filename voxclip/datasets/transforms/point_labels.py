"""Per-point downstream class labels for detection samples (Text4Point's auxiliary loss, Eq. 15-16).

Detection datasets have boxes, not per-point classes; the auxiliary loss needs the class of each
input point. Both transforms write ``semantic`` (N,) int64 by default: the index into the dataset's
``class_names`` (the same list as ``gt_labels``), -1 for points of no detection object. ``semantic``
is a per-point key, so PointSample / flips / rotations keep it aligned, and PackInputs and
sparse_collate carry it into ``data_samples[i]['semantic']``. Put the transform after PointSample
(cheaper) and anywhere before PackInputs; in detection pipelines ``semantic`` then means "detection
class of the point", not the 20 segmentation classes (do not combine with ``with_semantic=True``).
"""
from __future__ import annotations

import numpy as np

from voxclip.registry import TRANSFORMS
from voxclip.structures.boxes import points_in_boxes, volume


@TRANSFORMS.register_module()
class PointLabelsFromInstances:
    """ScanNet: a point takes the label of the box of its instance.

    Needs ``instance`` (N,) (0 = none; load with ``with_instance=True``), ``gt_instance_ids`` (M,)
    (the instance id of each box) and ``gt_labels`` (M,). Points whose instance has no box of the
    dataset's classes (walls, floors, other furniture, dropped classes) get -1.
    """

    def __init__(self, out_key: str = "semantic"):
        self.out_key = str(out_key)

    def __call__(self, results: dict) -> dict:
        missing = [k for k in ("instance", "gt_instance_ids", "gt_labels") if k not in results]
        if missing:
            scene = results.get("meta", {}).get("scene_id", "?")
            raise KeyError(f"PointLabelsFromInstances: scene {scene} lacks {missing} "
                           f"(load the dataset with with_instance=True)")
        inst = np.asarray(results["instance"], np.int64).reshape(-1)
        ids = np.asarray(results["gt_instance_ids"], np.int64).reshape(-1)
        labels = np.asarray(results["gt_labels"], np.int64).reshape(-1)
        if len(ids) != len(labels):
            raise ValueError(f"PointLabelsFromInstances: {len(ids)} gt_instance_ids for {len(labels)} labels")
        out = np.full(len(inst), -1, np.int64)
        if len(ids):
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            pos = np.clip(np.searchsorted(sorted_ids, inst), 0, len(ids) - 1)
            hit = (sorted_ids[pos] == inst) & (inst > 0)
            out[hit] = labels[order[pos[hit]]]
        results[self.out_key] = out
        return results

    def __repr__(self) -> str:
        return f"PointLabelsFromInstances(out_key={self.out_key!r})"


@TRANSFORMS.register_module()
class PointLabelsFromBoxes:
    """SUN RGB-D (no point annotations): a point takes the label of the ground-truth box that
    contains it (oriented boxes, ``points_in_boxes``); inside several boxes, the smallest box wins
    (the nested object); outside every box, -1. Needs ``points``, ``gt_boxes``, ``gt_labels``.
    """

    def __init__(self, out_key: str = "semantic"):
        self.out_key = str(out_key)

    def __call__(self, results: dict) -> dict:
        pts = np.asarray(results["points"], np.float32)[:, :3]
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 7))), np.float32).reshape(-1, 7)
        labels = np.asarray(results.get("gt_labels", np.zeros((0,))), np.int64).reshape(-1)
        if len(boxes) != len(labels):
            raise ValueError(f"PointLabelsFromBoxes: {len(boxes)} boxes but {len(labels)} labels")
        out = np.full(len(pts), -1, np.int64)
        if len(boxes) and len(pts):
            inside = np.asarray(points_in_boxes(pts, boxes), bool)  # (N, M)
            vol = np.asarray(volume(boxes), np.float64)
            cost = np.where(inside, vol[None, :], np.inf)
            best = cost.argmin(1)
            has = inside.any(1)
            out[has] = labels[best[has]]
        results[self.out_key] = out
        return results

    def __repr__(self) -> str:
        return f"PointLabelsFromBoxes(out_key={self.out_key!r})"
