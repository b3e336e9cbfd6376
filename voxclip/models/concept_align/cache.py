"""On-disk cache of the teacher's targets, one file per 2D-3D pair.

Layout: ``<cache_dir>/meta.json`` (which teacher wrote it: its config and target shape) and
``<cache_dir>/<scene_id>/<frame:06d>.npy`` (float32 (k_cap, d_cap)). Every file is written
atomically (voxclip.utils.atomic), so an interrupted ``tools/cache_clipcap_prefixes.py`` leaves only
whole entries and a rerun continues where it stopped. The colour image is not augmented for the
teacher, so the target of a pair is fixed and can be cached.
"""
from __future__ import annotations

import json
import os

import numpy as np

from voxclip.utils.atomic import atomic_save_json, atomic_save_npy

__all__ = ["PrefixCache", "pair_key"]


def pair_key(scene_id: str, frame: int) -> str:
    return f"{scene_id}/{int(frame):06d}"


class PrefixCache:
    """Read / write teacher targets under ``root``. ``teacher`` (a JSON-able dict describing the
    teacher) is stored in meta.json on the first write and must match on every later open."""

    META = "meta.json"

    def __init__(self, root: str):
        self.root = str(root)

    def path(self, scene_id: str, frame: int) -> str:
        return os.path.join(self.root, scene_id, f"{int(frame):06d}.npy")

    def meta(self) -> dict | None:
        p = os.path.join(self.root, self.META)
        if not os.path.isfile(p):
            return None
        try:
            with open(p, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{p}: cannot read prefix-cache metadata ({type(exc).__name__}: {exc})") from exc

    def open_for_writing(self, teacher: dict, shape: tuple[int, int]) -> None:
        want = dict(teacher=teacher, shape=list(shape))
        have = self.meta()
        if have is None:
            atomic_save_json(os.path.join(self.root, self.META), want)
        elif have != json.loads(json.dumps(want)):
            raise ValueError(f"{os.path.join(self.root, self.META)}: cache was written by another teacher "
                             f"({have}); use a new cache folder or delete this one")

    def has(self, scene_id: str, frame: int) -> bool:
        return os.path.isfile(self.path(scene_id, frame))

    def write(self, scene_id: str, frame: int, target: np.ndarray) -> None:
        atomic_save_npy(self.path(scene_id, frame), np.ascontiguousarray(target, dtype=np.float32))

    def read(self, scene_id: str, frame: int, shape: tuple[int, int] | None = None) -> np.ndarray:
        p = self.path(scene_id, frame)
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"{p}: cannot read cached prefix ({type(exc).__name__}: {exc})") from exc
        if arr.dtype != np.float32 or arr.ndim != 2 or (shape is not None and tuple(arr.shape) != tuple(shape)):
            raise ValueError(f"{p}: cached prefix is {arr.dtype} {arr.shape}, expected float32 {shape or '(k, d)'}")
        return arr
