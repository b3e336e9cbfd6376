"""Base of the point-cloud datasets: mmengine's BaseDataset with voxclip's transform Compose.

Subclasses implement `load_data_list()` (one small dict per sample, kept serialised in shared memory
by mmengine) and `load_sample(info)` (the numpy working dict the pipeline starts from).
"""
from __future__ import annotations

import json
import os
import zlib
from typing import Callable, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from voxclip.utils.idlist import read_id_list

from .samplers import SeededRefetch, generator_for_index
from .transforms import Compose
from .transforms.base import use_sample_rng


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


def class_label_map(all_classes: Sequence[str], class_names: Sequence[str], who: str) -> np.ndarray:
    """Lookup full-list index -> index in `class_names` (-1 when dropped)."""
    unknown = [c for c in class_names if c not in all_classes]
    if unknown or len(set(class_names)) != len(class_names) or not class_names:
        raise ValueError(f"{who}: class_names must be distinct names from {list(all_classes)}, "
                         f"got {list(class_names)}")
    lut = np.full(len(all_classes), -1, dtype=np.int64)
    for i, name in enumerate(class_names):
        lut[list(all_classes).index(name)] = i
    return lut


class PointCloudDataset(SeededRefetch, BaseDataset):
    """Processed samples listed in `data_root/splits/<split>.txt`, one folder each.

    Subclasses set ALL_CLASSES (the dataset's full class list), SAMPLE_DIR (folder of the sample
    folders under data_root) and PREPARE_HINT (how to create data_root), and implement
    `load_sample(info)`; `info` has `scene_id` and `sample_dir`.

    Args:
        data_root: processed dataset folder.
        split: name of the split list to read.
        pipeline: transform configs (voxclip TRANSFORMS) or callables, ending in PackInputs.
        class_names: a subset of ALL_CLASSES in the order wanted (labels index it); default all.
        test_mode: mmengine's flag (no refetch on failure; evaluation loops). It does not change
            the pipeline: configs give test pipelines without random augmentation.
        test_seed: in test mode, every random transform (PointSample) of a sample draws from a
            generator seeded by (test_seed, crc32(scene_id)), so evaluating a checkpoint gives one
            number whatever the worker count, batch order or earlier epochs; None restores the global
            RNG (mmengine's per-worker seeding).
        metainfo, indices, serialize_data, lazy_init, max_refetch: as in mmengine's BaseDataset.
    `metainfo`: classes, and class_mean_sizes from data_root/index.json when present.
    """

    ALL_CLASSES: tuple = ()
    SAMPLE_DIR = "samples"
    PREPARE_HINT = ""

    def __init__(self, data_root: str, split: str = "train", pipeline: Sequence[dict | Callable] = (),
                 class_names: Sequence[str] | None = None, test_mode: bool = False,
                 metainfo: dict | None = None, indices: int | Sequence[int] | None = None,
                 serialize_data: bool = True, lazy_init: bool = False, max_refetch: int = 1000,
                 test_seed: int | None = 0):
        if data_root is None or str(data_root) == "":
            raise ValueError(f"{type(self).__name__}: data_root must be given")
        self.split = str(split)
        self.class_names = tuple(class_names) if class_names is not None else tuple(self.ALL_CLASSES)
        self.label_map = class_label_map(self.ALL_CLASSES, self.class_names, type(self).__name__)
        self.test_seed = None if test_seed is None else int(test_seed)
        metainfo = dict(metainfo or {})
        metainfo.setdefault("classes", self.class_names)
        super().__init__(ann_file="", metainfo=metainfo, data_root=str(data_root), data_prefix={},
                         pipeline=[], test_mode=test_mode, indices=indices, serialize_data=serialize_data,
                         lazy_init=lazy_init, max_refetch=max_refetch)
        self.pipeline = Compose(list(pipeline))
        if self.test_mode:  # the seed goes into the run's log: a result names its sampling
            from mmengine.logging import print_log

            print_log(f"{type(self).__name__}({self.split}): test-time sampling "
                      + (f"seeded per scene, test_seed={self.test_seed}" if self.test_seed is not None
                         else "from the global RNG (test_seed=None)"), logger="current")

    @property
    def hint(self) -> str:
        return self.PREPARE_HINT.format(root=self.data_root)

    def load_data_list(self) -> list[dict]:
        root, name = self.data_root, type(self).__name__
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: {name} data_root does not exist{self.hint}")
        split_file = os.path.join(root, "splits", f"{self.split}.txt")
        if not os.path.isfile(split_file):
            raise FileNotFoundError(f"{split_file}: split list missing{self.hint}")
        ids = read_id_list(split_file)
        if not ids:
            raise ValueError(f"{split_file}: lists no samples")
        infos = [dict(scene_id=i, sample_dir=os.path.join(root, self.SAMPLE_DIR, i)) for i in ids]
        missing = [info["sample_dir"] for info in infos if not os.path.isdir(info["sample_dir"])]
        if missing:
            raise FileNotFoundError(f"{split_file}: {len(missing)} listed sample folder(s) missing, first "
                                    f"{missing[0]}{self.hint}")
        self._load_mean_sizes(os.path.join(root, "index.json"))
        return infos

    def _load_mean_sizes(self, path: str) -> None:
        """metainfo['class_mean_sizes']: (K,3) list in class_names order (None for absent classes)."""
        if not os.path.isfile(path):
            return
        try:
            with open(path, encoding="utf-8") as f:
                index = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read index ({exc})") from exc
        sizes = index.get("class_mean_sizes")
        if sizes is None:
            return
        classes = list(index.get("classes") or self.ALL_CLASSES)
        if len(sizes) != len(classes):
            raise ValueError(f"{path}: class_mean_sizes has {len(sizes)} rows for {len(classes)} classes")
        if classes != list(self.ALL_CLASSES):
            return  # an index of another class list (e.g. segmentation over a detection index)
        self._metainfo["class_mean_sizes"] = [sizes[classes.index(c)] for c in self.class_names]

    def _load_coloured_points(self, sample_dir: str) -> tuple[np.ndarray, np.ndarray]:
        """A prepared sample's ``coord.npy`` (N,3) float32 (checked finite) and ``color.npy`` (N,3) uint8."""
        path = os.path.join(sample_dir, "coord.npy")
        points = load_npy(path, np.float32, (None, 3), self.hint)
        if not np.isfinite(points).all():
            raise ValueError(f"{path}: non-finite coordinates")
        return points, load_npy(os.path.join(sample_dir, "color.npy"), np.uint8, (len(points), 3), self.hint)

    def load_sample(self, info: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample_rng(self, info: dict) -> np.random.Generator | None:
        """The per-sample generator of test mode (see `test_seed`), None in training."""
        if not self.test_mode or self.test_seed is None:
            return None
        return scene_rng(self.test_seed, info.get("scene_id", info.get("sample_idx", "")))

    def prepare_data(self, idx: int):
        # random transforms draw from the sample's own generator: per scene in test mode (one number
        # per checkpoint), else the one the training sampler attached (exact resume)
        info = self.get_data_info(int(idx))
        rng = self.sample_rng(info)
        with use_sample_rng(rng if rng is not None else generator_for_index(idx)):
            return self.pipeline(self.load_sample(info))


def scene_rng(seed: int, scene_id) -> np.random.Generator:
    """Generator of one scene's test-time sampling: (seed, crc32(scene id)), order independent."""
    return np.random.default_rng([int(seed), zlib.crc32(str(scene_id).encode("utf-8"))])
