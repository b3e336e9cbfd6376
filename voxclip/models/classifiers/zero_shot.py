"""Zero-shot object classification: cosine similarity between a point embedding and the CLIP text
embeddings of class-name prompts (PointCLIP / ULIP / S4Token protocol).

text embedding of class k = normalise(mean over templates t of normalise(CLIP_text(t.format(k)))),
CLIP's prompt ensembling; point embedding = normalise(text_proj([global_proj](pool(encoder(tokens)))));
logits = logit_scale * cosine. ``tokenizer``, ``encoder``, ``global_proj`` (when projection_hidden is
set) and ``text_proj`` come from the pretraining checkpoint (``pretrained=dict(checkpoint=...,
parts={...})``, e.g. masked point distillation stage 1: global_proj <- 'global_head.proj.', text_proj
<- 'heads.text.'); nothing trains here.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from voxclip.datasets.objects.captions import DEFAULT_TEMPLATES
from voxclip.models.clip.prompts import build_text_encoder
from voxclip.registry import MODELS

from .point_classifier import PointClassifier

__all__ = ["ZeroShotClassifier", "class_text_embeddings"]


@torch.no_grad()
def class_text_embeddings(text_encoder, class_names: Sequence[str], templates: Sequence[str]) -> torch.Tensor:
    """(K, D) unit-norm class embeddings averaged over templates (CLIP's prompt ensembling: each
    prompt's embedding normalised, the mean normalised again). '_' in a name reads as a space; a
    template without '{}' is put before the name ('template name')."""
    rows = []
    for name in class_names:
        word = name.replace("_", " ")
        texts = [t.format(word) if "{}" in t else f"{t} {word}" for t in templates]
        emb = F.normalize(text_encoder.encode_texts(texts), dim=-1)
        rows.append(F.normalize(emb.mean(0), dim=-1))
    return torch.stack(rows)


@MODELS.register_module()
class ZeroShotClassifier(PointClassifier):
    """Args:
        tokenizer, encoder, pooling: the point student (as PointClassifier).
        text_encoder: CLIPTextEncoder config (or instance).
        class_names: names of the evaluation classes. templates: prompt templates with one '{}'.
        embed_dim: projection output = the CLIP embedding width (default: the text encoder's).
        projection_hidden: width of a first linear map (global_proj) before text_proj; None: one map.
        logit_scale: multiplies the cosine (100, CLIP's trained value); argmax does not depend on it.
    """

    DEFAULT_PARTS = {"tokenizer": "tokenizer.", "encoder": "encoder.", "text_proj": "text_proj."}

    def __init__(self, tokenizer: dict, encoder: dict, text_encoder, class_names: Sequence[str],
                 templates: Sequence[str] = DEFAULT_TEMPLATES, pooling: Sequence[str] = ("cls", "max"),
                 embed_dim: int | None = None, projection_hidden: int | None = None, logit_scale: float = 100.0,
                 **kwargs):
        super().__init__(tokenizer=tokenizer, encoder=encoder, num_classes=len(class_names), pooling=pooling,
                         head_hidden=(), head_dropout=0.0, **kwargs)
        text = build_text_encoder(text_encoder)
        dim = int(embed_dim or text.embed_dim)
        self.head = None  # no trained classifier: the text embeddings are the classifier
        pooled = self.tokenizer.embed_dim * len(self.pooling)
        self.global_proj = nn.Linear(pooled, projection_hidden) if projection_hidden else None
        self.text_proj = nn.Linear(projection_hidden or pooled, dim)
        self.class_names, self.templates, self.logit_scale = tuple(class_names), tuple(templates), float(logit_scale)
        emb = class_text_embeddings(text, self.class_names, self.templates)
        if emb.shape[1] != dim:
            raise ValueError(f"ZeroShotClassifier: text embeddings are {emb.shape[1]} wide, projection gives {dim}")
        self.register_buffer("text_embeddings", emb.detach().clone(), persistent=False)
        # evaluation-only: tools/test.py never calls init_weights, and its CHECKPOINT (the pretraining
        # file) names the projections differently, so the parts are loaded here, at construction
        self.load_pretrained_parts()

    def point_embeddings(self, points: torch.Tensor, feats: torch.Tensor | None = None) -> torch.Tensor:
        tok = self.tokenizer(points, feats=feats)
        x = self.pool(self.encode(tok))
        x = self.global_proj(x) if self.global_proj is not None else x
        return F.normalize(self.text_proj(x), dim=-1)

    def logits_dense(self, points: torch.Tensor, feats: torch.Tensor | None = None) -> torch.Tensor:
        return self.logit_scale * self.point_embeddings(points, feats) @ self.text_embeddings.t()

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "predict"):
        if mode == "loss":
            raise ValueError("ZeroShotClassifier is evaluation-only (tools/test.py); it has no training loss")
        return super().forward(inputs, data_samples, mode)
