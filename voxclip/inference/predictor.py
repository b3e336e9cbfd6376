"""A trained model from (config, checkpoint) run on one point cloud through the config's own test
pipeline, so features (colour normalisation, height, voxel size) are built as in training."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from mmengine.config import Config

MISSING_COLOUR = 128  # clouds without colour get mid grey (a warning says so)


def load_weights_file(path: str) -> dict:
    """The checkpoint dict, through the weights-only loader (voxclip.engine.checkpoint_io)."""
    from voxclip.engine.checkpoint_io import load_checkpoint_file

    return load_checkpoint_file(path, map_location="cpu")


def _find(node, key):
    if isinstance(node, dict):
        if key in node and node[key] != "from_dataset":
            return node[key]
        for value in node.values():
            found = _find(value, key)
            if found is not None:
                return found
    elif isinstance(node, (list, tuple)):
        for value in node:
            found = _find(value, key)
            if found is not None:
                return found
    return None


def _replace(node, key, value):
    if isinstance(node, dict):
        for k in list(node):
            if k == key and node[k] == "from_dataset":
                node[k] = value
            else:
                _replace(node[k], key, value)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _replace(v, key, value)


def _resolve_mean_sizes(cfg: Config, ckpt: dict, ckpt_path: str) -> None:
    """`mean_sizes='from_dataset'`: the values the checkpoint was trained with (its stored config),
    else the config's data_root index.json."""
    if _find(cfg.model, "mean_sizes") is not None or "from_dataset" not in str(cfg.model):
        return
    stored = (ckpt.get("meta") or {}).get("cfg")
    sizes = None
    if isinstance(stored, str):
        try:
            sizes = _find(Config.fromstring(stored, ".py").model.to_dict(), "mean_sizes")
        except Exception:  # an unparsable stored config: fall back to the data root
            sizes = None
    if sizes is None:
        from voxclip.engine.setup import _dataset_cfg, class_mean_sizes_from_index

        ds = _dataset_cfg(cfg.test_dataloader)
        try:
            sizes = class_mean_sizes_from_index(ds["data_root"], ds["class_names"])
        except FileNotFoundError as exc:
            raise ValueError(f"{ckpt_path}: no mean box sizes in the checkpoint's config and {exc}") from None
    _replace(cfg.model, "mean_sizes", sizes)


@dataclass
class Prediction:
    task: str  # 'detection' | 'segmentation'
    points: np.ndarray  # (N, 3) the points the model saw (after the test pipeline's sampling)
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 7), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    point_labels: np.ndarray | None = None  # segmentation: label of each of `points`


class Predictor:
    """Args: config path, checkpoint path, sparse backend ('auto' | 'torch' | 'spconv' | 'minkowski'),
    device ('cpu' | 'cuda'), cfg_options (dict merged into the config)."""

    def __init__(self, config: str, checkpoint: str, sparse_backend: str | None = None, device: str = "cpu",
                 cfg_options: dict | None = None):
        from voxclip.datasets.transforms import Compose
        from voxclip.engine.setup import import_all_modules
        from voxclip.registry import MODELS
        from voxclip.sparse import set_backend

        if not os.path.isfile(config):
            raise FileNotFoundError(f"{config}: config file not found")
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        import_all_modules()
        set_backend(sparse_backend or cfg.get("sparse_backend", "auto"))
        ckpt = load_weights_file(checkpoint)
        state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f"{checkpoint}: no state_dict in the checkpoint")
        _resolve_mean_sizes(cfg, ckpt, checkpoint)
        self.model = MODELS.build(cfg.model)
        state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
        result = self.model.load_state_dict(state, strict=False)
        if result.unexpected_keys or len(result.missing_keys) == len(self.model.state_dict()):
            raise ValueError(f"{checkpoint}: does not fit {cfg.model.type} from {config} "
                             f"({len(result.unexpected_keys)} unexpected keys, e.g. {result.unexpected_keys[:3]}, "
                             f"{len(result.missing_keys)} missing)")
        self.missing_keys = list(result.missing_keys)  # frozen CLIP towers are kept out of checkpoints
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        ds = cfg.test_dataloader.dataset
        while "dataset" in ds:
            ds = ds.dataset
        self.pipeline = Compose(list(ds.pipeline))
        self.test_seed = int(ds.get("test_seed", 0) or 0)
        self.class_names = tuple(ds.get("class_names") or ckpt.get("meta", {}).get("dataset_meta", {}).get("classes", ()))
        self.cfg = cfg

    @torch.no_grad()
    def __call__(self, points: np.ndarray, colors: np.ndarray | None, name: str = "input") -> Prediction:
        from voxclip.datasets.base import scene_rng
        from voxclip.datasets.transforms.base import use_sample_rng
        from voxclip.datasets.collate import sparse_collate

        n = len(points)
        if colors is None:
            colors = np.full((n, 3), MISSING_COLOUR, np.uint8)
        sample = dict(points=np.asarray(points, np.float32), colors=np.asarray(colors, np.uint8),
                      gt_boxes=np.zeros((0, 7), np.float32), gt_labels=np.zeros(0, np.int64),
                      meta=dict(scene_id=name))
        with use_sample_rng(scene_rng(self.test_seed, name)):  # one result per input
            item = self.pipeline(sample)
        batch = sparse_collate([item])
        out = self.model.test_step(batch)[0]
        seen = item["points"].numpy()
        if "pred_semantic" in out:
            return Prediction("segmentation", seen, point_labels=out["pred_semantic"].cpu().numpy())
        return Prediction("detection", seen, out["boxes"].cpu().numpy(), out["labels"].cpu().numpy(),
                          out["scores"].cpu().numpy())
