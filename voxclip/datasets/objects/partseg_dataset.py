"""ShapeNetPart part segmentation (``shapenetcore_partanno_segmentation_benchmark_v0_normal/``).

Each sample: ``points`` (P, 3) float32 (z up, unit sphere), ``normals`` when asked, ``semantic`` (P,) the
global part ids (0..49), ``gt_labels`` (1,) the category index in the benchmark's 16-category order (the
one-hot the model is given), ``gt_boxes`` (1, 7) the axis-aligned box (box-aware transforms stay
consistent), ``meta`` (sample_id ``<synset>/<model>``, category), every point of the file. As the
released loaders (PointNet++ / Point-MAE ``PartNormalDataset``), pipelines resample each shape to 2048
points by a random choice *with* replacement (``PointSample(num_points=2048, replace=True)``); the
draw comes from the sample's own generator: in training the one the seeded sampler attaches (seed,
epoch, index), in test mode ``scene_rng(test_seed, sample_id)``, so an evaluation sees the same 2048
points of each shape whatever the loader order or worker count (the released test draws from numpy's
global RNG).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from voxclip.registry import DATASETS

from ..base import scene_rng
from ..samplers import SeededRefetch, generator_for_index
from ..transforms import Compose
from ..transforms.base import use_sample_rng
from .prepared import read_prepared_parts
from .readers import ObjectDataError
from .shapenetpart import SHAPENETPART_CATEGORIES, SHAPENETPART_SYNSETS, read_shapenetpart, shapenetpart_seg_classes

__all__ = ["ShapeNetPartSegmentation", "SPLITS"]

SPLITS = ("train", "val", "test", "trainval")  # Point-MAE trains on trainval, tests on test


@DATASETS.register_module()
class ShapeNetPartSegmentation(SeededRefetch, BaseDataset):
    """Args:
        data_root: the raw ShapeNetPart root (``synsetoffset2category.txt`` inside), or with
            source='prepared' the cache of ``tools/prepare_objects.py shapenetpart`` (fast start-up).
        source: 'raw' | 'prepared'.
        split: one of SPLITS ('trainval' = the train and val lists, Point-MAE's training set).
        use_normals: keep the normals as ``normals`` (feed them with ``PointFeatures(keys=('normals',))``).
        test_seed: seed of the test-mode sampling (per shape: (test_seed, crc32(sample_id))).
        pipeline: transforms ending in PointFeatures, Voxelize, PackInputs (the batch contract).
    """

    def __init__(self, data_root: str, split: str = "trainval", pipeline: Sequence[dict | Callable] = (),
                 use_normals: bool = False, test_seed: int = 0, source: str = "raw",
                 test_mode: bool = False, indices=None, lazy_init: bool = False, max_refetch: int = 1000):
        if not data_root:
            raise ValueError("ShapeNetPartSegmentation: data_root must be given")
        if split not in SPLITS:
            raise ValueError(f"ShapeNetPartSegmentation: split must be one of {SPLITS}, got {split!r}")
        if source not in ("raw", "prepared"):
            raise ValueError(f"ShapeNetPartSegmentation: source must be 'raw' or 'prepared', got {source!r}")
        self.split, self.use_normals, self.test_seed = split, bool(use_normals), int(test_seed)
        self.seg_classes = shapenetpart_seg_classes()
        self._clouds, self._parts, self._cats, self._ids = [], [], [], []
        for sub in (("train", "val") if split == "trainval" else (split,)):
            if source == "prepared":
                objs = read_prepared_parts(str(data_root), sub)
                if self.use_normals and objs.points and objs.points[0].shape[1] < 6:
                    raise ObjectDataError(f"{data_root}: use_normals=True but the cache holds xyz only "
                                          "(prepare it with --normals)")
            else:
                objs = read_shapenetpart(str(data_root), sub, use_normals=self.use_normals)
            for k, sid in enumerate(objs.ids):
                synset = sid.split("/")[0]
                path = f"{data_root}/{sid}.txt" if source == "raw" else f"{data_root} (cached {sid})"
                if synset not in SHAPENETPART_SYNSETS:
                    raise ObjectDataError(f"{path}: synset {synset} is not one of the 16 ShapeNetPart categories")
                cat = SHAPENETPART_SYNSETS.index(synset)
                parts = objs.extra["parts"][k]
                bad = sorted(set(np.unique(parts).tolist()) - set(self.seg_classes[cat]))
                if bad:
                    raise ObjectDataError(f"{path}: part ids {bad} do not belong to {SHAPENETPART_CATEGORIES[cat]} "
                                          f"(parts {list(self.seg_classes[cat])})")
                self._clouds.append(np.asarray(objs.points[k], np.float32))
                self._parts.append(parts)
                self._cats.append(cat)
                self._ids.append(sid)
        super().__init__(ann_file="", data_root=str(data_root), pipeline=[], test_mode=test_mode, indices=indices,
                         metainfo=dict(classes=SHAPENETPART_CATEGORIES, seg_classes=self.seg_classes),
                         serialize_data=False, lazy_init=lazy_init, max_refetch=max_refetch)
        self.pipeline = Compose(list(pipeline))

    def load_data_list(self) -> list[dict]:
        if not self._ids:
            raise ValueError(f"{self.data_root}: split {self.split!r} lists no shapes")
        return [dict(row=i, sample_id=sid, label=int(c)) for i, (sid, c) in enumerate(zip(self._ids, self._cats))]

    def load_sample(self, info: dict) -> dict:
        arr, parts = self._clouds[info["row"]], self._parts[info["row"]]
        pts = arr[:, :3].copy()
        lo, hi = pts.min(0), pts.max(0)
        sample = dict(points=pts, semantic=parts.astype(np.int64), gt_labels=np.array([info["label"]], np.int64),
                      gt_boxes=np.concatenate([(lo + hi) / 2, hi - lo, [0.0]]).astype(np.float32)[None],
                      meta=dict(sample_id=info["sample_id"], label=info["label"]))
        if self.use_normals:
            sample["normals"] = arr[:, 3:6].copy()
        return sample

    def prepare_data(self, idx: int):
        info = self.get_data_info(int(idx))
        rng = scene_rng(self.test_seed, info["sample_id"]) if self.test_mode else generator_for_index(idx)
        with use_sample_rng(rng):  # the resampling (PointSample) and every random transform draw from it
            return self.pipeline(self.load_sample(info))
