"""CLIP components reused on point tokens (EPCL); importing registers them."""
from .loader import DOWNLOAD_HINT, build_open_clip_visual, load_open_clip_visual
from .point_encoder import ClipTransformerEncoder
from .summary import format_parameter_summary, summarize_parameters

__all__ = ["ClipTransformerEncoder", "load_open_clip_visual", "build_open_clip_visual", "DOWNLOAD_HINT",
           "summarize_parameters", "format_parameter_summary"]
