"""Object classifier on the shared point tokenizer + transformer (Point-MAE's fine-tuning model).

tokens = [class token + class pos ; point tokens + pos] -> PointTransformerEncoder -> pooled feature
(class token, max and/or mean over the point tokens, concatenated) -> MLP head. Point-MAE's head:
Linear(2D, 256)-BN-ReLU-Dropout(0.5)-Linear(256, 256)-BN-ReLU-Dropout(0.5)-Linear(256, K) on
[class token, max]; loss plain cross-entropy. ``tokenizer`` and ``encoder`` take their weights from a
pretraining checkpoint through ``pretrained=dict(checkpoint=...)`` (voxclip/models/pretrained.py).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.models.tokenizers import PointTokenizer, split_by_batch  # noqa: F401  (registers)
from voxclip.models.transformers import PointTransformerEncoder  # noqa: F401
from voxclip.registry import MODELS

from .voting import vote_logits

__all__ = ["PointClassifier", "ClsHead", "POOLINGS", "class_predictions"]

POOLINGS = ("cls", "max", "mean")


class ClsHead(nn.Sequential):
    """MLP: per hidden width Linear-BN-ReLU-Dropout, then Linear to the classes."""

    def __init__(self, in_dim: int, num_classes: int, hidden: Sequence[int] = (256, 256), dropout: float = 0.5):
        layers, d = [], in_dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, num_classes))
        super().__init__(*layers)


@MODELS.register_module()
class PointClassifier(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer: PointTokenizer config (Point-MAE ModelNet40: 64 groups of 32, 384 wide).
        encoder: PointTransformerEncoder config (12 x 384, 6 heads, drop path 0.1).
        num_classes: K.
        pooling: names from POOLINGS, concatenated in order (Point-MAE: ('cls', 'max')).
        head_hidden, head_dropout: the MLP head.
        label_smoothing: cross-entropy smoothing (Point-MAE 0; Point-BERT's code 0.2).
        use_point_feats: feed inputs['point_feats'] to the tokenizer (normals).
        cls_token: prepend a learned class token (+ class pos); False for students pretrained without
            one (pooling then uses 'max' / 'mean' only).
        test_cfg: dict(votes=1, num_points=None, scale_range=(2/3, 3/2), translate_range=0.2, seed=0):
            votes > 1 averages logits over augmented copies (voting.py).
        pretrained: dict(checkpoint, parts, producer): tokenizer/encoder of a pretraining checkpoint.
    forward(mode='loss') -> dict(loss_cls, acc); 'predict' -> per-sample dicts pred_label, logits,
    gt_label, sample_id; 'tensor' -> (B, K) logits.
    """

    def __init__(self, tokenizer: dict, encoder: dict | None, num_classes: int,
                 pooling: Sequence[str] = ("cls", "max"), head_hidden: Sequence[int] = (256, 256),
                 head_dropout: float = 0.5, label_smoothing: float = 0.0, use_point_feats: bool = False,
                 cls_token: bool = True, test_cfg: dict | None = None, pretrained: dict | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._set_pretrained(pretrained)
        bad = [p for p in pooling if p not in POOLINGS]
        if not pooling or bad or (not cls_token and "cls" in pooling):
            raise ValueError(f"{type(self).__name__}: pooling must be names from {POOLINGS} ('cls' needs "
                             f"cls_token=True), got {list(pooling)}")
        self.pooling, self.use_point_feats = tuple(pooling), use_point_feats
        self.num_classes, self.label_smoothing = int(num_classes), float(label_smoothing)
        self.tokenizer = MODELS.build(tokenizer)
        width = self.tokenizer.embed_dim
        self.build_encoder(encoder)
        self.num_prefix = 1 if cls_token else 0
        if cls_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
            self.cls_pos = nn.Parameter(torch.zeros(1, 1, width))
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            nn.init.trunc_normal_(self.cls_pos, std=0.02)
        self.head = ClsHead(width * len(self.pooling), self.num_classes, head_hidden, head_dropout)
        self.test_cfg = dict(votes=1, num_points=None, scale_range=(2.0 / 3.0, 1.5), translate_range=0.2, seed=0)
        unknown = set(test_cfg or {}) - set(self.test_cfg)
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown test_cfg keys {sorted(unknown)}")
        self.test_cfg.update(test_cfg or {})

    def build_encoder(self, encoder: dict | None) -> None:
        self.encoder = MODELS.build(encoder)
        width = getattr(self.encoder, "embed_dim", None)
        if width is not None and width != self.tokenizer.embed_dim:
            raise ValueError(f"{type(self).__name__}: tokenizer embed_dim {self.tokenizer.embed_dim} != encoder "
                             f"width {width}")

    # -- stages -------------------------------------------------------------------------------
    def encode(self, tok) -> torch.Tensor:
        """(B, 1 + M, D) features; row 0 is the class token (no class token: (B, M, D))."""
        if not self.num_prefix:
            return self.encoder(tok.tokens, tok.pos)
        b = tok.tokens.shape[0]
        x = torch.cat([self.cls_token.expand(b, -1, -1), tok.tokens], dim=1)
        pos = torch.cat([self.cls_pos.expand(b, -1, -1), tok.pos], dim=1)
        return self.encoder(x, pos)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        k = self.num_prefix
        parts = {"cls": lambda: x[:, 0], "max": lambda: x[:, k:].max(dim=1).values, "mean": lambda: x[:, k:].mean(dim=1)}
        return torch.cat([parts[p]() for p in self.pooling], dim=-1)

    def logits_dense(self, points: torch.Tensor, feats: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N, 3) clouds (+ (B, N, C) feats) -> (B, K)."""
        tok = self.tokenizer(points, feats=feats)
        return self.head(self.pool(self.encode(tok)))

    def _clouds(self, inputs: dict, bsz: int):
        for key in ("points", "point_batch"):
            if key not in inputs:
                raise KeyError(f"{type(self).__name__}: batch inputs lack '{key}' (docs/objects.md)")
        feats = inputs.get("point_feats") if self.use_point_feats else None
        return split_by_batch(inputs["points"], inputs["point_batch"], bsz, feats)

    def logits(self, inputs: dict, bsz: int) -> torch.Tensor:
        clouds = self._clouds(inputs, bsz)
        sizes = {len(p) for p, _ in clouds}
        if len(sizes) != 1:
            raise ValueError(f"{type(self).__name__}: clouds of one batch need one point count, got {sorted(sizes)}"
                             " (end the pipeline's sampling with FPSSample/PointSample)")
        feats = torch.stack([f for _, f in clouds]) if self.use_point_feats else None
        return self.logits_dense(torch.stack([p for p, _ in clouds]), feats)

    def predict_logits(self, inputs: dict, bsz: int) -> torch.Tensor:
        cfg = self.test_cfg
        if int(cfg["votes"]) <= 1:
            return self.logits(inputs, bsz)
        if self.use_point_feats:
            raise NotImplementedError(f"{type(self).__name__}: voting with point features (normals) is not supported")
        gen = torch.Generator().manual_seed(int(cfg["seed"]))
        clouds = [p for p, _ in self._clouds(inputs, bsz)]
        return vote_logits(self.logits_dense, clouds, int(cfg["votes"]), cfg["num_points"], cfg["scale_range"],
                           float(cfg["translate_range"]), gen)

    @staticmethod
    def _labels(data_samples, device) -> torch.Tensor:
        if not data_samples or any("gt_labels" not in s for s in data_samples):
            raise ValueError("PointClassifier: data_samples need gt_labels (the object's class)")
        return torch.stack([torch.as_tensor(s["gt_labels"]).reshape(-1)[0] for s in data_samples]).long().to(device)

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"{type(self).__name__}: unknown mode {mode!r}")
        bsz = len(data_samples) if data_samples else int(inputs["point_batch"].max()) + 1
        if mode == "tensor":
            return self.logits(inputs, bsz)
        if mode == "loss":
            logits = self.logits(inputs, bsz)
            labels = self._labels(data_samples, logits.device)
            loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
            acc = (logits.argmax(-1) == labels).float().mean().detach()
            return dict(loss_cls=loss, acc=acc)
        return class_predictions(self.predict_logits(inputs, bsz), data_samples or [{}] * bsz)


def class_predictions(logits: torch.Tensor, samples) -> list:
    """(B, K) logits -> what ClsMetric reads per sample: pred_label, logits, gt_label, sample_id."""
    out = []
    for i, s in enumerate(samples):
        d = dict(pred_label=int(logits[i].argmax()), logits=logits[i].detach().cpu())
        if "gt_labels" in s:
            d["gt_label"] = int(torch.as_tensor(s["gt_labels"]).reshape(-1)[0])
        d["sample_id"] = s.get("meta", {}).get("sample_id")
        out.append(d)
    return out
