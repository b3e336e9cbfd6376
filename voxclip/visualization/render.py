"""One call per scene for the tools: the pictures and the .ply that a detection or a segmentation
result gets (shared by tools/test.py --show-dir, tools/visualize.py and tools/infer.py)."""
from __future__ import annotations

import os
import re
from typing import Sequence

import numpy as np

from .colors import label_colors
from .ply import write_scene_ply
from .scene import BoxSet, SceneView, figure_segmentation, save_figure, save_scene_views

GT_PLY_RGB = (0, 0, 0)
MAX_BOXES = 60  # ground-truth wireframes black in the .ply, predictions in class colours


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "scene"


def render_detection(out_dir: str, name: str, points: np.ndarray, colors: np.ndarray | None,
                     class_names: Sequence[str], gt: BoxSet | None = None, pred: BoxSet | None = None,
                     score_thr: float = 0.0, ply: bool = True, max_boxes: int = MAX_BOXES) -> list[str]:
    """`<name>_bev.png`, `<name>_persp.png` and `<name>.ply` (points + boxes) under `out_dir`;
    predictions below `score_thr` are left out, and all but the `max_boxes` best."""
    prefix = os.path.join(out_dir, safe_name(name))
    pred = pred.above(score_thr, max_boxes) if pred is not None else None
    view = SceneView(points, colors, gt=gt, pred=pred, class_names=tuple(class_names), title=str(name))
    paths = save_scene_views(view, prefix)
    if ply:
        sets = [(b, fixed) for b, fixed in ((gt, GT_PLY_RGB), (pred, None)) if b is not None]
        write_scene_ply(prefix + ".ply", points, colors, sets, num_classes=len(class_names))
        paths.append(prefix + ".ply")
    return paths


def render_segmentation(out_dir: str, name: str, points: np.ndarray, pred: np.ndarray,
                        gt: np.ndarray | None, class_names: Sequence[str], ply: bool = True) -> list[str]:
    """`<name>_seg.png` (prediction | ground truth) and `<name>_seg.ply` (points coloured by prediction)."""
    prefix = os.path.join(out_dir, safe_name(name))
    paths = [save_figure(figure_segmentation(points, pred, gt, class_names, title=str(name)), prefix + "_seg.png")]
    if ply:
        k = max(len(class_names), int(np.max(pred, initial=-1)) + 1)
        write_scene_ply(prefix + "_seg.ply", points, label_colors(pred, k))
        paths.append(prefix + "_seg.ply")
    return paths
