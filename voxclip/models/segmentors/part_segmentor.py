"""Object part segmentation on the shared point tokenizer + transformer (Point-MAE's ShapeNetPart model).

tokens -> PointTransformerEncoder; the outputs of blocks ``fetch_layers`` (Point-MAE: 3, 7, 11), each
through the encoder's final LayerNorm, concatenated (3 x 384 = 1152 per token); global feature = [max
over tokens, mean over tokens, category embedding] (embedding: one-hot (16) -> Linear without bias
(= Point-MAE's 1x1 Conv1d) -> BN -> LeakyReLU(0.2), 64 wide); TokenSegHead propagates the token
features to every point (3-NN inverse distance, concatenated with xyz, conv 1536 -> 1024), appends the
global feature to each point and runs conv 512 -> dropout 0.5 -> conv 256 -> 50 logits. Loss: cross-
entropy over all parts (Point-MAE's NLL of log-softmax). Prediction: the argmax over the parts of the
object's own category only (``restricted_argmax``), as every released ShapeNetPart evaluation does.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.heads.token_seg import TokenSegHead  # noqa: F401  (registers the head)
from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.models.tokenizers import PointTokenizer, split_by_batch  # noqa: F401  (registers)
from voxclip.models.transformers import PointTransformerEncoder  # noqa: F401
from voxclip.registry import MODELS

__all__ = ["PointPartSegmentor", "restricted_argmax", "part_mask"]


def part_mask(categories: torch.Tensor, seg_classes: Sequence[Sequence[int]], num_parts: int) -> torch.Tensor:
    """(B,) category indices -> (B, num_parts) bool: the parts each object's category owns."""
    table = torch.zeros(len(seg_classes), num_parts, dtype=torch.bool)
    for c, parts in enumerate(seg_classes):
        table[c, list(parts)] = True
    return table.to(categories.device)[categories.long()]


def restricted_argmax(logits: torch.Tensor, categories: torch.Tensor, point_batch: torch.Tensor,
                      seg_classes: Sequence[Sequence[int]]) -> torch.Tensor:
    """Per-point argmax over the parts of the point's object category only: logits (N, P), categories
    (B,), point_batch (N,) -> (N,) global part ids."""
    allowed = part_mask(categories, seg_classes, logits.shape[1])[point_batch]
    return logits.masked_fill(~allowed, float("-inf")).argmax(1)


@MODELS.register_module()
class PointPartSegmentor(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer: PointTokenizer config (Point-MAE: 128 groups of 32, 384 wide).
        encoder: PointTransformerEncoder config (12 x 384, 6 heads, drop path 0.1).
        head: TokenSegHead config without in_channels / global_channels / num_classes (set here).
        seg_classes: part ids per category (default: ShapeNetPart's 16 categories / 50 parts).
        fetch_layers: encoder blocks whose outputs are concatenated (0-based; Point-MAE (3, 7, 11)).
        category_onehot: feed the category one-hot through the label embedding (Point-MAE: True).
        label_dim: width of the label embedding (64).
        use_point_feats: give inputs['point_feats'] (normals) to the tokenizer and the last skip.
        restrict_to_category: predict among the object's own category's parts (the benchmark: True).
        pretrained: dict(checkpoint, parts, producer): tokenizer/encoder of a pretraining checkpoint.
    forward: 'loss' -> dict(loss_seg, acc); 'predict' -> per-sample dicts pred_parts, gt_parts,
    category, sample_id; 'tensor' -> (N_total, P) logits.
    """

    def __init__(self, tokenizer: dict, encoder: dict, head: dict, seg_classes: Sequence[Sequence[int]] | None = None,
                 fetch_layers: Sequence[int] = (3, 7, 11), category_onehot: bool = True, label_dim: int = 64,
                 use_point_feats: bool = False, restrict_to_category: bool = True, pretrained: dict | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._set_pretrained(pretrained)
        if seg_classes is None:
            from voxclip.datasets.objects.shapenetpart import shapenetpart_seg_classes

            seg_classes = shapenetpart_seg_classes()
        self.seg_classes = tuple(tuple(int(p) for p in parts) for parts in seg_classes)
        self.num_categories = len(self.seg_classes)
        self.num_parts = max(max(p) for p in self.seg_classes) + 1
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        width = self.encoder.embed_dim
        if width != self.tokenizer.embed_dim:
            raise ValueError(f"PointPartSegmentor: tokenizer embed_dim {self.tokenizer.embed_dim} != encoder "
                             f"width {width}")
        self.fetch_layers = tuple(int(i) for i in fetch_layers)
        if not self.fetch_layers or not all(0 <= i < self.encoder.depth for i in self.fetch_layers):
            raise ValueError(f"PointPartSegmentor: fetch_layers {self.fetch_layers} outside the encoder's "
                             f"{self.encoder.depth} blocks")
        self.category_onehot, self.use_point_feats = bool(category_onehot), bool(use_point_feats)
        self.restrict_to_category = bool(restrict_to_category)
        self.label_embed = nn.Sequential(nn.Linear(self.num_categories, label_dim, bias=False),
                                         nn.BatchNorm1d(label_dim), nn.LeakyReLU(0.2)) if self.category_onehot else None
        feat = width * len(self.fetch_layers)
        glob = 2 * feat + (label_dim if self.category_onehot else 0)
        self.head = MODELS.build(dict(head, in_channels=feat, global_channels=glob, num_classes=self.num_parts))

    # -- stages -------------------------------------------------------------------------------
    def token_features(self, tok) -> torch.Tensor:
        """(B, M, len(fetch_layers) * D): the fetched blocks' outputs, each layer-normed, concatenated."""
        _, _, outs = self.encoder.forward_layers(tok.tokens, tok.pos)
        return torch.cat([self.encoder.norm(outs[i]) for i in self.fetch_layers], dim=-1)

    def global_features(self, feats: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        parts = [feats.max(dim=1).values, feats.mean(dim=1)]
        if self.label_embed is not None:
            onehot = F.one_hot(categories.long(), self.num_categories).to(feats.dtype)
            parts.append(self.label_embed(onehot))
        return torch.cat(parts, dim=-1)

    def logits(self, inputs: dict, categories: torch.Tensor) -> torch.Tensor:
        for key in ("points", "point_batch"):
            if key not in inputs:
                raise KeyError(f"PointPartSegmentor: batch inputs lack '{key}' (docs/objects.md)")
        points, batch = inputs["points"], inputs["point_batch"]
        feats = inputs.get("point_feats") if self.use_point_feats else None
        if self.use_point_feats and feats is None:
            raise KeyError("PointPartSegmentor: use_point_feats=True but inputs lack 'point_feats'")
        clouds = split_by_batch(points, batch, len(categories), feats)
        if len({len(p) for p, _ in clouds}) != 1:
            raise ValueError("PointPartSegmentor: clouds of one batch need one point count (ShapeNetPartSegmentation "
                             "num_points)")
        dense = torch.stack([p for p, _ in clouds])
        tok = self.tokenizer(dense, feats=torch.stack([f for _, f in clouds]) if feats is not None else None)
        tfeat = self.token_features(tok)
        skip = torch.cat([points, feats], dim=-1) if feats is not None else points
        return self.head([(tok.centers, tfeat)], points, skip, batch, self.global_features(tfeat, categories))

    @staticmethod
    def _categories(data_samples, device) -> torch.Tensor:
        if not data_samples or any("gt_labels" not in s for s in data_samples):
            raise ValueError("PointPartSegmentor: data_samples need gt_labels (the object's category)")
        return torch.stack([torch.as_tensor(s["gt_labels"]).reshape(-1)[0] for s in data_samples]).long().to(device)

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"PointPartSegmentor: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
        categories = self._categories(data_samples, inputs["points"].device)
        if int(categories.max()) >= self.num_categories or int(categories.min()) < 0:
            raise ValueError(f"PointPartSegmentor: category outside [0, {self.num_categories})")
        logits = self.logits(inputs, categories)
        if mode == "tensor":
            return logits
        batch = inputs["point_batch"]
        if mode == "loss":
            if any("semantic" not in s for s in data_samples):
                raise ValueError("PointPartSegmentor: mode='loss' needs per-point part labels ('semantic')")
            labels = torch.cat([torch.as_tensor(s["semantic"]).reshape(-1) for s in data_samples])
            labels = labels.long().to(logits.device)
            if len(labels) != len(logits):
                raise ValueError(f"PointPartSegmentor: {len(labels)} part labels for {len(logits)} points")
            if int(labels.min()) < 0 or int(labels.max()) >= self.num_parts:
                raise ValueError(f"PointPartSegmentor: part label outside [0, {self.num_parts})")
            acc = (logits.argmax(1) == labels).float().mean().detach()
            return dict(loss_seg=F.cross_entropy(logits, labels), acc=acc)
        pred = restricted_argmax(logits, categories, batch, self.seg_classes) if self.restrict_to_category \
            else logits.argmax(1)
        pred, batch = pred.cpu(), batch.cpu()
        out = []
        for b, s in enumerate(data_samples):
            d = dict(pred_parts=pred[batch == b], category=int(categories[b]),
                     sample_id=s.get("meta", {}).get("sample_id"))
            if "semantic" in s:
                d["gt_parts"] = torch.as_tensor(s["semantic"]).reshape(-1).cpu()
            out.append(d)
        return out
