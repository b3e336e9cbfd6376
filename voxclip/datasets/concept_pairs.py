"""Concept-alignment pretraining samples (paper Sec. 4.1.1, App. A.1) from the existing 2D-3D pairs.

One sample = one pair of ``RGBDPairs`` (same index, same scene selection; no new pass over the
.sens files), restricted to frames ``frame % frame_stride == 0`` (the paper samples the RGB-D
videos at a frame rate of 25; with pairs extracted by ``--frame-skip 25`` every pair qualifies):

- ``points`` float32 (N, 3): the frame's back-projected points (scene frame, metres), N =
  ``num_points`` (4096) drawn without replacement (with replacement when the frame has fewer),
  then "scale and translate" (Tab. 8) as Point-MAE's PointcloudScaleAndTranslate: per-axis scale
  U(2/3, 3/2), per-axis shift U(-0.2, 0.2) (metres here).
- ``image`` float32 (3, S, S): the colour frame as CLIP's preprocessing gives it (shorter side
  resized to S bicubic with antialiasing, centre crop, clamp to [0, 1], CLIP mean/std), S = the
  teacher's input size (224 for ViT-B/32). Not augmented, so the teacher target is fixed per pair.
- ``target`` float32 (k_cap, d_cap): the cached teacher prefix, when ``cache_dir`` holds an entry
  for every selected pair (voxclip.models.concept_align.cache; tools/cache_clipcap_prefixes.py);
  the image is then not loaded unless ``load_images``. An absent or incomplete cache is logged and
  the samples carry images for the teacher instead (``require_cache=True`` makes it an error).
"""
from __future__ import annotations

import logging
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS

from voxclip.registry import DATASETS

from .rgbd_pairs import CLIP_MEAN, CLIP_STD, PairFileError, RGBDPairs, load_pair_npz

__all__ = ["ConceptAlignPairs", "concept_pairs_collate", "clip_preprocess"]


def clip_preprocess(color: np.ndarray, size: int) -> torch.Tensor:
    """uint8 (H, W, 3) -> float32 (3, size, size): CLIP resize (shorter side) + centre crop + normalise."""
    x = torch.from_numpy(np.ascontiguousarray(color)).permute(2, 0, 1)[None].float() / 255.0
    h, w = x.shape[-2:]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True).clamp_(0, 1)
    top, left = (nh - size) // 2, (nw - size) // 2
    x = x[0, :, top:top + size, left:left + size]
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    return ((x - mean) / std).contiguous()


@DATASETS.register_module()
class ConceptAlignPairs(RGBDPairs):
    """Args (besides RGBDPairs' scene selection: data_root, split, split_file, scenes, pairs_dir,
    skip_missing_scenes):
        frame_stride: keep frames with ``frame % frame_stride == 0`` (25; 1 = every extracted pair).
        num_points: points per sample (4096).
        image_size: teacher input size S (224); None = no image (cached targets only).
        scale_range: per-axis scale bounds ((2/3, 3/2)); None = off.
        translate: per-axis shift bound in metres (0.2); 0 = off.
        cache_dir: teacher-target cache (tools/cache_clipcap_prefixes.py), used when complete.
        require_cache: an absent or incomplete cache is an error instead of a fallback to images.
        target_shape: expected (k_cap, d_cap) of cached targets (checked when given).
        load_images: also load the image when reading the cache.
    """

    def __init__(self, data_root: str, split: Optional[str] = "train", frame_stride: int = 25,
                 num_points: int = 4096, image_size: Optional[int] = 224,
                 scale_range: Optional[Sequence[float]] = (2.0 / 3.0, 1.5), translate: float = 0.2,
                 cache_dir: Optional[str] = None, require_cache: bool = False,
                 target_shape: Optional[Sequence[int]] = None, load_images: bool = False, **kwargs):
        if int(frame_stride) < 1 or int(num_points) < 1:
            raise ValueError(f"ConceptAlignPairs: frame_stride ({frame_stride}) and num_points ({num_points}) "
                             f"must be >= 1")
        self.frame_stride, self.num_points = int(frame_stride), int(num_points)
        self.image_size = None if image_size is None else int(image_size)
        self.translate = float(translate)
        self.cache_dir, self.require_cache = cache_dir, bool(require_cache)
        self.target_shape = None if target_shape is None else tuple(int(v) for v in target_shape)
        self._load_images_opt = bool(load_images)
        self._cache = None
        if cache_dir is not None:
            from voxclip.models.concept_align.cache import PrefixCache

            self._cache = PrefixCache(cache_dir)
        super().__init__(data_root, split=split, scale_range=scale_range, **kwargs)
        self.load_images = self._load_images_opt or self._cache is None
        if self.load_images and self.image_size is None:
            raise ValueError("ConceptAlignPairs: without a complete teacher cache the image is needed: set image_size")

    def load_data_list(self) -> list[dict]:
        infos = [i for i in super().load_data_list() if i["frame"] % self.frame_stride == 0]
        if not infos:
            raise ValueError(f"{self.data_root}: no pair with frame % {self.frame_stride} == 0 (extract pairs with "
                             f"--frame-skip {self.frame_stride}, or lower frame_stride)")
        if self._cache is not None:
            missing = [i for i in infos if not self._cache.has(i["scene_id"], i["frame"])]
            if missing:
                msg = (f"{self._cache.path(missing[0]['scene_id'], missing[0]['frame'])}: teacher prefix not cached "
                       f"({len(missing)} of {len(infos)} pairs missing; run tools/cache_clipcap_prefixes.py on the "
                       f"pretraining config)")
                if self.require_cache:
                    raise FileNotFoundError(msg)
                print_log(msg + "; the teacher runs on the images instead", logger="current", level=logging.WARNING)
                self._cache = None
        return infos

    def load_sample(self, info: dict) -> Optional[dict]:
        path = info["path"]
        p = load_pair_npz(path)
        points = p["points"].astype(np.float64)
        if not np.isfinite(points).all():
            raise PairFileError(f"{path}: non-finite points")
        if len(points) < self.min_points:
            if self.test_mode:
                raise PairFileError(f"{path}: {len(points)} points, fewer than min_points={self.min_points}")
            return None
        rng = self.rng
        idx = rng.choice(len(points), self.num_points, replace=len(points) < self.num_points)
        pts = points[idx]
        scale = rng.uniform(*self.scale_range, size=3) if self.scale_range is not None else np.ones(3)
        shift = rng.uniform(-self.translate, self.translate, size=3) if self.translate > 0 else np.zeros(3)
        pts = pts * scale + shift
        out = dict(points=torch.from_numpy(pts.astype(np.float32)),
                   meta=dict(scene_id=info["scene_id"], frame=info["frame"], path=path,
                             num_points=int(len(points)), scale=scale.tolist(), shift=shift.tolist()))
        if self.load_images:
            out["image"] = clip_preprocess(p["color"], self.image_size)
        if self._cache is not None:
            out["target"] = torch.from_numpy(self._cache.read(info["scene_id"], info["frame"], self.target_shape))
        return out


def concept_pairs_collate(batch: Sequence[dict]) -> dict:
    """-> {'inputs': {'points' (B, N, 3), ['images' (B, 3, S, S)], ['targets' (B, k, d)]},
    'data_samples': [meta, ...]}."""
    if len(batch) == 0:
        raise ValueError("concept_pairs_collate: empty batch")
    inputs = dict(points=torch.stack([it["points"] for it in batch]))
    for key, name in (("image", "images"), ("target", "targets")):
        if all(key in it for it in batch):
            inputs[name] = torch.stack([it[key] for it in batch])
    return dict(inputs=inputs, data_samples=[dict(it["meta"]) for it in batch])


FUNCTIONS.register_module(name="concept_pairs_collate", module=concept_pairs_collate, force=True)
