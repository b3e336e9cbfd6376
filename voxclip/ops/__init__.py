"""Point and box operations: sampling, neighbourhoods, interpolation, 3D IoU, NMS."""
from .ball_query import ball_query
from .camera import project_points
from .fps import farthest_point_sample, fps_ragged, fps_torch
from .interpolate import three_interpolate, three_nn, three_nn_interpolate
from .iou3d import boxes_iou3d, paired_iou3d
from .knn import knn
from .nms import batched_nms3d, nms3d
from .radius_cluster import radius_clusters

__all__ = [
    "ball_query", "project_points", "farthest_point_sample", "fps_ragged", "fps_torch", "three_interpolate", "three_nn",
    "three_nn_interpolate", "boxes_iou3d", "paired_iou3d", "knn", "batched_nms3d", "nms3d", "radius_clusters",
]
