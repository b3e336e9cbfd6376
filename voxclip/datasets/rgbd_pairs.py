"""Text4Point pre-training data: ScanNet 2D-3D pairs (colour frame + its back-projected points).

Reads what `tools/extract_scannet_pairs.py` writes (data_prep/scannet/pairs.py):
``<data_root>/<pairs_dir>/<scene>/<frame:06d>.npz`` and ``<data_root>/<pairs_dir>/index.json``.
One sample = one frame.

Which scenes (first that applies):
  1. ``scenes=[...]``: an explicit list of scene ids;
  2. ``split_file=PATH``: a text file with one scene id per line (e.g. RAW/scannetv2_train.txt);
  3. ``split='train'``: ``<data_root>/splits/train.txt`` -- the list tools/prepare_scannet.py
     writes when the pairs share the prepared root (``extract_scannet_pairs.py RAW data/scannet``
     next to ``prepare_scannet.py RAW data/scannet``);
  4. ``split=None``: every scene of ``<pairs_dir>/index.json`` (train, val and test scans alike).
A listed scene without pairs in index.json is an error unless ``skip_missing_scenes=True``.

Geometry and augmentation. The points of a frame live in the axis-aligned scene frame. A random
similarity ``A = s * Rz(theta) * F`` (F: optional mirror of x and/or y; no translation) moves the
points, ``p' = A p``. The camera moves with them, so every projection is unchanged:

    pose' = A @ pose @ diag(1/s, 1/s, 1/s, 1)   (returned as ``pose``)

i.e. the rotation part ``Rz F R`` stays orthonormal (determinant -1 after an odd number of
mirrors, which the inverse ``R^T`` in voxclip's projection handles), the centre is ``A c``, and
camera-frame lengths are in *scaled* metres: a point's camera depth becomes ``s * z``. So the depth
frame to compare against is ``depth * depth_scale`` (``depth_scale = s``, returned separately; the
model applies it). The image is not geometrically augmented, so ``depth`` (metres) also serves as
the target of the 2D depth head; ``depth_image`` is that depth resampled onto the colour pixels.

Point features (``point_features``, concatenated in order, default ('color', 'height') -> C=4, the
input of the SR-UNet detection configs): 'color' = the colour image at the point's projected pixel
(nearest, after any colour jitter), normalised ``(rgb - color_mean) / color_std`` (VoteNet's
ScanNet recipe by default); 'height' = ``z' - percentile(z', 0.99)`` of the frame's augmented points
(HeightFeature's floor estimate); 'ones' = a constant 1. Voxel features average the points'.
"""
from __future__ import annotations

import json
import math
import os
import zipfile
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.registry import FUNCTIONS

from voxclip.ops.camera import project_points
from voxclip.registry import DATASETS
from voxclip.sparse import voxelize

from .samplers import SeededRefetch

# OpenAI CLIP's image normalisation (open_clip OPENAI_DATASET_MEAN / STD), on [0, 1] rgb.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_FEATURES = ("color", "height", "ones")
_KEYS = {  # key -> number of dimensions
    "color": 3, "depth": 2, "depth_shift": 0, "pose": 2, "color_intrinsic": 2,
    "depth_intrinsic": 2, "points": 2, "pixel": 1,
}


class PairFileError(ValueError):
    """A pair npz that is missing, unreadable or malformed; the message starts with its path."""


def load_pair_npz(path: str) -> dict:
    """Arrays of one pair, checked; raises PairFileError with a one-line message naming `path`."""
    if not os.path.isfile(path):
        raise PairFileError(f"{path}: pair file missing (re-run tools/extract_scannet_pairs.py)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise PairFileError(f"{path}: pair lacks {missing}")
            arrs = {k: z[k] for k in _KEYS}
    except PairFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        msg = " ".join(str(exc).split())
        raise PairFileError(f"{path}: cannot read pair ({type(exc).__name__}: {msg})") from exc
    for k, nd in _KEYS.items():
        if arrs[k].ndim != nd:
            raise PairFileError(f"{path}: {k} has shape {arrs[k].shape}, expected {nd} dims")
    c, pts = arrs["color"], arrs["points"]
    if c.shape[2] != 3 or c.dtype != np.uint8:
        raise PairFileError(f"{path}: color must be uint8 (H,W,3), got {c.dtype} {c.shape}")
    if arrs["pose"].shape != (4, 4) or not np.isfinite(arrs["pose"]).all():
        raise PairFileError(f"{path}: pose must be a finite 4x4, got {arrs['pose'].shape}")
    for k in ("color_intrinsic", "depth_intrinsic"):
        if arrs[k].shape != (3, 3):
            raise PairFileError(f"{path}: {k} must be 3x3, got {arrs[k].shape}")
    if pts.shape[1:] != (3,) or len(arrs["pixel"]) != len(pts):
        raise PairFileError(f"{path}: points {pts.shape} / pixel {arrs['pixel'].shape} mismatch")
    if not float(arrs["depth_shift"]) > 0:
        raise PairFileError(f"{path}: depth_shift must be positive, got {arrs['depth_shift']}")
    return arrs


def _rot_z(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def project(points: np.ndarray, camera_to_world: np.ndarray, intrinsic: np.ndarray):
    """World points (N,3) -> (u, v) float pixel coordinates (N,2) and camera depth (N,), float64
    numpy (voxclip.ops.project_points on the arrays)."""
    uv, z = project_points(*(torch.from_numpy(np.asarray(a, np.float64))
                             for a in (points, camera_to_world, intrinsic)))
    return uv.numpy(), z.numpy()


def depth_on_image(depth_m: np.ndarray, depth_k: np.ndarray, color_k: np.ndarray,
                   hw: tuple) -> np.ndarray:
    """Depth frame resampled onto the colour pixels (nearest; 0 where it has no value).

    Colour and depth cameras share the optical centre (ScanNet depth extrinsic = identity), so a
    colour pixel's ray ``Kc^-1 [u v 1]`` lands on depth pixel ``Kd Kc^-1 [u v 1]`` with the same z.
    """
    h, w = hw
    hd, wd = depth_m.shape
    vv, uu = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    ray = np.stack([uu, vv, np.ones_like(uu)], -1) @ np.linalg.inv(color_k.astype(np.float64)).T
    d = ray @ depth_k.astype(np.float64).T
    du = np.floor(d[..., 0] / d[..., 2] + 0.5).astype(np.int64)
    dv = np.floor(d[..., 1] / d[..., 2] + 0.5).astype(np.int64)
    ok = (du >= 0) & (du < wd) & (dv >= 0) & (dv < hd)
    out = np.zeros((h, w), np.float32)
    out[ok] = depth_m[dv[ok], du[ok]]
    return out


@DATASETS.register_module()
class RGBDPairs(SeededRefetch, BaseDataset):
    """ScanNet 2D-3D pairs for Text4Point pre-training (module docstring: layout, geometry).

    Args:
        data_root: folder holding ``pairs_dir`` (the OUT_ROOT of extract_scannet_pairs.py).
        split / split_file / scenes: which scenes (module docstring, in that order of precedence:
            scenes, split_file, split; ``split=None`` = every scene in index.json).
        pairs_dir: sub-folder of the pairs (default 'pairs').
        skip_missing_scenes: drop listed scenes that have no pairs instead of raising.
        voxel_size: metres.
        rotate_z: degrees; a scalar r draws theta in [-r, r], a pair is (low, high). 0 = off.
        flip_x, flip_y: probabilities of mirroring x (resp. y).
        scale_range: (low, high) uniform scale, None = off.
        color_jitter: brightness/contrast jitter strength on the colour image (0 = off; the image
            and the point colours sampled from it see the same jitter).
        point_features: ('color', 'height', 'ones') subset, in order.
        color_mean, color_std: point colour normalisation (on 0-255 rgb).
        image_mean, image_std: image normalisation on [0, 1] rgb (CLIP's by default).
        max_points: random subset of a frame's points before voxelisation (None = all).
        min_points: frames with fewer points are rejected (mmengine then refetches another frame
            in training; in test_mode it is an error).
        test_mode, indices, serialize_data, lazy_init, max_refetch: as mmengine's BaseDataset.
    Item (dict of tensors): ``image`` float32 (3,H,W); ``depth`` float32 (Hd,Wd) metres (0 =
        invalid); ``depth_image`` float32 (H,W) depth on the colour pixels; ``depth_scale``
        float32 (); ``pose`` float32 (4,4) augmented camera-to-world; ``aug_matrix`` float32
        (4,4) = A; ``color_intrinsic``, ``depth_intrinsic`` float32 (3,3); ``voxel_coords`` int32
        (V,3) = floor(p'/voxel_size); ``voxel_feats`` float32 (V,C); ``voxel_centres`` float32
        (V,3) = (coords + 0.5) * voxel_size (augmented world frame); ``meta`` dict (scene_id,
        frame, path, voxel_size, num_points, aug).
    """

    def __init__(self, data_root: str, split: Optional[str] = "train", split_file: Optional[str] = None,
                 scenes: Optional[Sequence[str]] = None, pairs_dir: str = "pairs",
                 skip_missing_scenes: bool = False, voxel_size: float = 0.025,
                 rotate_z: float | Sequence[float] = 0.0, flip_x: float = 0.0, flip_y: float = 0.0,
                 scale_range: Optional[Sequence[float]] = None, color_jitter: float = 0.0,
                 point_features: Sequence[str] = ("color", "height"),
                 color_mean: Sequence[float] = (109.8, 97.2, 83.8), color_std: float | Sequence[float] = 256.0,
                 image_mean: Sequence[float] = CLIP_MEAN, image_std: Sequence[float] = CLIP_STD,
                 max_points: Optional[int] = None, min_points: int = 100, test_mode: bool = False,
                 indices=None, serialize_data: bool = True, lazy_init: bool = False, max_refetch: int = 1000,
                 rng: Optional[np.random.Generator] = None):
        if data_root is None or str(data_root) == "":
            raise ValueError("RGBDPairs: data_root must be given")
        if not float(voxel_size) > 0:
            raise ValueError(f"RGBDPairs: voxel_size must be positive, got {voxel_size}")
        bad = [f for f in point_features if f not in _FEATURES]
        if bad or not point_features:
            raise ValueError(f"RGBDPairs: point_features must be a non-empty subset of {_FEATURES}, got "
                             f"{list(point_features)}")
        for name, p in (("flip_x", flip_x), ("flip_y", flip_y)):
            if not 0.0 <= float(p) <= 1.0:
                raise ValueError(f"RGBDPairs: {name} must be in [0, 1], got {p}")
        self.split, self.split_file = split, split_file
        self.scene_list = list(scenes) if scenes is not None else None
        self.pairs_dir, self.skip_missing_scenes = pairs_dir, bool(skip_missing_scenes)
        self.voxel_size = float(voxel_size)
        if np.isscalar(rotate_z):
            self.rotate_z = (-float(rotate_z), float(rotate_z))
        else:
            self.rotate_z = tuple(float(v) for v in rotate_z)
        self.flip_x, self.flip_y = float(flip_x), float(flip_y)
        self.scale_range = None if scale_range is None else tuple(float(v) for v in scale_range)
        if self.scale_range is not None and not 0 < self.scale_range[0] <= self.scale_range[1]:
            raise ValueError(f"RGBDPairs: scale_range must be 0 < low <= high, got {scale_range}")
        self.color_jitter = float(color_jitter)
        self.point_features = tuple(point_features)
        self.color_mean = np.broadcast_to(np.asarray(color_mean, np.float32), (3,)).copy()
        self.color_std = np.broadcast_to(np.asarray(color_std, np.float32), (3,)).copy()
        self.image_mean = np.asarray(image_mean, np.float32).reshape(3, 1, 1)
        self.image_std = np.asarray(image_std, np.float32).reshape(3, 1, 1)
        self.max_points = None if max_points is None else int(max_points)
        self.min_points = int(min_points)
        self._rng = rng
        super().__init__(ann_file="", metainfo=dict(classes=()), data_root=str(data_root), data_prefix={},
                         pipeline=[], test_mode=test_mode, indices=indices, serialize_data=serialize_data,
                         lazy_init=lazy_init, max_refetch=max_refetch)

    @property
    def num_point_features(self) -> int:
        return sum(3 if f == "color" else 1 for f in self.point_features)

    @property
    def rng(self):
        from .transforms.base import current_rng  # the sample's generator (docs/reliability.md)

        return self._rng if self._rng is not None else current_rng()

    # ---- index -----------------------------------------------------------------------------
    def _read_list(self, path: str) -> list[str]:
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: scene list missing (give split_file=, scenes=[...], or split=None for every "
                f"scene with pairs)")
        from voxclip.utils.idlist import read_id_list

        ids = read_id_list(path)
        if not ids:
            raise ValueError(f"{path}: lists no scenes")
        return ids

    def load_data_list(self) -> list[dict]:
        root = os.path.join(self.data_root, self.pairs_dir)
        index_path = os.path.join(root, "index.json")
        hint = " (create it with: python tools/extract_scannet_pairs.py RAW_ROOT " f"{self.data_root})"
        if not os.path.isfile(index_path):
            raise FileNotFoundError(f"{index_path}: pairs index missing{hint}")
        try:
            with open(index_path, encoding="utf-8") as f:
                index = json.load(f)
            available = {sid: [int(x) for x in info["frames"]] for sid, info in index["scenes"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{index_path}: cannot read pairs index ({type(exc).__name__}: {exc})") from exc
        if self.scene_list is not None:
            wanted, source = self.scene_list, "scenes"
        elif self.split_file is not None:
            wanted, source = self._read_list(str(self.split_file)), str(self.split_file)
        elif self.split is not None:
            source = os.path.join(self.data_root, "splits", f"{self.split}.txt")
            wanted = self._read_list(source)
        else:
            wanted, source = sorted(available), index_path
        missing = [s for s in wanted if s not in available]
        if missing and not self.skip_missing_scenes:
            raise FileNotFoundError(f"{source}: {len(missing)} scene(s) have no pairs in {index_path}, first "
                                    f"{missing[0]} (extract them, or set skip_missing_scenes=True){hint}")
        infos = []
        for sid in wanted:
            for frame in available.get(sid, ()):
                infos.append(dict(scene_id=sid, frame=frame, path=os.path.join(root, sid, f"{frame:06d}.npz")))
        if not infos:
            raise ValueError(f"{source}: no pairs for the {len(wanted)} selected scene(s) in {index_path}")
        return infos

    # ---- one frame -------------------------------------------------------------------------
    def _draw_aug(self) -> tuple[np.ndarray, float, dict]:
        """(A 3x3 linear part, scale s, record). Always draws every number (stable RNG stream)."""
        rng = self.rng
        theta = math.radians(rng.uniform(*self.rotate_z))
        fx, fy = bool(rng.random() < self.flip_x), bool(rng.random() < self.flip_y)
        s = float(rng.uniform(*(self.scale_range or (1.0, 1.0))))
        f = np.diag([-1.0 if fx else 1.0, -1.0 if fy else 1.0, 1.0])
        rot = _rot_z(theta) @ f
        return rot, s, dict(theta=theta, flip_x=fx, flip_y=fy, scale=s)

    def _jitter(self, color: np.ndarray) -> np.ndarray:
        if self.color_jitter <= 0:
            return color
        rng = self.rng
        j = self.color_jitter
        bright = rng.uniform(1 - j, 1 + j)
        contrast = rng.uniform(1 - j, 1 + j)
        c = color.astype(np.float32) * bright
        c = (c - c.mean()) * contrast + c.mean()
        return np.clip(np.round(c), 0, 255).astype(np.uint8)

    def load_sample(self, info: dict) -> Optional[dict]:
        path = info["path"]
        p = load_pair_npz(path)
        color = self._jitter(p["color"])
        h, w = color.shape[:2]
        pose = p["pose"].astype(np.float64)
        ck, dk = p["color_intrinsic"].astype(np.float64), p["depth_intrinsic"].astype(np.float64)
        depth = p["depth"].astype(np.float32) / np.float32(p["depth_shift"])
        points = p["points"].astype(np.float64)
        if not np.isfinite(points).all():
            raise PairFileError(f"{path}: non-finite points")
        if self.max_points is not None and len(points) > self.max_points:
            points = points[np.sort(self.rng.choice(len(points), self.max_points, replace=False))]
        if len(points) < self.min_points:
            if self.test_mode:
                raise PairFileError(f"{path}: {len(points)} points, fewer than min_points={self.min_points}")
            return None
        rot, s, record = self._draw_aug()
        lin = s * rot
        points_aug = points @ lin.T
        pose_aug = np.eye(4)
        pose_aug[:3, :3] = rot @ pose[:3, :3]
        pose_aug[:3, 3] = lin @ pose[:3, 3]
        aug = np.eye(4)
        aug[:3, :3] = lin
        feats = []
        for name in self.point_features:
            if name == "color":  # the pixel each point was seen at (original pose: same pixel)
                uv, _ = project(points, pose, ck)
                iu = np.clip(np.floor(uv[:, 0] + 0.5), 0, w - 1).astype(np.int64)
                iv = np.clip(np.floor(uv[:, 1] + 0.5), 0, h - 1).astype(np.int64)
                feats.append((color[iv, iu].astype(np.float32) - self.color_mean) / self.color_std)
            elif name == "height":
                z = points_aug[:, 2]
                feats.append((z - np.percentile(z, 0.99))[:, None])
            else:
                feats.append(np.ones((len(points), 1), np.float32))
        point_feats = np.concatenate(feats, axis=1).astype(np.float32)

        voxels, _ = voxelize(torch.from_numpy(points_aug), self.voxel_size, torch.from_numpy(point_feats))
        coords = voxels.coords[:, 1:].numpy().astype(np.int64)
        image = (color.astype(np.float32).transpose(2, 0, 1) / 255.0 - self.image_mean) / self.image_std
        t = torch.from_numpy
        return dict(
            image=t(np.ascontiguousarray(image, np.float32)),
            depth=t(np.ascontiguousarray(depth)),
            depth_image=t(depth_on_image(depth, dk, ck, (h, w))),
            depth_scale=torch.tensor(s, dtype=torch.float32),
            pose=t(pose_aug.astype(np.float32)),
            aug_matrix=t(aug.astype(np.float32)),
            color_intrinsic=t(ck.astype(np.float32)),
            depth_intrinsic=t(dk.astype(np.float32)),
            voxel_coords=t(coords.astype(np.int32)),
            voxel_feats=voxels.feats,
            voxel_centres=t(((coords + 0.5) * self.voxel_size).astype(np.float32)),
            meta=dict(scene_id=info["scene_id"], frame=info["frame"], path=path, voxel_size=self.voxel_size,
                      num_points=int(len(points)), aug=record),
        )

    def prepare_data(self, idx: int):
        from .samplers import generator_for_index
        from .transforms.base import use_sample_rng

        with use_sample_rng(generator_for_index(idx)):  # docs/reliability.md
            return self.load_sample(self.get_data_info(int(idx)))


_STACK = ("image", "depth", "depth_image", "depth_scale", "pose", "aug_matrix", "color_intrinsic",
          "depth_intrinsic")


def rgbd_pairs_collate(batch: Sequence[dict]) -> dict:
    """RGBDPairs items -> {'inputs': {...}, 'data_samples': [meta, ...]}.

    inputs: ``coords`` int32 (V_total,4) rows (batch, x, y, z); ``feats`` (V_total,C);
    ``centres`` float32 (V_total,3) voxel centres (augmented world); ``images`` (B,3,H,W);
    ``depth`` (B,Hd,Wd) metres; ``depth_image`` (B,H,W); ``depth_scale`` (B,); ``pose``,
    ``aug_matrix`` (B,4,4); ``color_intrinsic``, ``depth_intrinsic`` (B,3,3); ``voxel_size`` ().
    """
    if len(batch) == 0:
        raise ValueError("rgbd_pairs_collate: empty batch")
    sizes = {float(it["meta"]["voxel_size"]) for it in batch}
    if len(sizes) != 1:
        raise ValueError(f"rgbd_pairs_collate: items need one voxel_size, got {sorted(sizes)}")
    for key in ("image", "depth"):
        shapes = {tuple(it[key].shape) for it in batch}
        if len(shapes) != 1:
            paths = [it["meta"].get("path") for it in batch]
            raise ValueError(f"rgbd_pairs_collate: {key} sizes differ in one batch {sorted(shapes)} ({paths})")
    coords = [torch.cat([torch.full((len(it["voxel_coords"]), 1), b, dtype=torch.int32),
                         it["voxel_coords"].to(torch.int32)], 1) for b, it in enumerate(batch)]
    inputs = dict(coords=torch.cat(coords), feats=torch.cat([it["voxel_feats"] for it in batch]),
                  centres=torch.cat([it["voxel_centres"] for it in batch]))
    for key in _STACK:
        inputs["images" if key == "image" else key] = torch.stack([it[key] for it in batch])
    inputs["voxel_size"] = torch.tensor(sizes.pop(), dtype=torch.float32)
    return dict(inputs=inputs, data_samples=[dict(it["meta"]) for it in batch])


FUNCTIONS.register_module(name="rgbd_pairs_collate", module=rgbd_pairs_collate, force=True)
