"""Base of the point-cloud datasets: mmengine's BaseDataset with voxclip's transform Compose.

Subclasses implement `load_data_list()` (one small dict per sample, kept serialised in shared memory
by mmengine) and `load_sample(info)` (the numpy working dict the pipeline starts from).
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from .transforms import Compose


def load_npy(path: str, dtype, shape: tuple, hint: str = "") -> np.ndarray:
    """np.load with a one-line error naming the file: missing, unreadable or of the wrong shape.

    `shape` entries: an int (fixed), None (any). Returns the array cast to `dtype`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: file missing{hint}")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # corrupt header, truncated data, pickled object
        raise ValueError(f"{path}: cannot read ({type(exc).__name__}: {exc}){hint}") from exc
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{path}: expected shape {want}, got {arr.shape}{hint}")
    return arr.astype(dtype, copy=False)


class PointCloudDataset(BaseDataset):
    """Args shared by the voxclip datasets.

    Args:
        data_root: processed dataset folder.
        split: name of the split list to read.
        pipeline: transform configs (voxclip TRANSFORMS) or callables, ending in PackInputs.
        test_mode: mmengine's flag (no refetch on failure; evaluation loops). It does not change
            the pipeline: configs give test pipelines without random augmentation.
        metainfo, indices, serialize_data, lazy_init, max_refetch: as in mmengine's BaseDataset.
    """

    def __init__(self, data_root: str, split: str = "train", pipeline: Sequence[dict | Callable] = (),
                 test_mode: bool = False, metainfo: dict | None = None,
                 indices: int | Sequence[int] | None = None, serialize_data: bool = True,
                 lazy_init: bool = False, max_refetch: int = 1000):
        if data_root is None or str(data_root) == "":
            raise ValueError(f"{type(self).__name__}: data_root must be given")
        self.split = str(split)
        super().__init__(ann_file="", metainfo=metainfo, data_root=str(data_root), data_prefix={},
                         pipeline=[], test_mode=test_mode, indices=indices, serialize_data=serialize_data,
                         lazy_init=lazy_init, max_refetch=max_refetch)
        self.pipeline = Compose(list(pipeline))

    def load_sample(self, info: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare_data(self, idx: int):
        return self.pipeline(self.load_sample(self.get_data_info(idx)))
