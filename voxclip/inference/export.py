"""What tools/infer.py writes for one cloud: boxes JSON (project convention plus corners), pictures, .ply."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from voxclip.structures.boxes import box_corners
from voxclip.utils.atomic import atomic_save_json, atomic_save_npy

BOX_CONVENTION = ("box = [cx, cy, cz, dx, dy, dz, yaw]: centre, full sizes, yaw counter-clockwise about +z "
                  "from +x (radians); z up, metres; corners (8, 3): bottom face counter-clockwise from the "
                  "box's (-x, -y) corner, then the top face")


def boxes_json(boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray, class_names: Sequence[str],
               source: str, transform: dict) -> dict:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 7)
    corners = box_corners(boxes) if len(boxes) else np.zeros((0, 8, 3))
    order = np.argsort(-np.asarray(scores), kind="stable")
    items = [dict(label=int(labels[i]), class_name=class_names[int(labels[i])] if int(labels[i]) < len(class_names)
                  else str(int(labels[i])), score=float(scores[i]), box=[float(v) for v in boxes[i]],
                  corners=np.round(corners[i], 6).tolist()) for i in order]
    return dict(source=source, task="detection", convention=BOX_CONVENTION, input_transform=transform,
                num_boxes=len(items), boxes=items)


def write_segmentation(out_dir: str, stem: str, labels: np.ndarray, class_names: Sequence[str], source: str,
                       transform: dict) -> list[str]:
    """`<stem>_labels.npy` (one label per input point) and `<stem>.json` (counts per class)."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=len(class_names))
    summary = dict(source=source, task="segmentation", input_transform=transform, num_points=int(len(labels)),
                   labels_file=f"{stem}_labels.npy", class_names=list(class_names),
                   points_per_class={class_names[c] if c < len(class_names) else str(c): int(n)
                                     for c, n in enumerate(counts) if n})
    npy, js = os.path.join(out_dir, f"{stem}_labels.npy"), os.path.join(out_dir, f"{stem}.json")
    atomic_save_npy(npy, np.asarray(labels, np.int64))
    atomic_save_json(js, summary)
    return [js, npy]


def write_boxes_json(out_dir: str, stem: str, payload: dict) -> str:
    path = os.path.join(out_dir, f"{stem}.json")
    atomic_save_json(path, payload)
    return path
