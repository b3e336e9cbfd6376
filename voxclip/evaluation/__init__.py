"""Indoor detection evaluation: `indoor_map`, PR curves, and the mmengine `IndoorDetMetric`."""
from .indoor_map import indoor_map, scalar_metrics, voc_ap
from .metric import IndoorDetMetric, format_per_class
from .pr_curves import save_pr_curves

__all__ = ["IndoorDetMetric", "format_per_class", "indoor_map", "save_pr_curves", "scalar_metrics", "voc_ap"]
