"""Text4Point fine-tuning glue shared by the detector and the segmentor (paper Sec. 3.4, App. B).

- Language-guided prediction: a ``Text4PointSRUNet`` backbone is called with the K' class
  embeddings of the downstream task from a text source (``PromptLearner`` / ``FixedPrompts`` of
  ``voxclip.models.clip``: ``text()`` -> (K', d), attributes ``embed_dim``, ``class_names``).
- Auxiliary loss (Eq. 15-16): cosine scores between the expanded encoder features ĥ3D (rows of
  the stride-16 bottleneck) and the text embeddings, cross-entropy at temperature tau against a
  pseudo label per bottleneck voxel: the mode of the labels of the input points in its
  neighbourhood (``neighbour_mode_labels``); voxels without labelled neighbours are skipped.
  Neighbourhood (our choice; the paper says "within a certain range"): by default the voxel's own
  cube, i.e. centre ``(c + s/2) * voxel_size`` and Chebyshev radius ``s/2 * voxel_size`` with
  ``s`` the bottleneck stride -- exactly the input points that were pooled into that voxel.
  ``radius`` (metres) and ``p`` (2 = ball, inf = cube) override it.
- Pretrained initialisation: ``backbone=dict(..., init_cfg=dict(type='Pretrained',
  checkpoint=PATH, prefix='backbone.', producer=CONFIG))`` is taken off the backbone config and
  applied in ``init_weights()`` (the Runner calls it at the start of training, before
  ``load_from``/resume), so the backbone gets the pretraining model's ``backbone.*`` weights.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from voxclip.registry import MODELS
from voxclip.sparse import SparseTensor

from voxclip.models.pretrained import load_pretrained_backbone  # noqa: F401  (re-exported)

from .backbone import Text4PointSRUNet
from .losses import neighbour_mode_labels, text_auxiliary_loss

_AUX_DEFAULTS = dict(weight=1.0, tau=0.07, radius=None, p=math.inf, label_key="semantic")


def bottleneck_pseudo_labels(bottleneck: SparseTensor, points: torch.Tensor, point_batch: torch.Tensor,
                             point_labels: torch.Tensor, voxel_size: float, num_classes: int,
                             radius: Optional[float] = None, p: float = math.inf) -> torch.Tensor:
    """Pseudo label (M,) int64 of each bottleneck voxel (-1: no labelled neighbour), on the bottleneck's
    device. ``points`` (N,3) metres, ``point_batch`` (N,), ``point_labels`` (N,) with -1 = none."""
    stride = int(bottleneck.stride)
    coords = bottleneck.coords.detach().cpu().numpy().astype(np.int64)
    centres = (coords[:, 1:] + stride / 2.0) * float(voxel_size)
    r = float(radius) if radius is not None else stride * float(voxel_size) / 2.0
    pts = points.detach().cpu().numpy().astype(np.float64)
    pb = point_batch.detach().cpu().numpy()
    lab = point_labels.detach().cpu().numpy().astype(np.int64)
    if len(lab) and (lab.max() >= num_classes or lab.min() < -1):
        raise ValueError(f"point labels must lie in [-1, {num_classes}), got [{lab.min()}, {lab.max()}]")
    out = np.full(len(coords), -1, np.int64)
    for b in np.unique(coords[:, 0]):
        rows, sel = coords[:, 0] == b, pb == b
        out[rows] = neighbour_mode_labels(centres[rows], pts[sel], lab[sel], r, num_classes, p=p)
    return torch.from_numpy(out).to(bottleneck.feats.device)


class Text4PointGuidedMixin:
    """Backbone + optional text source + auxiliary loss + pretrained backbone init.

    Use in an mmengine BaseModel before it in the bases: ``class M(Text4PointGuidedMixin,
    BaseModel)``; call ``_build_guided_backbone`` in ``__init__``, ``_backbone_features`` in forward and
    ``_text_aux_losses`` in 'loss' mode.
    """

    def _build_guided_backbone(self, backbone: dict, text: Optional[dict], aux_loss: Optional[dict]) -> None:
        cfg = dict(backbone)
        self._backbone_init_cfg = cfg.pop("init_cfg", None)
        if self._backbone_init_cfg is not None and self._backbone_init_cfg.get("type", "Pretrained") != "Pretrained":
            raise ValueError(f"backbone init_cfg: only type='Pretrained' is supported, got {self._backbone_init_cfg}")
        self.backbone = MODELS.build(cfg)
        guided = isinstance(self.backbone, Text4PointSRUNet)
        name = type(self).__name__
        if guided and text is None:
            raise ValueError(f"{name}: a Text4PointSRUNet backbone needs `text` (e.g. dict(type='PromptLearner', ...))")
        if text is not None and not guided:
            raise ValueError(f"{name}: `text` needs a Text4PointSRUNet backbone, got {type(self.backbone).__name__}")
        if aux_loss is not None and text is None:
            raise ValueError(f"{name}: `aux_loss` needs `text` and a Text4PointSRUNet backbone")
        self.text = MODELS.build(text) if text is not None else None
        if self.text is not None and int(self.text.embed_dim) != int(self.backbone.embed_dim):
            raise ValueError(f"{name}: text embed_dim {self.text.embed_dim} != backbone embed_dim "
                             f"{self.backbone.embed_dim}")
        self.aux_cfg = None
        if aux_loss is not None:
            unknown = set(aux_loss) - set(_AUX_DEFAULTS)
            if unknown:
                raise ValueError(f"{name}: unknown aux_loss keys {sorted(unknown)} (have {sorted(_AUX_DEFAULTS)})")
            self.aux_cfg = {**_AUX_DEFAULTS, **aux_loss}

    @property
    def text_class_names(self) -> Sequence[str]:
        return tuple(self.text.class_names) if self.text is not None else ()

    def _backbone_features(self, inputs: dict, required: Sequence[str] = ("feats", "coords", "inverse")):
        """Batch of sparse_collate -> (voxel features (V, C) on the input voxels, backbone output,
        text embeddings (K', d) or None)."""
        for key in required:
            if key not in inputs:
                raise KeyError(f"{type(self).__name__}: batch inputs lack '{key}' (see docs/architecture.md)")
        x = SparseTensor(inputs["feats"], inputs["coords"])
        if self.text is None:
            out, text = self.backbone(x), None
        else:
            text = self.text()
            out = self.backbone(x, text.to(x.feats.dtype))
        feats = out.features if hasattr(out, "features") else out
        voxel_feats = feats.feats if isinstance(feats, SparseTensor) else feats
        if voxel_feats.shape[0] != x.coords.shape[0]:
            raise ValueError(f"backbone returned {voxel_feats.shape[0]} rows for {x.coords.shape[0]} input voxels")
        return voxel_feats, out, text

    def _text_aux_losses(self, out, text: Optional[torch.Tensor], inputs: dict,
                         data_samples: Sequence[dict]) -> dict:
        """{'loss_text_aux': weight * Eq. 16} when aux_loss is configured, else {}."""
        if self.aux_cfg is None or text is None:
            return {}
        key = self.aux_cfg["label_key"]
        missing = [i for i, s in enumerate(data_samples) if key not in s]
        if missing:
            raise KeyError(f"{type(self).__name__}: aux_loss needs per-point labels '{key}' in every data sample "
                           f"(samples {missing[:5]} lack it; add PointLabelsFromInstances / PointLabelsFromBoxes "
                           f"to the pipeline, or load `semantic` for segmentation)")
        labels = torch.cat([torch.as_tensor(s[key]).reshape(-1) for s in data_samples])
        if len(labels) != len(inputs["points"]):
            raise ValueError(f"{len(labels)} per-point labels for {len(inputs['points'])} points")
        pseudo = bottleneck_pseudo_labels(out.bottleneck, inputs["points"], inputs["point_batch"], labels,
                                          float(inputs["voxel_size"]), len(text), self.aux_cfg["radius"],
                                          self.aux_cfg["p"])
        loss = text_auxiliary_loss(out.expanded, text, pseudo, tau=self.aux_cfg["tau"])
        return {"loss_text_aux": loss * float(self.aux_cfg["weight"])}

    def init_weights(self) -> None:
        super().init_weights()  # type: ignore[misc]
        cfg = getattr(self, "_backbone_init_cfg", None)
        if cfg is not None:
            load_pretrained_backbone(self.backbone, cfg["checkpoint"], cfg.get("prefix", "backbone."),
                                     cfg.get("producer"), cfg.get("map_location", "cpu"), cfg.get("strict", True))
