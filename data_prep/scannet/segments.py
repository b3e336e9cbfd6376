"""Reader for ScanNet's over-segmentation `<id>_vh_clean_2.0.010000.segs.json`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .errors import MissingFileError, SegCountMismatchError, SegIndicesError


def _load_json(path: Path, error: type) -> dict:
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise error(path, f"unreadable json ({type(err).__name__}: {err})")


def read_seg_indices(path: Union[str, Path], num_vertices: Optional[int] = None) -> np.ndarray:
    """Read `segIndices`: one over-segment id per mesh vertex, int64 (N,).

    Raises `MissingFileError`, `SegIndicesError`, or `SegCountMismatchError` when `num_vertices`
    is given and differs from the number of entries.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "segs.json not found")
    data = _load_json(path, SegIndicesError)
    if not isinstance(data, dict) or "segIndices" not in data:
        raise SegIndicesError(path, "no 'segIndices' key")
    try:
        seg = np.asarray(data["segIndices"])
    except ValueError as err:
        raise SegIndicesError(path, f"'segIndices' is not a flat list of integers ({err})")
    if seg.ndim != 1 or not (seg.size == 0 or np.issubdtype(seg.dtype, np.integer)):
        raise SegIndicesError(path, "'segIndices' is not a flat list of integers")
    seg = seg.astype(np.int64)
    if num_vertices is not None and len(seg) != num_vertices:
        raise SegCountMismatchError(
            path, f"segIndices has {len(seg)} entries but the mesh has {num_vertices} vertices")
    return seg
