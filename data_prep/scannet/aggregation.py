"""Reader for ScanNet's instance annotation `<id>.aggregation.json` (segGroups)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Union

import numpy as np

from .errors import AggregationError, MissingFileError
from .segments import _load_json


@dataclass
class SegGroup:
    """One annotated object: `object_id` (>= 0), raw category `label`, `segments` int64 (S,)."""

    object_id: int
    label: str
    segments: np.ndarray


def read_aggregation(path: Union[str, Path]) -> List[SegGroup]:
    """Read the `segGroups` of an aggregation json, in file order.

    An empty `segGroups` list is valid (a scene without objects). Raises `MissingFileError` or
    `AggregationError` (unreadable json, missing keys, wrong types, duplicate objectIds).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "aggregation.json not found")
    data = _load_json(path, AggregationError)
    if not isinstance(data, dict) or not isinstance(data.get("segGroups"), list):
        raise AggregationError(path, "no 'segGroups' list")
    groups: List[SegGroup] = []
    seen = set()
    for i, g in enumerate(data["segGroups"]):
        if not isinstance(g, dict) or not {"objectId", "label", "segments"} <= set(g):
            raise AggregationError(path, f"segGroups[{i}] lacks objectId/label/segments")
        oid, label, segs = g["objectId"], g["label"], g["segments"]
        if isinstance(oid, bool) or not isinstance(oid, int) or oid < 0:
            raise AggregationError(path, f"segGroups[{i}] objectId {oid!r} is not an int >= 0")
        if oid in seen:
            raise AggregationError(path, f"duplicate objectId {oid} (segGroups[{i}])")
        seen.add(oid)
        if not isinstance(label, str):
            raise AggregationError(path, f"segGroups[{i}] label {label!r} is not a string")
        if not isinstance(segs, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in segs):
            raise AggregationError(path, f"segGroups[{i}] segments is not a list of integers")
        groups.append(SegGroup(oid, label, np.asarray(segs, dtype=np.int64)))
    return groups
