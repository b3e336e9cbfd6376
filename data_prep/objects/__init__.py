"""Validation, indexing and FPS-resampled caches of the object datasets (tools/prepare_objects.py)."""
from .prepare import DATASETS, DEFAULT_POINTS, PrepareResult, prepare_objects

__all__ = ["prepare_objects", "PrepareResult", "DATASETS", "DEFAULT_POINTS"]
