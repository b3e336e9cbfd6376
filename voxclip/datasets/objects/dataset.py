"""Object classification datasets (ModelNet40, ScanObjectNN, ShapeNet55) for mmengine loops.

One class, ``ObjectClassification``, reads the prepared cache (tools/prepare_objects.py, fast) or a
raw layout directly (``source=``). Each sample enters the pipeline as ``points`` (P, 3) float32 (z up),
``normals`` when the source has them, ``gt_labels`` (1,) and ``gt_boxes`` (1, 7) (the object's axis-
aligned box, so box-aware transforms keep working), ``meta`` (sample_id, label); pipelines end with
PointFeatures, Voxelize and PackInputs like every voxclip pipeline (the batch contract), and the
classifier reads ``points``/``point_batch`` and ``gt_labels``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from voxclip.registry import DATASETS

from ..samplers import SeededRefetch, generator_for_index
from ..transforms import Compose
from ..transforms.base import use_sample_rng
from . import readers
from .fewshot import load_folds
from .prepared import read_prepared

__all__ = ["ObjectClassification", "load_object_set", "SOURCES"]

SOURCES = ("prepared", "modelnet40_txt", "modelnet40_h5", "scanobjectnn", "shapenet55")


def load_object_set(source: str, data_root: str, split: str, variant: str = "PB_T50_RS",
                    use_normals: bool = False) -> readers.ObjectSet:
    if source == "prepared":
        return read_prepared(data_root, split)
    if source == "modelnet40_txt":
        return readers.read_modelnet40_txt(data_root, split, use_normals=use_normals)
    if source == "modelnet40_h5":
        return readers.read_modelnet40_h5(data_root, split, use_normals=use_normals)
    if source == "scanobjectnn":
        return readers.read_scanobjectnn(data_root, variant, split)
    if source == "shapenet55":
        return readers.read_shapenet55(data_root, split)
    raise ValueError(f"ObjectClassification: source must be one of {SOURCES}, got {source!r}")


@DATASETS.register_module()
class ObjectClassification(SeededRefetch, BaseDataset):
    """Args:
        data_root: prepared folder (source='prepared') or the raw dataset root.
        split: 'train' | 'test'.
        pipeline: transform configs ending in PointFeatures, Voxelize, PackInputs.
        source: one of SOURCES. variant: ScanObjectNN variant for source='scanobjectnn'.
        use_normals: keep normals (raw ModelNet40 sources; a prepared cache keeps what it holds).
        few_shot: dict(file=FOLDS_JSON, fold=i): only that fold's objects (its 'train' list for
            split='train', its 'test' list otherwise), labels renumbered 0..K-1 in fold order.
    """

    def __init__(self, data_root: str, split: str = "train", pipeline: Sequence[dict | Callable] = (),
                 source: str = "prepared", variant: str = "PB_T50_RS", use_normals: bool = False,
                 few_shot: dict | None = None, test_mode: bool = False, indices=None,
                 lazy_init: bool = False, max_refetch: int = 1000):
        if not data_root:
            raise ValueError("ObjectClassification: data_root must be given")
        self.split, self.source, self.variant, self.use_normals = str(split), source, variant, use_normals
        self.few_shot = dict(few_shot) if few_shot else None
        self._objects = load_object_set(source, str(data_root), self.split, variant, use_normals)
        classes = self._objects.class_names
        self._labels = np.asarray(self._objects.labels, np.int64)
        self._rows = np.arange(len(self._objects))
        if self.few_shot is not None:
            doc = load_folds(self.few_shot["file"])
            fold = doc["folds"][int(self.few_shot.get("fold", 0))]
            self._rows = np.asarray(fold["train" if self.split == "train" else "test"], np.int64)
            if len(self._rows) and self._rows.max() >= len(self._labels):
                raise ValueError(f"{self.few_shot['file']}: fold indices beyond the {len(self._labels)} "
                                 f"objects of split {self.split!r}")
            remap = {c: i for i, c in enumerate(fold["classes"])}
            self._labels = np.array([remap.get(int(c), -1) for c in self._labels], np.int64)
            classes = tuple(classes[c] for c in fold["classes"])
        super().__init__(ann_file="", metainfo=dict(classes=tuple(classes)), data_root=str(data_root),
                         pipeline=[], test_mode=test_mode, indices=indices, serialize_data=False,
                         lazy_init=lazy_init, max_refetch=max_refetch)
        self.pipeline = Compose(list(pipeline))

    def load_data_list(self) -> list[dict]:
        if len(self._rows) == 0:
            raise ValueError(f"{self.data_root}: split {self.split!r} has no objects")
        return [dict(row=int(r), sample_id=str(self._objects.ids[r]), label=int(self._labels[r]))
                for r in self._rows]

    def load_sample(self, info: dict) -> dict:
        arr = np.asarray(self._objects.points[info["row"]], dtype=np.float32)
        pts = arr[:, :3].copy()
        lo, hi = pts.min(0), pts.max(0)
        sample = dict(points=pts, gt_labels=np.array([info["label"]], np.int64),
                      gt_boxes=np.concatenate([(lo + hi) / 2, hi - lo, [0.0]]).astype(np.float32)[None],
                      meta=dict(sample_id=info["sample_id"], label=info["label"]))
        if arr.shape[1] >= 6:
            sample["normals"] = arr[:, 3:6].copy()
        return sample

    def prepare_data(self, idx: int):
        with use_sample_rng(generator_for_index(idx)):  # per-sample augmentation (docs/reliability.md)
            return self.pipeline(self.load_sample(self.get_data_info(idx)))
