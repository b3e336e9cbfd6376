"""Inference on a user's own point clouds (tools/infer.py): readers, frame checks, predictor, exports."""
from .checks import frame_warnings, to_z_up
from .io import SUFFIXES, read_point_cloud
from .predictor import Prediction, Predictor

__all__ = ["frame_warnings", "to_z_up", "SUFFIXES", "read_point_cloud", "Prediction", "Predictor"]
