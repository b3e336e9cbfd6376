"""Segmentors (backbone + per-point classifier); importing registers them in voxclip.registry.MODELS."""
from .sparse_segmentor import SparseSegmentor
from .token_segmentor import TokenSegmentor  # noqa: F401

__all__ = ["SparseSegmentor"]
