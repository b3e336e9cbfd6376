"""Indoor detection evaluation: `indoor_map`, PR curves, the mmengine `IndoorDetMetric`, and `SegMetric` (mIoU)."""
from .indoor_map import indoor_map, scalar_metrics, voc_ap
from .metric import IndoorDetMetric, format_per_class
from .pr_curves import save_pr_curves
from .seg_metric import SegMetric
from .cls_metric import ClsMetric, classification_scores

__all__ = ["IndoorDetMetric", "SegMetric", "format_per_class", "indoor_map", "save_pr_curves", "scalar_metrics", "voc_ap",
           "ClsMetric", "classification_scores"]
