"""Instance segmentation AP as the ScanNet benchmark computes it (``evaluate_semantic_instance``).

Facts of the benchmark (re-implemented here, not copied):
- overlaps 0.50, 0.55, ..., 0.90 (nine thresholds; ``np.arange(0.5, 0.95, 0.05)``) and 0.25; ``AP`` is the
  mean over the nine, ``AP@0.5`` and ``AP@0.25`` single thresholds; per class, then the mean over classes
  (classes with neither ground truth nor predictions are NaN and left out);
- a prediction with fewer than ``min_region_size`` (100) points is dropped; ground-truth instances
  smaller than that are not counted, and a prediction lying mostly on them is not a false positive;
- matching per class, ground truth in order, its overlapping predictions in their given order: the
  first unvisited one with IoU > threshold matches; a later one also above it is a false positive with
  the lower of the two scores (the ground truth keeps the higher); a ground truth without a match is a
  hard false negative;
- an unmatched prediction is a false positive unless the fraction of its points on void (label -1) or
  on too-small ground truth exceeds the threshold;
- AP integrates the precision-recall curve at every distinct score (recall 0 / precision 1 appended)
  with the benchmark's step widths ``0.5 * (r[k-1] - r[k+1])``.

Inputs per scene: ``gt_semantic`` (N,) class id or -1, ``gt_instance`` (N,) instance id or -1, and
predictions ``masks`` (P, N) bool, ``labels`` (P,), ``scores`` (P,).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SCANNET_OVERLAPS", "SceneMatches", "match_scene", "instance_ap", "summarize_ap"]

SCANNET_OVERLAPS = np.append(np.arange(0.5, 0.95, 0.05), 0.25)


@dataclass
class SceneMatches:
    """Overlap bookkeeping of one scene (the benchmark's ``assign_instances_for_scan``)."""
    gt_label: np.ndarray            # (G,) class of each ground-truth instance
    gt_count: np.ndarray            # (G,) points
    pred_label: np.ndarray          # (P,) of the kept predictions
    pred_score: np.ndarray          # (P,)
    pred_count: np.ndarray          # (P,)
    pred_void: np.ndarray           # (P,) points on void
    inter: np.ndarray               # (P, G) intersection counts (0 across classes)
    pred_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # kept rows of the input


def _gt_instances(gt_semantic: np.ndarray, gt_instance: np.ndarray):
    valid = (gt_instance >= 0) & (gt_semantic >= 0)
    ids, inverse = np.unique(gt_instance[valid], return_inverse=True)
    sem = gt_semantic[valid]
    labels = np.empty(len(ids), np.int64)
    for i in range(len(ids)):  # one loop per instance (tens), not per point
        labels[i] = np.bincount(sem[inverse == i]).argmax()
    member = np.full(len(gt_instance), -1, np.int64)
    member[np.flatnonzero(valid)] = inverse
    return labels, np.bincount(inverse, minlength=len(ids)), member


def match_scene(gt_semantic, gt_instance, masks, labels, scores, min_region_size: int = 100) -> SceneMatches:
    gt_semantic = np.asarray(gt_semantic, np.int64).reshape(-1)
    gt_instance = np.asarray(gt_instance, np.int64).reshape(-1)
    masks = np.asarray(masks, bool).reshape(-1, len(gt_semantic))
    labels, scores = np.asarray(labels, np.int64).reshape(-1), np.asarray(scores, np.float64).reshape(-1)
    if not len(masks) == len(labels) == len(scores):
        raise ValueError(f"match_scene: {len(masks)} masks, {len(labels)} labels, {len(scores)} scores")
    if not np.isfinite(scores).all():
        raise ValueError("match_scene: prediction scores must be finite")
    g_label, g_count, member = _gt_instances(gt_semantic, gt_instance)
    count = masks.sum(1)
    keep = np.flatnonzero(count >= min_region_size)
    masks, labels, scores, count = masks[keep], labels[keep], scores[keep], count[keep]
    onehot = np.zeros((len(member), len(g_label)), np.int64)
    on = member >= 0
    onehot[np.flatnonzero(on), member[on]] = 1
    inter = masks.astype(np.int64) @ onehot
    inter *= labels[:, None] == g_label[None, :]  # only same-class instances overlap in the benchmark
    void = masks[:, gt_semantic < 0].sum(1)
    return SceneMatches(g_label, g_count, labels, scores, count, void, inter, keep)


def _class_curve(scenes: list[SceneMatches], cls: int, th: float, min_region_size: int):
    """(y_true, y_score, hard false negatives, has_gt, has_pred) of one class at one overlap."""
    y_true, y_score, hard_fn, has_gt, has_pred = [], [], 0, False, False
    for s in scenes:
        preds = np.flatnonzero(s.pred_label == cls)
        gts = np.flatnonzero((s.gt_label == cls) & (s.gt_count >= min_region_size))
        small = (s.gt_count < min_region_size)
        has_gt |= len(gts) > 0
        has_pred |= len(preds) > 0
        visited = np.zeros(len(s.pred_label), bool)
        iou = s.inter / np.maximum(s.gt_count[None, :] + s.pred_count[:, None] - s.inter, 1)
        for g in gts:
            score, matched = -np.inf, False
            for p in preds[s.inter[preds, g] > 0]:
                if visited[p] or not iou[p, g] > th:
                    continue
                if matched:  # a duplicate: the lower score becomes a false positive
                    y_true.append(0.0)
                    y_score.append(min(score, s.pred_score[p]))
                    score = max(score, s.pred_score[p])
                else:
                    matched, score, visited[p] = True, s.pred_score[p], True
            if matched:
                y_true.append(1.0)
                y_score.append(score)
            else:
                hard_fn += 1
        for p in preds:
            if (iou[p] > th).any():  # any same-class instance, small ones included
                continue
            ignored = s.pred_void[p] + s.inter[p, small].sum()
            if ignored / s.pred_count[p] <= th:
                y_true.append(0.0)
                y_score.append(s.pred_score[p])
    return np.asarray(y_true), np.asarray(y_score), hard_fn, has_gt, has_pred


def _average_precision(y_true: np.ndarray, y_score: np.ndarray, hard_fn: int) -> float:
    order = np.argsort(y_score, kind="stable")
    score, true = y_score[order], y_true[order]
    cum = np.append(np.cumsum(true), 0.0)  # cum[-1] = 0: "nothing below the lowest score"
    _, first = np.unique(score, return_index=True)
    n = len(score)
    n_true = cum[-2] if n else 0.0
    prec, rec = np.ones(len(first) + 1), np.zeros(len(first) + 1)
    for k, i in enumerate(first):  # predictions with score >= score[i] are kept
        tp = n_true - cum[i - 1]
        fp = n - i - tp
        fn = cum[i - 1] + hard_fn
        prec[k], rec[k] = tp / (tp + fp), tp / (tp + fn) if tp + fn > 0 else 0.0
    padded = np.concatenate([[rec[0]], rec, [0.0]])
    steps = 0.5 * (padded[:-2] - padded[2:])
    return float(np.dot(prec, steps))


def instance_ap(scenes: list[SceneMatches], num_classes: int, overlaps=SCANNET_OVERLAPS,
                min_region_size: int = 100) -> np.ndarray:
    """(num_classes, len(overlaps)) AP; NaN where a class has no ground truth (and 0 where it has
    ground truth but no prediction), as the benchmark."""
    ap = np.full((num_classes, len(overlaps)), np.nan)
    for c in range(num_classes):
        for j, th in enumerate(overlaps):
            y_true, y_score, hard_fn, has_gt, has_pred = _class_curve(scenes, c, float(th), min_region_size)
            if has_gt and has_pred:
                ap[c, j] = _average_precision(y_true, y_score, hard_fn)
            elif has_gt:
                ap[c, j] = 0.0
    return ap


def summarize_ap(ap: np.ndarray, overlaps=SCANNET_OVERLAPS) -> dict:
    """AP (mean of the 0.5:0.9 thresholds), AP@0.5, AP@0.25, each per class and averaged."""
    overlaps = np.asarray(overlaps)
    o50, o25 = np.isclose(overlaps, 0.5), np.isclose(overlaps, 0.25)
    rest = ~o25
    with np.errstate(invalid="ignore"), _quiet_nanmean():
        per_class = dict(AP=np.nanmean(ap[:, rest], 1) if rest.any() else np.full(len(ap), np.nan),
                         **{"AP@0.5": ap[:, o50].mean(1) if o50.any() else np.full(len(ap), np.nan),
                            "AP@0.25": ap[:, o25].mean(1) if o25.any() else np.full(len(ap), np.nan)})
        means = {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in per_class.items()}
    return dict(per_class=per_class, **means)


class _quiet_nanmean:
    """np.nanmean warns on all-NaN rows (classes absent everywhere); they stay NaN by design."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
