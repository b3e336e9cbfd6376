"""3DETR head: Fourier positions, FPS queries, transformer decoder, Hungarian set losses."""
from .box_coder import angle_to_bin, bin_to_angle, decode_boxes
from .criterion import SetCriterion
from .decoder import DecoderLayer, TransformerDecoder
from .head import DETR3DHead
from .matcher import HungarianMatcher, matching_cost
from .position_encoding import FourierPositionEncoding, normalize_coords

__all__ = ["DETR3DHead", "FourierPositionEncoding", "normalize_coords", "HungarianMatcher", "matching_cost",
           "SetCriterion", "TransformerDecoder", "DecoderLayer", "angle_to_bin", "bin_to_angle", "decode_boxes"]
