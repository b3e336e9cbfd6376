"""Object classification metric: overall accuracy, mean class accuracy, top-k, per-class accuracy.

Registered as ``dict(type='ClsMetric')``. OA = correct / objects; mAcc = mean over the classes that
have test objects of (correct in class / objects in class), as ScanObjectNN / ModelNet40 tables
report it ("mAcc", "class-average accuracy"). Values are percentages (the papers' unit).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from voxclip.registry import METRICS
from voxclip.utils.atomic import atomic_save_json

__all__ = ["ClsMetric", "classification_scores"]


def classification_scores(pred, gt, num_classes: int) -> dict:
    """OA, mAcc (percent) and per-class accuracy (NaN for classes without objects)."""
    pred, gt = np.asarray(pred, np.int64).reshape(-1), np.asarray(gt, np.int64).reshape(-1)
    if pred.shape != gt.shape or len(gt) == 0:
        raise ValueError(f"classification_scores: {len(pred)} predictions for {len(gt)} labels")
    if gt.min() < 0 or gt.max() >= num_classes:
        raise ValueError(f"classification_scores: labels outside [0, {num_classes})")
    count = np.bincount(gt, minlength=num_classes).astype(np.float64)
    hit = np.bincount(gt[pred == gt], minlength=num_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(count > 0, hit / count, np.nan)
    return dict(OA=100.0 * float((pred == gt).mean()), mAcc=100.0 * float(np.nanmean(per_class)),
                per_class=100.0 * per_class)


@METRICS.register_module()
class ClsMetric(BaseMetric):
    """Args:
        class_names: names by label (default: dataset_meta['classes']).
        topk: extra top-k accuracies from the logits (zero-shot tables report top-1 and top-5).
        per_class: add ``acc/<class>`` keys.
        out_file: JSON of {results, samples: [{sample_id, gt, pred}]} written atomically.
    ``process`` takes PointClassifier's predict output (pred_label, gt_label, logits, sample_id).
    """

    default_prefix = None

    def __init__(self, class_names: Sequence[str] | None = None, topk: Sequence[int] = (), per_class: bool = False,
                 out_file: str | None = None, collect_device: str = "cpu", prefix: str | None = None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.class_names = list(class_names) if class_names is not None else None
        self.topk, self.per_class, self.out_file = tuple(int(k) for k in topk), per_class, out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if "gt_label" not in s:
                raise KeyError("ClsMetric: predictions lack gt_label (is the dataset labelled?)")
            row = dict(pred=int(s["pred_label"]), gt=int(s["gt_label"]), sample_id=s.get("sample_id"))
            if self.topk:
                logits = np.asarray(s["logits"], np.float64)
                row["rank"] = int((logits > logits[row["gt"]]).sum())  # 0 = top-1
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict:
        names = self.class_names or list((self.dataset_meta or {}).get("classes", ()))
        num_classes = len(names) if names else max(max(r["gt"], r["pred"]) for r in results) + 1
        scores = classification_scores([r["pred"] for r in results], [r["gt"] for r in results], num_classes)
        out = dict(OA=scores["OA"], mAcc=scores["mAcc"])
        for k in self.topk:
            out[f"top{k}"] = 100.0 * float(np.mean([r["rank"] < k for r in results]))
        if self.per_class and names:
            out.update({f"acc/{n}": float(a) for n, a in zip(names, scores["per_class"]) if a == a})
        MMLogger.get_current_instance().info(
            f"classification: OA {out['OA']:.2f} mAcc {out['mAcc']:.2f} over {len(results)} objects")
        if self.out_file:
            atomic_save_json(self.out_file, dict(results=out, samples=results))
        return out
