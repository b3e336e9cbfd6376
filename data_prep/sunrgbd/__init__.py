"""SUN RGB-D preparation without MATLAB: raw release and MATLAB-export readers (docs/sunrgbd.md)."""

from .errors import SunrgbdError
from .export import parse_label_line, read_calib, read_export_sample
from .geometry import (CAM_TO_DEPTH, decode_depth, depth_to_upright_points, label_to_box,
                       polygon_to_box, rtilt_from_extrinsics, wrap_yaw)
from .output import build_index, write_sample
from .prepare import make_plan, run
from .raw import read_raw_sample, read_raw_split
from .record import SunrgbdSample

__all__ = [
    "SunrgbdError", "SunrgbdSample", "CAM_TO_DEPTH", "decode_depth", "depth_to_upright_points",
    "label_to_box", "polygon_to_box", "rtilt_from_extrinsics", "wrap_yaw", "parse_label_line",
    "read_calib", "read_export_sample", "read_raw_sample", "read_raw_split", "write_sample",
    "build_index", "make_plan", "run",
]
