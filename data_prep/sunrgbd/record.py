"""The layout-independent record both readers return, and the class-name mapping."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from voxclip.classes import SUNRGBD_DET_CLASSES

CLASS_TO_INDEX = {name: i for i, name in enumerate(SUNRGBD_DET_CLASSES)}


@dataclass
class SunrgbdSample:
    """One image, read from either layout, before subsampling.

    points: float32 (N,6) upright-depth-frame xyz (metres) + rgb in [0,1], toolbox pixel order.
    boxes: float32 (M,7) project convention; labels: int64 (M,) indexing SUNRGBD_DET_CLASSES.
    Rtilt, K: float64 (3,3). dropped: annotated objects of other classes, name -> count.
    """

    sample_id: str
    points: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    Rtilt: np.ndarray
    K: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)
    source: dict = field(default_factory=dict)


def normalize_class_name(name: str) -> str:
    """Toolbox rule (text before ':' is the class), then lower case, spaces -> '_'."""
    name = str(name)
    if ":" in name:  # "chair: office chair" / "chair_:x" -> "chair"
        name = name[: name.index(":")].rstrip(" _")
    return "_".join(name.strip().lower().split())


def assign_labels(names: list[str], boxes: list[np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Keep the boxes of the 10 detection classes; count the others by (normalised) name."""
    kept, labels, dropped = [], [], Counter()
    for name, box in zip(names, boxes):
        cls = normalize_class_name(name)
        if cls in CLASS_TO_INDEX:
            kept.append(box)
            labels.append(CLASS_TO_INDEX[cls])
        else:
            dropped[cls or "<empty>"] += 1
    boxes_arr = np.asarray(kept, dtype=np.float32).reshape(-1, 7)
    return boxes_arr, np.asarray(labels, dtype=np.int64), dict(sorted(dropped.items()))
