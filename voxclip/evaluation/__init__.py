"""Indoor detection evaluation: `indoor_map`, PR curves, the mmengine `IndoorDetMetric`, `SegMetric` (mIoU)
and `InstanceSegMetric` (ScanNet / S3DIS instance AP)."""
from .instance_ap import instance_ap, match_scene, summarize_ap
from .instance_metric import InstanceSegMetric, precision_recall_at
from .indoor_map import indoor_map, scalar_metrics, voc_ap
from .metric import IndoorDetMetric, format_per_class
from .pr_curves import save_pr_curves
from .seg_metric import SegMetric
from .cls_metric import ClsMetric, classification_scores
from .partseg_metric import PartSegMetric, part_seg_scores, shape_miou

__all__ = ["IndoorDetMetric", "InstanceSegMetric", "SegMetric", "ClsMetric", "classification_scores", "format_per_class",
           "indoor_map", "instance_ap", "match_scene", "precision_recall_at", "save_pr_curves", "scalar_metrics",
           "summarize_ap", "voc_ap"]
__all__ += ["PartSegMetric", "part_seg_scores", "shape_miou"]
