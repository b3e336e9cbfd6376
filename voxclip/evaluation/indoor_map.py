"""Indoor 3D detection AP (ScanNet / SUN RGB-D protocol), vectorised over scenes and classes.

Semantics (docs/conventions.md, "Evaluation"): per class, the predictions of all scenes are sorted
by score, highest first (ties: scene order, then order within the scene). Each prediction is paired
with the ground-truth box of the same class in its own scene with the highest 3D IoU (ties: lowest
index). It is a true positive iff that IoU is strictly greater than the threshold and no earlier
prediction already took that box; otherwise a false positive. AP is the all-point VOC area under the
precision envelope; mAP / AR average over the classes that have ground truth (classes without any
are left out rather than turned into NaN; classes with ground truth but no predictions score 0).

Returned dict (thresholds formatted with `f"{t:g}"`, e.g. "0.25", "0.5"):
  "mAP@<t>", "AR@<t>"                 floats (AR = recall at the end of the ranked list)
  "AP@<t>/<class>", "AR@<t>/<class>"  floats, only for classes with ground truth
  "per_class"   list, in class-id order, of dicts: name, num_gt, num_pred, "AP@<t>", "AR@<t>"
                (None where the class has no ground truth)
  "pr_curves"   {"<t>": {class: {"recall": (n,), "precision": (n,)}}}, classes with ground truth
  "iou_thresholds"  the thresholds, as given
Only the float entries are scalar: `scalar_metrics(result)` keeps just those.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from voxclip.ops.iou3d import paired_iou3d
from voxclip.structures.array import to_numpy


def thr_key(thr: float) -> str:
    return f"{thr:g}"


def _scene_arrays(item: Mapping, where: str, with_scores: bool, num_classes: int):
    for key in ("boxes", "labels") + (("scores",) if with_scores else ()):
        if key not in item:
            raise KeyError(f"{where}: missing key '{key}' (have {sorted(item)})")
    boxes = to_numpy(item["boxes"]).astype(np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 7)
    labels = to_numpy(item["labels"]).reshape(-1)
    if boxes.ndim != 2 or boxes.shape[1] != 7:
        raise ValueError(f"{where}: boxes must be (K, 7), got {boxes.shape}")
    if labels.shape[0] != boxes.shape[0]:
        raise ValueError(f"{where}: {labels.shape[0]} labels for {boxes.shape[0]} boxes")
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{where}: labels must be integers in [0, {num_classes}), got {labels.dtype} "
                         f"range [{labels.min()}, {labels.max()}]")
    if not np.isfinite(boxes).all():
        raise ValueError(f"{where}: boxes contain NaN or inf")
    out = [boxes, labels.astype(np.int64)]
    if with_scores:
        scores = to_numpy(item["scores"]).astype(np.float64).reshape(-1)
        if scores.shape[0] != boxes.shape[0]:
            raise ValueError(f"{where}: {scores.shape[0]} scores for {boxes.shape[0]} boxes")
        if not np.isfinite(scores).all():
            raise ValueError(f"{where}: scores contain NaN or inf")
        out.append(scores)
    return out


def _concat(items, name: str, with_scores: bool, num_classes: int):
    """Stack every scene's arrays; also return each row's scene index."""
    parts = [_scene_arrays(it, f"{name}[{i}]", with_scores, num_classes) for i, it in enumerate(items)]
    if not parts:
        empty = [np.zeros((0, 7)), np.zeros(0, np.int64)] + ([np.zeros(0)] if with_scores else [])
        return (*empty, np.zeros(0, np.int64))
    cols = [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]
    scene = np.concatenate([np.full(p[0].shape[0], i, dtype=np.int64) for i, p in enumerate(parts)])
    return (*cols, scene)


def best_gt_matches(pred_boxes, pred_keys, gt_boxes, gt_keys) -> tuple[np.ndarray, np.ndarray]:
    """For each prediction: highest IoU with a gt of equal key (scene * C + class), and that gt's index.

    Returns (best_iou (Np,), best_gt (Np,)); -inf / -1 where the prediction's scene has no gt of its class.
    All candidate pairs are built at once and their IoUs computed in one vectorised call.
    """
    num_pred = pred_keys.shape[0]
    g_order = np.argsort(gt_keys, kind="stable")
    sorted_keys = gt_keys[g_order]
    start = np.searchsorted(sorted_keys, pred_keys, side="left")
    counts = np.searchsorted(sorted_keys, pred_keys, side="right") - start
    pair_p = np.repeat(np.arange(num_pred), counts)
    offsets = np.cumsum(counts) - counts
    pair_g = g_order[start[pair_p] + np.arange(pair_p.shape[0]) - offsets[pair_p]]
    best_iou = np.full(num_pred, -np.inf)
    best_gt = np.full(num_pred, -1, dtype=np.int64)
    if pair_p.size == 0:
        return best_iou, best_gt
    iou = paired_iou3d(pred_boxes[pair_p], gt_boxes[pair_g])
    order = np.lexsort((pair_g, -iou, pair_p))  # by prediction, then IoU desc, then gt index
    first = order[np.r_[True, pair_p[order][1:] != pair_p[order][:-1]]]
    best_iou[pair_p[first]] = iou[first]
    best_gt[pair_p[first]] = pair_g[first]
    return best_iou, best_gt


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """All-point VOC AP: area under the monotone (right-to-left max) envelope of precision."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def indoor_map(predictions: Sequence[Mapping], ground_truths: Sequence[Mapping], class_names: Sequence[str],
               iou_thresholds: Sequence[float] = (0.25, 0.5)) -> dict:
    """AP / mAP / AR of per-scene predictions against per-scene ground truth (see module docstring).

    predictions: one dict per scene with `boxes` (K, 7), `labels` (K,) class ids, `scores` (K,).
    ground_truths: one dict per scene with `boxes` (M, 7), `labels` (M,). numpy or torch.
    """
    if len(predictions) != len(ground_truths):
        raise ValueError(f"indoor_map: {len(predictions)} prediction scenes but {len(ground_truths)} ground-truth scenes")
    class_names = list(class_names)
    C = len(class_names)
    if C == 0:
        raise ValueError("indoor_map: class_names is empty")
    pb, pl, ps, pscene = _concat(predictions, "predictions", True, C)
    gb, gl, gscene = _concat(ground_truths, "ground_truths", False, C)

    best_iou, best_gt = best_gt_matches(pb, pscene * C + pl, gb, gscene * C + gl)
    order = np.lexsort((np.arange(pl.shape[0]), -ps, pl))  # by class, score desc, then input order
    sorted_labels = pl[order]
    seg = np.searchsorted(sorted_labels, np.arange(C + 1), side="left")
    num_gt = np.bincount(gl, minlength=C)
    has_gt = num_gt > 0
    if not has_gt.any():
        warnings.warn("indoor_map: no ground-truth boxes at all; mAP and AR reported as 0", stacklevel=2)

    result: dict = {}
    per_class = [{"name": n, "num_gt": int(num_gt[c]), "num_pred": int(seg[c + 1] - seg[c])}
                 for c, n in enumerate(class_names)]
    curves: dict = {}
    for thr in iou_thresholds:
        tk = thr_key(thr)
        iou_sorted, gt_sorted = best_iou[order], best_gt[order]
        cand = np.flatnonzero(iou_sorted > thr)
        # The first (highest-ranked) candidate for each gt takes it; later ones are duplicates.
        _, first = np.unique(gt_sorted[cand], return_index=True)
        tp = np.zeros(order.shape[0], dtype=np.float64)
        tp[cand[first]] = 1.0
        aps, ars, curves[tk] = [], [], {}
        for c, name in enumerate(class_names):
            if not has_gt[c]:
                per_class[c][f"AP@{tk}"] = per_class[c][f"AR@{tk}"] = None
                continue
            cum_tp = np.cumsum(tp[seg[c]:seg[c + 1]])
            recall = cum_tp / num_gt[c]
            precision = cum_tp / np.arange(1, cum_tp.shape[0] + 1)
            ap = voc_ap(recall, precision)
            ar = float(recall[-1]) if recall.size else 0.0
            per_class[c][f"AP@{tk}"], per_class[c][f"AR@{tk}"] = ap, ar
            result[f"AP@{tk}/{name}"], result[f"AR@{tk}/{name}"] = ap, ar
            curves[tk][name] = {"recall": recall, "precision": precision}
            aps.append(ap)
            ars.append(ar)
        result[f"mAP@{tk}"] = float(np.mean(aps)) if aps else 0.0
        result[f"AR@{tk}"] = float(np.mean(ars)) if ars else 0.0
    result["per_class"] = per_class
    result["pr_curves"] = curves
    result["iou_thresholds"] = tuple(iou_thresholds)
    return result


def scalar_metrics(result: Mapping) -> dict:
    """The float entries of an `indoor_map` result (what loggers and best-checkpoint hooks want)."""
    return {k: float(v) for k, v in result.items() if isinstance(v, (float, int, np.floating)) and not isinstance(v, bool)}
