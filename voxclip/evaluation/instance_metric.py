"""Instance segmentation metrics: ScanNet's AP and S3DIS's mean precision / recall at IoU 0.5.

Registered as ``dict(type='InstanceSegMetric', benchmark='scannet' | 's3dis')``.

- ScanNet (``voxclip.evaluation.instance_ap``): AP over IoU 0.5:0.9, AP@0.5, AP@0.25, per class.
- S3DIS (Text4Point Tab. 2, as PointGroup / ASIS report it): the same AP and AP@0.5 over the 13
  classes, plus mPrec / mRec at IoU 0.5: per class, every predicted instance is a true positive when
  its best IoU with a ground-truth instance of its class reaches 0.5 (no one-to-one assignment, as the
  released ASIS evaluation), precision = TP / predictions, recall = TP / ground-truth instances, then
  the mean over classes that have predictions (precision) or ground truth (recall).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from voxclip.registry import METRICS
from voxclip.structures.array import to_numpy

from .instance_ap import SCANNET_OVERLAPS, SceneMatches, instance_ap, match_scene, summarize_ap

__all__ = ["InstanceSegMetric", "precision_recall_at"]


def precision_recall_at(scenes: list[SceneMatches], num_classes: int, iou_thr: float = 0.5):
    """Per-class (precision, recall) arrays (K,), NaN where undefined (see the module docstring)."""
    tp, n_pred, n_gt = np.zeros(num_classes), np.zeros(num_classes), np.zeros(num_classes)
    for s in scenes:
        union = s.gt_count[None, :] + s.pred_count[:, None] - s.inter
        best = (s.inter / np.maximum(union, 1)).max(1) if s.inter.shape[1] else np.zeros(len(s.pred_label))
        np.add.at(tp, s.pred_label, best >= iou_thr)
        np.add.at(n_pred, s.pred_label, 1)
        np.add.at(n_gt, s.gt_label, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_pred > 0, tp / n_pred, np.nan), np.where(n_gt > 0, tp / n_gt, np.nan)


def _nanmean(v: np.ndarray) -> float:
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


@METRICS.register_module()
class InstanceSegMetric(BaseMetric):
    """Args:
        benchmark: 'scannet' (AP, AP@0.5, AP@0.25) or 's3dis' (adds mPrec, mRec at IoU 0.5).
        class_names: names by class id; default dataset_meta['classes'].
        min_region_size: points below which predictions are dropped and ground truth is not
            counted in AP (the ScanNet benchmark: 100).
        prefix: mmengine key prefix (default None: plain ``AP@0.5``, so ``save_best='AP@0.5'`` works).

    ``process`` takes dicts with ``gt_semantic`` (N,), ``gt_instance`` (N,) (-1 = none) and
    ``pred_instances`` = dict(masks (P, N) bool, labels (P,), scores (P,)).
    """

    default_prefix = None

    def __init__(self, benchmark: str = "scannet", class_names: Sequence[str] | None = None,
                 min_region_size: int = 100, collect_device: str = "cpu", prefix: str | None = None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        if benchmark not in ("scannet", "s3dis"):
            raise ValueError(f"InstanceSegMetric: benchmark must be 'scannet' or 's3dis', got {benchmark!r}")
        self.benchmark, self.min_region_size = benchmark, int(min_region_size)
        self.class_names = list(class_names) if class_names is not None else None

    def _names(self) -> list[str]:
        if self.class_names is not None:
            return self.class_names
        meta = self.dataset_meta or {}
        if "classes" not in meta:
            raise ValueError("InstanceSegMetric: give class_names (dataset_meta has no 'classes')")
        return list(meta["classes"])

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for i, sample in enumerate(data_samples):
            missing = [k for k in ("gt_semantic", "gt_instance", "pred_instances") if k not in sample]
            if missing:
                raise KeyError(f"InstanceSegMetric.process: data_samples[{i}] lacks {missing} (have {sorted(sample)})")
            pred = sample["pred_instances"]
            args = (to_numpy(sample["gt_semantic"]), to_numpy(sample["gt_instance"]), to_numpy(pred["masks"]),
                    to_numpy(pred["labels"]), to_numpy(pred["scores"]))
            # bookkeeping only (counts), small enough to gather across processes
            self.results.append((match_scene(*args, min_region_size=self.min_region_size),
                                 match_scene(*args, min_region_size=1) if self.benchmark == "s3dis" else None))

    def compute_metrics(self, results: list) -> dict:
        names = self._names()
        summary = summarize_ap(instance_ap([r[0] for r in results], len(names), SCANNET_OVERLAPS,
                                           self.min_region_size))
        out = {k: summary[k] for k in ("AP", "AP@0.5", "AP@0.25")}
        columns = ["AP", "AP@0.5", "AP@0.25"]
        per_class = dict(summary["per_class"])
        if self.benchmark == "s3dis":
            prec, rec = precision_recall_at([r[1] for r in results], len(names), 0.5)
            out.update(mPrec=_nanmean(prec), mRec=_nanmean(rec))
            per_class.update(Prec=prec, Rec=rec)
            columns += ["Prec", "Rec"]
        for k in columns:
            out.update({f"{k}/{n}": float(v) for n, v in zip(names, per_class[k])})
        lines = [f"{'class':>16s}" + "".join(f"{c:>9s}" for c in columns)]
        lines += [f"{n:>16s}" + "".join(f"{100 * per_class[c][i]:9.2f}" for c in columns) for i, n in enumerate(names)]
        lines.append(f"{'mean':>16s}" + "".join(f"{100 * out['m' + c if c in ('Prec', 'Rec') else c]:9.2f}"
                                               for c in columns))
        MMLogger.get_current_instance().info("InstanceSegMetric (%s) over %d scenes:\n%s", self.benchmark,
                                             len(results), "\n".join(lines))
        return out
