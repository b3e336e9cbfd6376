"""Scene-level data of the masked point models and of MMPD stage 1: ScanNet 2D-3D pairs as
(frame point cloud, colour view, depth view, text).

Built on RGBDPairs (same scenes, frames, augmentation, errors). Per frame:

- ``points`` (num_points, 3): the frame's voxel centres (augmented frame; ``voxel_size`` sets a
  uniform density), a random subset of ``num_points`` of them (with repeats when fewer);
- ``image`` / ``depth_image``: as RGBDPairs (colour normalised with CLIP's statistics; depth on the
  colour pixels, metres) -- the image teachers' colour or depth view;
- ``text``: one of the frame's captions when ``<data_root>/<pairs_dir>/<captions_file>`` (JSON
  ``{"<scene_id>/<frame:06d>": [str, ...]}``, e.g. BLIP-2 output made elsewhere) lists any, drawn
  at random each time; otherwise a class-name template of the frame's instance labels: the
  prepared scene's boxes (``<data_root>/scans/<scene>/boxes.npy``, ``box_labels.npy``) holding
  at least ``min_box_points`` of the frame's points, their class names listed in one sentence
  ("a point cloud of chair, table and sofa.") with a template drawn at random.
"""
from __future__ import annotations

import json
import os
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.registry import FUNCTIONS

from voxclip.classes import SCANNET_DET_CLASSES
from voxclip.registry import DATASETS

from .rgbd_pairs import RGBDPairs

__all__ = ["ScenePointPairs", "point_pairs_collate", "class_sentence", "DEFAULT_TEMPLATES"]

DEFAULT_TEMPLATES = ("a point cloud of {}.", "a 3D scan of {}.", "a room with {}.")


def _draw(rng, n: int) -> int:
    """A uniform index below n from np.random or a np.random.Generator."""
    return int(rng.integers(n)) if hasattr(rng, "integers") else int(rng.randint(n))


def class_sentence(names: Sequence[str], template: str, empty: str) -> str:
    """['chair', 'table', 'sofa'] -> template.format('chair, table and sofa'); [] -> empty."""
    names = list(names)
    if not names:
        return empty
    words = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return template.format(words)


@DATASETS.register_module()
class ScenePointPairs(RGBDPairs):
    """RGBDPairs frames as point clouds + views + text (module docstring).

    Args (besides RGBDPairs'): num_points: points per cloud. captions_file: name of the captions
        JSON in the pairs folder (missing = templates only). templates: class-name templates.
        empty_text: the text of a frame with no labelled box in view. min_box_points: points a box
        must hold to count as seen. class_names: the box label names (ScanNet's 18, spelt as words).
    """

    def __init__(self, data_root: str, num_points: int = 8192, captions_file: str = "captions.json",
                 templates: Sequence[str] = DEFAULT_TEMPLATES, empty_text: str = "a point cloud of an indoor room.",
                 min_box_points: int = 10, class_names: Optional[Sequence[str]] = None, **kwargs):
        self.num_points = int(num_points)
        self.templates = tuple(templates)
        self.empty_text, self.min_box_points = empty_text, int(min_box_points)
        self.class_names = tuple(class_names) if class_names is not None else tuple(
            {"showercurtrain": "shower curtain", "garbagebin": "garbage bin"}.get(c, c) for c in SCANNET_DET_CLASSES)
        kwargs.setdefault("min_points", 100)
        super().__init__(data_root, **kwargs)
        self.captions_path = os.path.join(self.data_root, self.pairs_dir, captions_file)
        self.captions = self._read_captions(self.captions_path)
        self._boxes: dict = {}

    @staticmethod
    def _read_captions(path: str) -> dict:
        if not os.path.isfile(path):
            return {}
        try:
            with open(path, encoding="utf-8") as f:
                caps = json.load(f)
            if not isinstance(caps, dict) or not all(
                    isinstance(v, list) and all(isinstance(s, str) for s in v) for v in caps.values()):
                raise ValueError("expected a JSON object {id: [str, ...]}")
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read captions ({type(exc).__name__}: {exc})") from exc
        return caps

    def _scene_boxes(self, scene_id: str) -> tuple[np.ndarray, np.ndarray]:
        if scene_id not in self._boxes:
            d = os.path.join(self.data_root, "scans", scene_id)
            paths = [os.path.join(d, n) for n in ("boxes.npy", "box_labels.npy")]
            for p in paths:
                if not os.path.isfile(p):
                    raise FileNotFoundError(
                        f"{p}: missing; class-template text needs the prepared scene next to the pairs "
                        f"(python tools/prepare_scannet.py RAW_ROOT {self.data_root}) or a caption in "
                        f"{self.captions_path}")
            boxes, labels = np.load(paths[0], allow_pickle=False), np.load(paths[1], allow_pickle=False)
            if boxes.ndim != 2 or boxes.shape[1] != 7 or len(labels) != len(boxes):
                raise ValueError(f"{paths[0]}: boxes {boxes.shape} / labels {labels.shape} malformed")
            self._boxes[scene_id] = (boxes.astype(np.float64), labels.astype(np.int64))
        return self._boxes[scene_id]

    def frame_classes(self, scene_id: str, points: np.ndarray) -> list[str]:
        """Class names of the scene's boxes holding >= min_box_points of ``points`` (scene frame),
        in box order, each once (ScanNet boxes are axis-aligned: yaw 0)."""
        boxes, labels = self._scene_boxes(scene_id)
        names = []
        for box, label in zip(boxes, labels):
            inside = np.all(np.abs(points - box[:3]) <= box[3:6] / 2, axis=1).sum()
            name = self.class_names[int(label)]
            if inside >= self.min_box_points and name not in names:
                names.append(name)
        return names

    def load_sample(self, info: dict) -> Optional[dict]:
        item = super().load_sample(info)
        if item is None:
            return None
        centres = item["voxel_centres"].numpy().astype(np.float64)
        rng = self.rng
        choice = rng.choice(len(centres), self.num_points, replace=len(centres) < self.num_points)
        key = f"{info['scene_id']}/{int(info['frame']):06d}"
        captions = self.captions.get(key)
        if captions:
            text = captions[_draw(rng, len(captions))]
        else:  # un-augment (p = A^-1 p') to test against the prepared scene's boxes
            lin = item["aug_matrix"].numpy()[:3, :3].astype(np.float64)
            names = self.frame_classes(info["scene_id"], centres @ np.linalg.inv(lin).T)
            template = self.templates[_draw(rng, len(self.templates))]
            text = class_sentence(names, template, self.empty_text)
        return dict(points=torch.from_numpy(centres[choice].astype(np.float32)), image=item["image"],
                    depth_image=item["depth_image"], text=text, meta=dict(item["meta"], text=text))


def point_pairs_collate(batch: Sequence[dict]) -> dict:
    """ScenePointPairs items -> {'inputs': dict(points (B, N, 3), images (B, 3, H, W),
    depth_image (B, H, W), texts [B str]), 'data_samples': [meta, ...]}."""
    if len(batch) == 0:
        raise ValueError("point_pairs_collate: empty batch")
    for key in ("points", "image"):
        shapes = {tuple(it[key].shape) for it in batch}
        if len(shapes) != 1:
            raise ValueError(f"point_pairs_collate: {key} sizes differ in one batch {sorted(shapes)} "
                             f"({[it['meta'].get('path') for it in batch]})")
    inputs = dict(points=torch.stack([it["points"] for it in batch]), images=torch.stack([it["image"] for it in batch]),
                  depth_image=torch.stack([it["depth_image"] for it in batch]), texts=[it["text"] for it in batch])
    return dict(inputs=inputs, data_samples=[dict(it["meta"]) for it in batch])


FUNCTIONS.register_module(name="point_pairs_collate", module=point_pairs_collate, force=True)
