"""Segmentors (backbone + per-point heads); importing registers them in voxclip.registry.MODELS."""
from .pointgroup import PointGroup
from .sparse_segmentor import SparseSegmentor
from .token_segmentor import TokenSegmentor  # noqa: F401
from .part_segmentor import PointPartSegmentor  # noqa: F401

__all__ = ["PointGroup", "SparseSegmentor"]
