"""S3DIS semantic segmentation over processed rooms (docs/s3dis.md).

Processed layout (tools/prepare_s3dis.py): OUT/rooms/Area_<N>_<room>/{coord.npy (N,3) float32,
metres, shifted so the room's min xyz is 0; color.npy (N,3) uint8; segment.npy (N,) int16 in
0..12; instance.npy (N,) int32, 1-based object file index; meta.json}, OUT/splits/area_<N>.txt
(one room id per line), OUT/index.json. S3DIS has no train/val lists: the benchmark trains on
every area but one and tests on that one (Area 5 by default).
"""
from __future__ import annotations

import os
import re
from typing import Sequence

import numpy as np

from voxclip.classes import S3DIS_SEG_CLASSES
from voxclip.registry import DATASETS

from .base import PointCloudDataset, load_npy

_AREA_FILE = re.compile(r"^area_(\d+)\.txt$")


@DATASETS.register_module()
class S3DISSegmentation(PointCloudDataset):
    """S3DIS semantic segmentation (13 classes; `semantic` -1 = ignore for dropped classes).

    Args:
        data_root: processed root (tools/prepare_s3dis.py output).
        test_area: the held-out area (5: the "Area 5 test" benchmark).
        split: 'train' = the rooms of every other area found in splits/ (or `train_areas`);
            'val' / 'test' = the rooms of `test_area`.
        pipeline: transforms, e.g. PointSample, RandomFlip, RandomRotateZ, RandomScale,
            RandomColorJitter, NormalizeColor, HeightFeature, PointFeatures, Voxelize, PackInputs.
        train_areas: explicit training areas (default: all areas of splits/ but `test_area`).
        with_instance: also load instance.npy as `instance` (0 never occurs: every point
            belongs to an object file).
        class_names: a subset of the 13 classes in the order wanted; other labels become -1.
        test_mode and the rest: see PointCloudDataset.

    Working dict handed to the pipeline: points (N,3) float32, colors (N,3) uint8,
    semantic (N,) int64, [instance (N,) int64], meta {scene_id, area, sample_idx}.
    """

    ALL_CLASSES = S3DIS_SEG_CLASSES
    SAMPLE_DIR = "rooms"
    PREPARE_HINT = " (create it with: python tools/prepare_s3dis.py RAW {root})"
    SPLITS = ("train", "val", "test")

    def __init__(self, data_root: str, test_area: int = 5, split: str = "train", pipeline=(),
                 train_areas: Sequence[int] | None = None, with_instance: bool = False,
                 class_names: Sequence[str] | None = None, **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f"S3DISSegmentation: split must be one of {self.SPLITS}, got {split!r}")
        self.test_area = int(test_area)
        self.train_areas = None if train_areas is None else sorted({int(a) for a in train_areas})
        if self.train_areas is not None and self.test_area in self.train_areas:
            raise ValueError(f"S3DISSegmentation: test_area {self.test_area} is also in train_areas "
                             f"{self.train_areas}")
        self.with_instance = bool(with_instance)
        super().__init__(data_root, split, pipeline, class_names=class_names, **kwargs)

    # ---- room lists --------------------------------------------------------------------------
    def available_areas(self) -> list[int]:
        d = os.path.join(self.data_root, "splits")
        if not os.path.isdir(d):
            raise FileNotFoundError(f"{d}: split lists missing{self.hint}")
        return sorted(int(m.group(1)) for m in map(_AREA_FILE.match, os.listdir(d)) if m)

    def areas(self) -> list[int]:
        """The areas whose rooms this dataset lists."""
        if self.split != "train":
            return [self.test_area]
        if self.train_areas is not None:
            return list(self.train_areas)
        return [a for a in self.available_areas() if a != self.test_area]

    def load_data_list(self) -> list[dict]:
        root, name = self.data_root, type(self).__name__
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: {name} data_root does not exist{self.hint}")
        areas = self.areas()
        if not areas:
            raise ValueError(f"{os.path.join(root, 'splits')}: no area but the test area "
                             f"{self.test_area} to train on{self.hint}")
        infos = []
        for area in areas:
            path = os.path.join(root, "splits", f"area_{area}.txt")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path}: split list of Area_{area} missing (prepared areas: "
                                        f"{self.available_areas()}){self.hint}")
            with open(path, encoding="utf-8") as f:
                ids = [line.strip() for line in f if line.strip()]
            if not ids:
                raise ValueError(f"{path}: lists no rooms")
            infos += [dict(scene_id=i, area=area, sample_dir=os.path.join(root, self.SAMPLE_DIR, i))
                      for i in ids]
        missing = [info["sample_dir"] for info in infos if not os.path.isdir(info["sample_dir"])]
        if missing:
            raise FileNotFoundError(f"{len(missing)} listed room folder(s) missing, first "
                                    f"{missing[0]}{self.hint}")
        self._metainfo.update(test_area=self.test_area, areas=areas)
        return infos

    # ---- one room ----------------------------------------------------------------------------
    def load_sample(self, info: dict) -> dict:
        d, hint = info["sample_dir"], self.hint

        def npy(fname, dtype, shape):
            return load_npy(os.path.join(d, fname), dtype, shape, hint)

        points, colors = self._load_coloured_points(d)
        n = len(points)
        if n == 0:
            raise ValueError(f"{os.path.join(d, 'coord.npy')}: no points")
        seg = npy("segment.npy", np.int64, (n,))
        if seg.min() < -1 or seg.max() >= len(self.ALL_CLASSES):
            raise ValueError(f"{os.path.join(d, 'segment.npy')}: labels outside [-1, {len(self.ALL_CLASSES)})")
        results = dict(points=points, colors=colors,
                       semantic=np.where(seg >= 0, self.label_map[np.clip(seg, 0, None)], -1),
                       meta=dict(scene_id=info["scene_id"], area=info["area"],
                                 sample_idx=info.get("sample_idx", -1)))
        if self.with_instance:
            results["instance"] = npy("instance.npy", np.int64, (n,))
        return results
