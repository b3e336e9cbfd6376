"""Instance segmentation pictures: each predicted / ground-truth instance in its own colour."""
from __future__ import annotations

import os

import numpy as np

from .colors import label_colors
from .ply import write_scene_ply
from .render import safe_name
from .scene import figure_segmentation, save_figure


def instance_ids(masks: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
    """(P, N) masks -> (N,) instance index per point (-1 none); where masks overlap the higher
    score wins."""
    masks = np.asarray(masks, bool).reshape(len(masks), -1)
    out = np.full(masks.shape[1] if masks.ndim == 2 else 0, -1, np.int64)
    order = np.argsort(np.asarray(scores if scores is not None else np.zeros(len(masks)), np.float64), kind="stable")
    for k in order:  # low score first, so the best mask is painted last
        out[masks[k]] = k
    return out


def dense_ids(ids: np.ndarray) -> np.ndarray:
    """Instance ids -> 0..M-1 in order of first appearance (negative stay -1), for stable colours."""
    ids = np.asarray(ids, np.int64).reshape(-1)
    out = np.full(len(ids), -1, np.int64)
    valid = ids >= 0
    _, first, inverse = np.unique(ids[valid], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    out[valid] = rank[inverse]
    return out


def render_instances(out_dir: str, name: str, points: np.ndarray, masks: np.ndarray, scores: np.ndarray | None,
                     gt_instance: np.ndarray | None, ply: bool = True) -> list[str]:
    """`<name>_inst.png` (predicted | ground-truth instances, unassigned points grey) and
    `<name>_inst.ply` (points coloured by predicted instance)."""
    prefix = os.path.join(out_dir, safe_name(name))
    pred = instance_ids(masks, scores)
    gt = dense_ids(gt_instance) if gt_instance is not None else None
    k = max(int(pred.max(initial=-1)), int(gt.max(initial=-1)) if gt is not None else -1) + 1
    names = [f"instance {i}" for i in range(k)]
    paths = [save_figure(figure_segmentation(points, pred, gt, names, title=str(name)), prefix + "_inst.png")]
    if ply:
        write_scene_ply(prefix + "_inst.ply", points, label_colors(pred, max(k, 1)))
        paths.append(prefix + "_inst.ply")
    return paths
