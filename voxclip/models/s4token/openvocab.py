"""Annotation-free inference with S4Token: open-vocabulary segmentation and zero-shot classification.

Point features: S4Tokenizer -> frozen CLIP ViT -> ln_post + projection (joint image-text space) ->
superpoint propagation (propagation.py) -> per-point unit features. Labels: argmax over classes of
cos(point feature, prompt-ensembled CLIP text embedding). Nothing is trained here: the tokenizer
comes from an S4TokenPretrainer checkpoint (``pretrained=dict(checkpoint=..., parts={'tokenizer':
'tokenizer.'})``), the CLIP ViT and text tower from the CLIP file.

The interface other methods can implement (Text4Point later): ``point_text_similarity(points,
feats, superpoint, prompts) -> (N, P)`` cosine similarities of every point to every prompt.

``task='classification'``: zero-shot classification of object clouds (ObjectClassification batches,
ClsMetric): the CLIP-projected class token of each cloud against the prompt-ensembled class
embeddings; ``predict`` returns per object ``pred_label``, ``logits`` (logit_scale x cosine) and
``gt_label`` as PointClassifier does. A lone object has no colour and no superpoint file: the
superpoints are computed on the bare cloud (``superpoint_source='compute'``) and ``fill_feats`` gives
the tokenizer's colour channels a constant (docs/s4token.md, "Zero-shot classification").
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from voxclip.models.classifiers.point_classifier import class_predictions
from voxclip.models.clip.prompts import build_text_encoder
from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.ops.superpoints import point_superpoints
from voxclip.registry import MODELS

from .propagation import propagate_features
from .text import DEFAULT_TEMPLATES, prompt_embeddings

__all__ = ["S4TokenOpenVocab"]


@MODELS.register_module()
class S4TokenOpenVocab(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer: S4Tokenizer config; encoder: FrozenPointViT config; text_encoder: CLIPTextEncoder
            config (same CLIP file). class_names: the vocabulary of ``predict`` (any names).
        templates: prompt templates. alpha: superpoint blend of the propagation (1 = superpoint mean).
        superpoint_source: 'data' (the sample's ``superpoint``, e.g. prepare_scannet's superpoint.npy)
            or 'compute' (point_superpoints on the fly, options ``superpoints``).
        feat_channels: (start, stop) of ``point_feats`` given to the tokenizer (colour).
        pretrained: PretrainedPartsMixin config (checkpoint of S4TokenPretrainer, parts tokenizer).
        task: 'segmentation' (per-point labels, SegMetric) or 'classification' (one label per cloud,
            ClsMetric). logit_scale: multiplies the classification cosine (CLIP's 100; argmax unchanged).
        fill_feats: when the data has no tokenizer features (feat_channels selects none, e.g. bare
            objects) the tokenizer's in_feat_channels get this constant (None: an error, as before).
    """

    DEFAULT_PARTS = {"tokenizer": "tokenizer."}

    def __init__(self, tokenizer: dict, encoder: dict, text_encoder: dict, class_names: Sequence[str] = (),
                 templates: Sequence[str] = DEFAULT_TEMPLATES, alpha: float = 1.0,
                 superpoint_source: str = "data", superpoints: Optional[dict] = None, feat_channels: tuple = (0, 3),
                 pretrained: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None, task: str = "segmentation", logit_scale: float = 100.0,
                 fill_feats: Optional[float] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if superpoint_source not in ("data", "compute"):
            raise ValueError(f"S4TokenOpenVocab: superpoint_source must be 'data' or 'compute', got {superpoint_source!r}")
        if task not in ("segmentation", "classification"):
            raise ValueError(f"S4TokenOpenVocab: task must be 'segmentation' or 'classification', got {task!r}")
        self.task, self.logit_scale = task, float(logit_scale)
        self.fill_feats = None if fill_feats is None else float(fill_feats)
        self.tokenizer = MODELS.build(dict(tokenizer, type=tokenizer.get("type", "S4Tokenizer")))
        self.encoder = MODELS.build(dict(encoder, type=encoder.get("type", "FrozenPointViT")))
        self.text_encoder = build_text_encoder(text_encoder)
        if self.text_encoder.embed_dim != self.encoder.embed_dim:
            raise ValueError(f"S4TokenOpenVocab: text embed_dim {self.text_encoder.embed_dim} != point embed_dim "
                             f"{self.encoder.embed_dim} (use the same CLIP)")
        self.class_names, self.templates = tuple(class_names), tuple(templates)
        self.alpha, self.superpoint_source = float(alpha), superpoint_source
        self.superpoint_cfg = {**dict(k=10, k_thresh=0.01, min_size=20, color_weight=0.5), **dict(superpoints or {})}
        self.feat_channels = tuple(int(c) for c in feat_channels)
        self._text_cache: dict = {}
        self._set_pretrained(pretrained)
        self._register_load_state_dict_pre_hook(self._from_pretrainer)

    # A pretrainer checkpoint (tools/test.py CONFIG CKPT) holds the student tokenizer next to parts
    # this model does not have; take the tokenizer and insist that all of it is there.
    _PRETRAINER_ONLY = ("teacher_tokenizer.", "teacher_head.", "head.", "rec_head.", "decoder.", "image_encoder.",
                        "ema_step")

    def _from_pretrainer(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                         error_msgs):
        if not any(k.startswith(prefix + "teacher_tokenizer.") for k in state_dict):
            return
        for key in [k for k in state_dict if k[len(prefix):].startswith(self._PRETRAINER_ONLY)]:
            del state_dict[key]
        own = self.tokenizer.state_dict()
        lost = [prefix + "tokenizer." + k for k in own if prefix + "tokenizer." + k not in state_dict]
        lost += [prefix + "tokenizer." + k for k, v in own.items()
                 if prefix + "tokenizer." + k in state_dict and state_dict[prefix + "tokenizer." + k].shape != v.shape]
        if lost:
            raise RuntimeError(f"S4TokenOpenVocab: the S4TokenPretrainer checkpoint lacks {len(lost)} tokenizer "
                               f"keys (first {lost[0]}): its tokenizer does not match this config")

    def set_class_names(self, names: Sequence[str]) -> None:
        """The vocabulary of ``predict`` (ClassNamesFromDataset sets the dataset's classes here)."""
        self.class_names = tuple(names)

    # ---- text ------------------------------------------------------------------------------------
    def text_embeddings(self, names: Sequence[str]) -> torch.Tensor:
        """(C, E) unit prompt-ensembled embeddings (cached per name list)."""
        key = tuple(names)
        if key not in self._text_cache:
            self._text_cache[key] = prompt_embeddings(self.text_encoder, key, self.templates)
        return self._text_cache[key]

    # ---- points ----------------------------------------------------------------------------------
    def _feats(self, point_feats: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        a, b = self.feat_channels
        return point_feats[:, a:b] if point_feats is not None and b > a else None

    def _token_feats(self, points: torch.Tensor, feats: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """The tokenizer's per-point features: ``feats``, or the ``fill_feats`` constant when there are none."""
        c = self.tokenizer.in_feat_channels
        if feats is None and c and self.fill_feats is not None:
            return points.new_full((points.shape[0], c), self.fill_feats)
        return feats

    def superpoints_of(self, points: torch.Tensor, feats: Optional[torch.Tensor],
                       superpoint: Optional[torch.Tensor]) -> torch.Tensor:
        if superpoint is not None and self.superpoint_source == "data":
            return superpoint.to(points.device).long()
        col = feats.detach().cpu().numpy() if feats is not None else None
        sp = point_superpoints(points.detach().cpu().numpy(), col, **self.superpoint_cfg)
        return torch.from_numpy(sp).to(points.device)

    @torch.no_grad()
    def point_features(self, points: torch.Tensor, feats: Optional[torch.Tensor] = None,
                       superpoint: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One cloud: points (N, 3), tokenizer feats (N, C) -> ((N, E) unit point features, (E,) unit
        global embedding from CLIP's class token)."""
        sp = self.superpoints_of(points, feats, superpoint)
        tok = self.tokenizer(points, None, self._token_feats(points, feats), sp)
        cls, h = self.encoder(tok.tokens + tok.pos)
        proj = self.encoder.project(h)[0]
        f = propagate_features(points, tok.centers[0], proj, sp, self.alpha, normalise=True)
        glob = self.encoder.project(cls)[0] if cls is not None else proj.mean(0)
        return F.normalize(f, dim=-1), F.normalize(glob, dim=-1)

    @torch.no_grad()
    def point_text_similarity(self, points: torch.Tensor, feats: Optional[torch.Tensor],
                              superpoint: Optional[torch.Tensor], prompts: Sequence[str]) -> torch.Tensor:
        """(N, P) cosine similarity of each point to each prompt (the query interface; tools/query.py).

        ``feats`` are the tokenizer's input features (colour), ``superpoint`` may be None."""
        f, _ = self.point_features(points, feats, superpoint)
        return f @ self.text_embeddings(prompts).to(f).t()

    @torch.no_grad()
    def global_embeddings(self, points: torch.Tensor, batch: torch.Tensor, feats: Optional[torch.Tensor] = None,
                          superpoints: Optional[Sequence[Optional[torch.Tensor]]] = None) -> torch.Tensor:
        """(B, E) unit global embeddings (CLIP's projected class token) of a batch of clouds in one
        tokenizer + ViT pass; superpoints: per cloud ids or None (then superpoints_of decides)."""
        bsz = int(batch.max()) + 1 if batch.numel() else 0
        sps = []
        for b in range(bsz):
            m = batch == b
            given = superpoints[b] if superpoints is not None else None
            sps.append(self.superpoints_of(points[m], feats[m] if feats is not None else None, given))
        sp = torch.empty(points.shape[0], dtype=torch.long, device=points.device)
        for b in range(bsz):
            sp[batch == b] = sps[b]
        tok = self.tokenizer(points, batch, self._token_feats(points, feats), sp, batch_size=bsz)
        cls, h = self.encoder(tok.tokens + tok.pos)
        glob = self.encoder.project(cls) if cls is not None else self.encoder.project(h).mean(1)
        return F.normalize(glob, dim=-1)

    @torch.no_grad()
    def classify(self, points: torch.Tensor, feats: Optional[torch.Tensor] = None,
                 class_names: Optional[Sequence[str]] = None, superpoint: Optional[torch.Tensor] = None
                 ) -> tuple[int, torch.Tensor]:
        """Zero-shot classification of one object cloud -> (class index, (C,) cosine scores)."""
        names = tuple(class_names or self.class_names)
        _, g = self.point_features(points, feats, superpoint)
        scores = self.text_embeddings(names).to(g) @ g
        return int(scores.argmax()), scores

    def _predict_classes(self, points, batch, feats, samples, mode):
        sps = [None if s.get("superpoint") is None else torch.as_tensor(s["superpoint"]) for s in samples]
        g = self.global_embeddings(points, batch, feats, sps)
        logits = self.logit_scale * g @ self.text_embeddings(self.class_names).to(g).t()
        if mode == "tensor":
            return logits
        return class_predictions(logits, samples)

    # ---- mmengine --------------------------------------------------------------------------------
    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "predict"):
        if mode == "loss":
            raise RuntimeError("S4TokenOpenVocab has nothing to train: run tools/test.py (annotation-free)")
        if mode not in ("predict", "tensor"):
            raise ValueError(f"S4TokenOpenVocab: unknown mode {mode!r} (predict, tensor)")
        if not self.class_names:
            raise ValueError("S4TokenOpenVocab: class_names is empty (set model.class_names, or add "
                             "custom_hooks=[dict(type='ClassNamesFromDataset')] to take the dataset's classes)")
        points, batch = inputs["points"], inputs["point_batch"]
        feats = self._feats(inputs.get("point_feats"))
        samples = data_samples or [{} for _ in range(int(batch.max()) + 1)]
        if self.task == "classification":
            return self._predict_classes(points, batch, feats, samples, mode)
        out = []
        for b, sample in enumerate(samples):
            m = batch == b
            sp = sample.get("superpoint")
            sim = self.point_text_similarity(points[m], feats[m] if feats is not None else None,
                                             None if sp is None else torch.as_tensor(sp), self.class_names)
            if mode == "tensor":
                out.append(sim)
                continue
            item = dict(pred_semantic=sim.argmax(1).cpu(), meta=sample.get("meta", {}))
            if "semantic" in sample:
                item["gt_semantic"] = torch.as_tensor(sample["semantic"]).reshape(-1).cpu()
            out.append(item)
        return out
