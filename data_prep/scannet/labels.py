"""Per-vertex instance and semantic labels from segIndices + segGroups (vectorised lookups)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np

from voxclip.classes import SCANNET_SEG_NYU40_IDS

from .aggregation import SegGroup
from .errors import UnknownLabelError, UnknownSegmentError

# nyu40 id -> index of the 20 benchmark classes, -1 elsewhere.
NYU40_TO_SEG20 = np.full(41, -1, dtype=np.int16)
NYU40_TO_SEG20[list(SCANNET_SEG_NYU40_IDS)] = np.arange(len(SCANNET_SEG_NYU40_IDS))


@dataclass
class VertexLabels:
    """`instance` int32 (N,) (objectId + 1, 0 = none), `nyu40` int16 (N,) (0 = unannotated),
    `segment20` int16 (N,) (-1 = ignore), `instance_nyu40` int16 (max id + 1,) per instance id,
    plus bookkeeping counts for meta.json."""

    instance: np.ndarray
    nyu40: np.ndarray
    segment20: np.ndarray
    instance_nyu40: np.ndarray
    stats: Dict[str, int] = field(default_factory=dict)


def map_raw_labels(groups: Sequence[SegGroup], label_map: Dict[str, int],
                   aggregation_path: Union[str, Path]) -> np.ndarray:
    """nyu40 id of each group, int16 (G,). Raises `UnknownLabelError` listing every raw label
    absent from the tsv (an error for the scene: guessing a class would silently corrupt it)."""
    unknown = sorted({g.label for g in groups if g.label not in label_map})
    if unknown:
        raise UnknownLabelError(aggregation_path,
                                f"raw labels not in the label tsv: {', '.join(map(repr, unknown))}")
    return np.array([label_map[g.label] for g in groups], dtype=np.int16)


def vertex_labels(seg_indices: np.ndarray, groups: List[SegGroup], group_nyu40: np.ndarray,
                  aggregation_path: Union[str, Path]) -> VertexLabels:
    """Spread object annotations from over-segments to vertices.

    Args:
        seg_indices: int (N,) over-segment id per vertex.
        groups: the aggregation's segGroups (file order).
        group_nyu40: int (G,) nyu40 id per group (see `map_raw_labels`).
    A segment claimed by several groups goes to the last one (ScanNet's export scripts assign
    groups in order, so the last wins there too);
    the number of such segments is reported in `stats['segments_in_several_objects']`.
    Raises `UnknownSegmentError` if a group references a segment id absent from `seg_indices`.
    """
    n = len(seg_indices)
    # Compact the (sparse, large) segment ids: vertex -> row of `seg_ids`.
    seg_ids, vert_seg = np.unique(seg_indices, return_inverse=True)
    max_oid = max((g.object_id for g in groups), default=-1)
    instance_nyu40 = np.zeros(max_oid + 2, dtype=np.int16)
    seg_to_inst = np.zeros(len(seg_ids), dtype=np.int32)
    stats = {"num_objects": len(groups), "segments_in_several_objects": 0}
    if groups:
        all_segs = np.concatenate([g.segments for g in groups])
        inst = np.repeat(np.array([g.object_id + 1 for g in groups], dtype=np.int32),
                         [len(g.segments) for g in groups])
        pos = np.searchsorted(seg_ids, all_segs)
        found = pos < len(seg_ids)
        found[found] = seg_ids[pos[found]] == all_segs[found]
        if not found.all():
            missing = np.unique(all_segs[~found])
            shown = ", ".join(str(s) for s in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise UnknownSegmentError(
                aggregation_path, f"{len(missing)} segment ids not in segIndices: {shown}")
        # A segment listed twice by one object is not a conflict; by two objects it is.
        pairs = np.unique(np.stack([pos, inst], axis=1), axis=0)
        stats["segments_in_several_objects"] = int(len(pairs) - len(np.unique(pairs[:, 0])))
        # Last group wins, made explicit (numpy leaves repeated fancy-index writes unordered).
        uniq, first_in_rev = np.unique(pos[::-1], return_index=True)
        seg_to_inst[uniq] = inst[::-1][first_in_rev]
        instance_nyu40[[g.object_id + 1 for g in groups]] = group_nyu40
    instance = seg_to_inst[vert_seg].reshape(n)
    nyu40 = instance_nyu40[instance]
    segment20 = NYU40_TO_SEG20[nyu40]
    stats["num_annotated_points"] = int(np.count_nonzero(instance))
    return VertexLabels(instance, nyu40, segment20, instance_nyu40, stats)
