"""ShapeNetPart part segmentation metric: instance mIoU, class mIoU and the per-category table.

As the benchmark defines it (PointNet / PointNet++ / Point-MAE evaluation): for each shape, the IoU of
every part of its category (a part absent from both prediction and ground truth counts 1), averaged
-> the shape's mIoU. Instance mIoU = mean over all shapes; class mIoU = mean over the categories that
have test shapes of the mean shape mIoU of that category. Values in percent.
Registered as ``dict(type='PartSegMetric')``; ``process`` takes PointPartSegmentor's predict output.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from voxclip.registry import METRICS
from voxclip.utils.atomic import atomic_save_json

__all__ = ["PartSegMetric", "shape_miou", "part_seg_scores"]


def shape_miou(pred, gt, parts: Sequence[int]) -> float:
    """Mean over ``parts`` of IoU(pred == p, gt == p); a part in neither counts 1."""
    pred, gt = np.asarray(pred).reshape(-1), np.asarray(gt).reshape(-1)
    if pred.shape != gt.shape:
        raise ValueError(f"shape_miou: {len(pred)} predictions for {len(gt)} labels")
    ious = []
    for p in parts:
        inter, union = np.sum((pred == p) & (gt == p)), np.sum((pred == p) | (gt == p))
        ious.append(1.0 if union == 0 else inter / union)
    return float(np.mean(ious))


def part_seg_scores(shape_ious: Sequence[float], categories: Sequence[int], num_categories: int) -> dict:
    """instance mIoU, class mIoU (percent) and per-category mIoU (NaN where a category has no shape)."""
    ious, cats = np.asarray(shape_ious, np.float64), np.asarray(categories, np.int64)
    if len(ious) == 0 or len(ious) != len(cats):
        raise ValueError(f"part_seg_scores: {len(ious)} shape IoUs for {len(cats)} categories")
    per_cat = np.full(num_categories, np.nan)
    for c in np.unique(cats):
        per_cat[c] = ious[cats == c].mean()
    return dict(ins_mIoU=100.0 * float(ious.mean()), cls_mIoU=100.0 * float(np.nanmean(per_cat)),
                per_category=100.0 * per_cat)


@METRICS.register_module()
class PartSegMetric(BaseMetric):
    """Args:
        seg_classes: part ids per category (default: dataset_meta['seg_classes'], else ShapeNetPart's).
        class_names: category names (default: dataset_meta['classes']).
        per_category: add ``mIoU/<category>`` keys (categories with test shapes).
        out_file: JSON of {results, per_category, samples: [{sample_id, category, miou}]}, written atomically.
    Also reports point accuracy ``acc`` (percent of points whose part is right).
    """

    default_prefix = None

    def __init__(self, seg_classes: Sequence[Sequence[int]] | None = None, class_names: Sequence[str] | None = None,
                 per_category: bool = True, out_file: str | None = None, collect_device: str = "cpu",
                 prefix: str | None = None, **kwargs):
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.seg_classes = None if seg_classes is None else [list(p) for p in seg_classes]
        self.class_names = None if class_names is None else list(class_names)
        self.per_category, self.out_file = per_category, out_file

    def _table(self):
        meta = self.dataset_meta or {}
        seg = self.seg_classes or meta.get("seg_classes")
        if seg is None:
            from voxclip.datasets.objects.shapenetpart import shapenetpart_seg_classes

            seg = shapenetpart_seg_classes()
        names = self.class_names or list(meta.get("classes", ())) or [str(c) for c in range(len(seg))]
        return [list(p) for p in seg], names

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        seg, _ = self._table()
        for s in data_samples:
            if "gt_parts" not in s:
                raise KeyError("PartSegMetric: predictions lack gt_parts (is the dataset labelled?)")
            pred, gt, cat = np.asarray(s["pred_parts"]), np.asarray(s["gt_parts"]), int(s["category"])
            self.results.append(dict(sample_id=s.get("sample_id"), category=cat, miou=shape_miou(pred, gt, seg[cat]),
                                     correct=int((pred == gt).sum()), points=int(gt.size)))

    def compute_metrics(self, results: list) -> dict:
        seg, names = self._table()
        scores = part_seg_scores([r["miou"] for r in results], [r["category"] for r in results], len(seg))
        out = dict(ins_mIoU=scores["ins_mIoU"], cls_mIoU=scores["cls_mIoU"],
                   acc=100.0 * sum(r["correct"] for r in results) / max(sum(r["points"] for r in results), 1))
        table = {names[c]: float(v) for c, v in enumerate(scores["per_category"]) if v == v}
        if self.per_category:
            out.update({f"mIoU/{n}": v for n, v in table.items()})
        logger = MMLogger.get_current_instance()
        logger.info(f"part segmentation: instance mIoU {out['ins_mIoU']:.2f} class mIoU {out['cls_mIoU']:.2f} "
                    f"over {len(results)} shapes")
        logger.info("\n".join(f"  {n:<12} {v:6.2f} ({sum(r['category'] == names.index(n) for r in results)} shapes)"
                              for n, v in table.items()))
        if self.out_file:
            atomic_save_json(self.out_file, dict(results=out, per_category=table, samples=results))
        return out
