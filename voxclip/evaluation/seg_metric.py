"""Semantic segmentation metric: confusion matrix -> mIoU, mAcc, overall accuracy, per-class IoU.

Registered as ``dict(type='SegMetric')``.
"""
from __future__ import annotations

import pickle
from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from voxclip.registry import METRICS
from voxclip.structures.array import to_numpy
from voxclip.utils.atomic import atomic_open


def confusion_matrix(pred: np.ndarray, gt: np.ndarray, num_classes: int, ignore_index: int = -1) -> np.ndarray:
    """(K, K) int64 counts, rows = ground truth, columns = prediction; ``ignore_index`` points skipped."""
    pred = np.asarray(pred, np.int64).reshape(-1)
    gt = np.asarray(gt, np.int64).reshape(-1)
    if pred.shape != gt.shape:
        raise ValueError(f"confusion_matrix: {len(pred)} predictions for {len(gt)} labels")
    keep = gt != ignore_index
    pred, gt = pred[keep], gt[keep]
    bad = (gt < 0) | (gt >= num_classes) | (pred < 0) | (pred >= num_classes)
    if bad.any():
        raise ValueError(f"confusion_matrix: labels/predictions outside [0, {num_classes}) "
                         f"(gt {gt[bad][:3].tolist()}, pred {pred[bad][:3].tolist()})")
    return np.bincount(gt * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def seg_scores(conf: np.ndarray) -> dict:
    """IoU_c = TP / (TP + FP + FN), Acc_c = TP / (TP + FN) per class; mIoU and mAcc average over the
    classes that have ground-truth points (others are NaN per class and left out, as indoor mAP
    leaves out classes without ground truth); aAcc = trace / total."""
    conf = np.asarray(conf, np.float64)
    tp = np.diag(conf)
    gt_count, pred_count = conf.sum(1), conf.sum(0)
    has_gt = gt_count > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(has_gt, tp / (gt_count + pred_count - tp), np.nan)
        acc = np.where(has_gt, tp / gt_count, np.nan)
    total = conf.sum()
    return dict(iou=iou, acc=acc, mIoU=float(np.nanmean(iou)) if has_gt.any() else float("nan"),
                mAcc=float(np.nanmean(acc)) if has_gt.any() else float("nan"),
                aAcc=float(tp.sum() / total) if total > 0 else float("nan"))


@METRICS.register_module()
class SegMetric(BaseMetric):
    """Point-wise semantic segmentation metric.

    Args:
        num_classes: K; default len(class_names) or len(dataset_meta['classes']).
        class_names: names by class id (for the per-class keys ``IoU/<name>``).
        ignore_index: ground-truth label skipped (-1).
        out_file: if set, a pickle ``{'samples': [{scene_id, pred_semantic, gt_semantic}], 'confusion',
            'class_names', 'result'}`` is written there (atomically).
        prefix: mmengine key prefix (default None: plain ``mIoU``, so ``save_best='mIoU'`` works).

    ``process`` takes SparseSegmentor's predict output: dicts with ``pred_semantic`` (N,) and
    ``gt_semantic`` (N,). Results: ``mIoU``, ``mAcc``, ``aAcc`` and ``IoU/<class>`` (fractions in
    [0, 1]; classes without ground truth are NaN and left out of the means).
    """

    default_prefix = None

    def __init__(self, num_classes: int | None = None, class_names: Sequence[str] | None = None,
                 ignore_index: int = -1, out_file: str | None = None, collect_device: str = "cpu",
                 prefix: str | None = None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.out_file = out_file
        self.class_names = list(class_names) if class_names is not None else None
        self._num_classes = int(num_classes) if num_classes is not None else None
        self.ignore_index = int(ignore_index)

    def _names(self) -> list[str]:
        if self.class_names is not None:
            return self.class_names
        meta = self.dataset_meta or {}
        if "classes" in meta:
            return list(meta["classes"])
        if self._num_classes is None:
            raise ValueError("SegMetric: give num_classes or class_names (dataset_meta has no 'classes')")
        return [str(i) for i in range(self._num_classes)]

    @property
    def num_classes(self) -> int:
        return self._num_classes if self._num_classes is not None else len(self._names())

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for i, sample in enumerate(data_samples):
            missing = [k for k in ("pred_semantic", "gt_semantic") if k not in sample]
            if missing:
                raise KeyError(f"SegMetric.process: data_samples[{i}] lacks {missing} (have {sorted(sample)})")
            pred, gt = to_numpy(sample["pred_semantic"]), to_numpy(sample["gt_semantic"])
            # one (K, K) matrix per sample: small to gather across processes, sums exactly
            conf = confusion_matrix(pred, gt, self.num_classes, self.ignore_index)
            if self.out_file:  # the per-point labels only when asked for (they are large)
                meta = sample.get("meta") or {}
                saved = {"scene_id": meta.get("scene_id"), "pred_semantic": pred, "gt_semantic": gt}
                inputs = (data_batch or {}).get("inputs") if isinstance(data_batch, dict) else None
                if inputs is not None and "points" in inputs and "point_batch" in inputs:
                    # the labelled points themselves, so tools/visualize.py can draw the saved result
                    saved["points"] = to_numpy(inputs["points"])[to_numpy(inputs["point_batch"]) == i]
                self.results.append((conf, saved))
            else:
                self.results.append(conf)

    def compute_metrics(self, results: list) -> dict:
        k = self.num_classes
        samples = [r[1] for r in results if isinstance(r, tuple)]
        results = [r[0] if isinstance(r, tuple) else r for r in results]
        conf = np.sum(results, axis=0) if results else np.zeros((k, k), np.int64)
        s = seg_scores(conf)
        names = self._names()
        out = {"mIoU": s["mIoU"], "mAcc": s["mAcc"], "aAcc": s["aAcc"]}
        out.update({f"IoU/{n}": float(v) for n, v in zip(names, s["iou"])})
        lines = [f"{n:>16s}  IoU {100 * iou:6.2f}  Acc {100 * acc:6.2f}" for n, iou, acc in zip(names, s["iou"], s["acc"])]
        if self.out_file:
            with atomic_open(self.out_file) as f:
                pickle.dump({"samples": samples, "confusion": conf, "class_names": names, "result": out}, f)
        MMLogger.get_current_instance().info(
            "SegMetric over %d samples: mIoU %.2f mAcc %.2f aAcc %.2f\n%s", len(results), 100 * s["mIoU"],
            100 * s["mAcc"], 100 * s["aAcc"], "\n".join(lines))
        return out
