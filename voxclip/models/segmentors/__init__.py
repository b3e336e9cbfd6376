"""Segmentors (backbone + per-point classifier); importing registers them in voxclip.registry.MODELS."""
from .sparse_segmentor import SparseSegmentor

__all__ = ["SparseSegmentor"]
