"""mmengine metric wrapping `indoor_map` for configs: `dict(type='IndoorDetMetric')`."""
from __future__ import annotations

import os
import pickle
from collections.abc import Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from voxclip.registry import METRICS
from voxclip.structures.array import to_numpy
from voxclip.utils.atomic import atomic_open

from .indoor_map import indoor_map, scalar_metrics
from .pr_curves import save_pr_curves

_PRED_KEYS = ("boxes", "labels", "scores")
_GT_KEYS = ("gt_boxes", "gt_labels")


@METRICS.register_module()
class IndoorDetMetric(BaseMetric):
    """Indoor detection mAP / AR (see `voxclip.evaluation.indoor_map`).

    Args:
        class_names: class names by id; defaults to `dataset_meta['classes']`.
        iou_thresholds: IoU thresholds (strict `>`).
        pr_curve_dir: if set, per-class PR curve PNGs are written there after each evaluation.
        out_file: if set, a pickle `{'predictions', 'ground_truths', 'result'}` is written there (atomically).
        prefix: mmengine key prefix. Default None, so the keys are plain `mAP@0.5`, `AP@0.5/chair`, ...
            and `save_best='mAP@0.5'` works as is.

    `process` takes the detector's predict output: one dict per sample with `boxes` (K, 7),
    `labels` (K,), `scores` (K,), `gt_boxes` (M, 7), `gt_labels` (M,) (tensors, any device).
    """

    default_prefix = None

    def __init__(self, class_names: Sequence[str] | None = None, iou_thresholds: Sequence[float] = (0.25, 0.5),
                 pr_curve_dir: str | None = None, out_file: str | None = None, collect_device: str = "cpu",
                 prefix: str | None = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.class_names = list(class_names) if class_names is not None else None
        self.iou_thresholds = tuple(float(t) for t in iou_thresholds)
        self.pr_curve_dir = pr_curve_dir
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for i, sample in enumerate(data_samples):
            if not hasattr(sample, "keys"):
                raise TypeError(f"IndoorDetMetric.process: data_samples[{i}] is {type(sample).__name__}, expected a dict")
            missing = [k for k in _PRED_KEYS + _GT_KEYS if k not in sample]
            if missing:
                raise KeyError(f"IndoorDetMetric.process: data_samples[{i}] lacks {missing} (have {sorted(sample.keys())})")
            pred = {k: to_numpy(sample[k]) for k in _PRED_KEYS}
            gt = {"boxes": to_numpy(sample["gt_boxes"]), "labels": to_numpy(sample["gt_labels"])}
            gt["scene_id"] = (sample.get("meta") or {}).get("scene_id")  # lets tools/visualize.py find the scene
            self.results.append((pred, gt))

    def _names(self) -> list[str]:
        if self.class_names is not None:
            return self.class_names
        meta = self.dataset_meta or {}
        if "classes" not in meta:
            raise ValueError("IndoorDetMetric: no class_names given and dataset_meta has no 'classes'")
        return list(meta["classes"])

    def compute_metrics(self, results: list) -> dict:
        preds = [r[0] for r in results]
        gts = [r[1] for r in results]
        names = self._names()
        result = indoor_map(preds, gts, names, self.iou_thresholds)
        logger = MMLogger.get_current_instance()
        if self.pr_curve_dir:
            paths = save_pr_curves(result, self.pr_curve_dir)
            from voxclip.visualization.pr_sheet import save_pr_sheet

            paths.append(save_pr_sheet(result, os.path.join(self.pr_curve_dir, "pr_sheet.png")))
            logger.info(f"IndoorDetMetric: wrote {len(paths)} PR curves to {self.pr_curve_dir}")
        if self.out_file:
            with atomic_open(self.out_file) as f:
                pickle.dump({"predictions": preds, "ground_truths": gts, "result": result}, f)
            logger.info(f"IndoorDetMetric: wrote predictions and results to {self.out_file}")
        logger.info("IndoorDetMetric over %d scenes:\n%s", len(results), format_per_class(result))
        return scalar_metrics(result)


def format_per_class(result: dict) -> str:
    """Compact text table of per-class AP/AR from an `indoor_map` result."""
    tks = [f"{t:g}" for t in result["iou_thresholds"]]
    width = max([5] + [len(pc["name"]) for pc in result["per_class"]])
    head = f"{'class':<{width}} {'n_gt':>5} " + " ".join(f"{'AP@' + t:>8} {'AR@' + t:>8}" for t in tks)
    rows = [head]
    cell = lambda v: f"{v:8.4f}" if v is not None else f"{'-':>8}"  # noqa: E731
    for pc in result["per_class"]:
        rows.append(f"{pc['name']:<{width}} {pc['num_gt']:>5} "
                    + " ".join(f"{cell(pc['AP@' + t])} {cell(pc['AR@' + t])}" for t in tks))
    rows.append(f"{'mean':<{width}} {'':>5} " + " ".join(f"{result['mAP@' + t]:8.4f} {result['AR@' + t]:8.4f}" for t in tks))
    return "\n".join(rows)


