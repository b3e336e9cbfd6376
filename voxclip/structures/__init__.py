"""Box structures: corners, bird's-eye polygons, points in boxes, box transforms."""
from .boxes import (
    bev_corners,
    box_corners,
    boxes_from_minmax,
    boxes_to_minmax,
    flip_boxes,
    limit_yaw,
    normalize_yaw,
    points_in_boxes,
    rotate_boxes,
    scale_boxes,
    volume,
    world_to_box,
)

__all__ = [
    "bev_corners", "box_corners", "boxes_from_minmax", "boxes_to_minmax", "flip_boxes", "limit_yaw",
    "normalize_yaw", "points_in_boxes", "rotate_boxes", "scale_boxes", "volume", "world_to_box",
]
