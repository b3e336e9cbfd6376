"""Semantic segmentation with a token encoder: tokenizer -> transformer (point transformer or frozen
CLIP) -> TokenSegHead (inverse-distance propagation back to every point) -> per-point logits.

Serves every token-based method: concept alignment / Point-MAE (ScanNet, 8192 points, 256 patches,
pretrained tokenizer + encoder via ``pretrained=``) and EPCL (hierarchical tokenizer, frozen CLIP).
With ``token_points`` set, at most that many points of a sample are tokenised (a random subset in
training, a fixed-seed one in evaluation) and the logits are still propagated to every point, so
evaluation runs on the full scene at the density the encoder was trained on.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.heads.token_seg import TokenSegHead  # noqa: F401  (registers the head)
from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.models.tokenizers.hierarchical import HierarchicalTokenizer  # noqa: F401
from voxclip.registry import MODELS

__all__ = ["TokenSegmentor"]


@MODELS.register_module()
class TokenSegmentor(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer: PointTokenizer / HierarchicalTokenizer config.
        encoder: PointTransformerEncoder (pos added at its blocks) or ClipTransformerEncoder (pos
            added once, with ``token_dropout`` before it) config.
        head: TokenSegHead config (in_channels = encoder width; num_classes set from here).
        num_classes: K; labels are data_samples[i]['semantic'] (-1 = ignore).
        tokenizer_feats: give inputs['point_feats'] to the tokenizer (else xyz only).
        skip_xyz / skip_feats: the per-point skip features of the last propagation step (xyz, point_feats).
        token_points: cap on tokenised points per sample (None = all).
        token_dropout: dropout on the token sequence before a CLIP encoder (EPCL: 0.3).
        num_task_tokens, task_token_hidden: EPCL's task tokens before a CLIP encoder (0 = none).
        pretrained: dict(checkpoint, parts, producer) (voxclip.models.pretrained).
    forward modes as SparseSegmentor: 'tensor' -> (N_total, K) logits; 'loss' -> {'loss_seg'};
    'predict' -> per-sample dicts with pred_semantic (and gt_semantic, meta).
    """

    def __init__(self, tokenizer: dict, encoder: dict, head: dict, num_classes: int, tokenizer_feats: bool = False,
                 skip_xyz: bool = True, skip_feats: bool = True, token_points: int | None = None,
                 token_dropout: float = 0.0, num_task_tokens: int = 0, task_token_hidden: int = 512,
                 ignore_index: int = -1, loss_weight: float = 1.0,
                 pretrained: dict | None = None, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._set_pretrained(pretrained)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        width = getattr(self.encoder, "embed_dim", getattr(self.encoder, "width", None))
        if width != self.tokenizer.embed_dim:
            raise ValueError(f"TokenSegmentor: tokenizer embed_dim {self.tokenizer.embed_dim} != encoder width {width}")
        self.head = MODELS.build(dict(head, num_classes=num_classes))
        self.num_classes, self.ignore_index, self.loss_weight = int(num_classes), int(ignore_index), float(loss_weight)
        self.tokenizer_feats, self.skip_xyz, self.skip_feats = tokenizer_feats, skip_xyz, skip_feats
        self.token_points = None if token_points is None else int(token_points)
        self.token_dropout = nn.Dropout(token_dropout) if token_dropout > 0 else nn.Identity()
        self.num_task_tokens = int(num_task_tokens)
        self.task_tokens = None
        if self.num_task_tokens:
            from voxclip.models.detectors.epcl import TaskTokenEncoder

            self.task_tokens = TaskTokenEncoder(self.num_task_tokens, self.tokenizer.embed_dim, task_token_hidden)

    def _token_subset(self, inputs: dict, bsz: int):
        points, batch = inputs["points"], inputs["point_batch"]
        if self.token_points is None:
            return points, batch, inputs.get("point_feats")
        gen = None if self.training else torch.Generator().manual_seed(0)
        keep = []
        for b in range(bsz):
            idx = torch.nonzero(batch == b, as_tuple=True)[0]
            if len(idx) > self.token_points:
                idx = idx[torch.randperm(len(idx), generator=gen)[:self.token_points].sort().values.to(idx.device)]
            keep.append(idx)
        keep = torch.cat(keep)
        feats = inputs.get("point_feats")
        return points[keep], batch[keep], None if feats is None else feats[keep]

    def encode(self, tok) -> torch.Tensor:
        if hasattr(self.encoder, "pos_every_block"):  # PointTransformerEncoder: pos at its blocks
            return self.encoder(tok.tokens, tok.pos)
        x = tok.tokens + tok.pos
        if self.task_tokens is not None:  # EPCL: learnable task tokens before the frozen CLIP, dropped after
            task = self.task_tokens().to(x.dtype)
            x = torch.cat([task[None].expand(x.shape[0], -1, -1), x], dim=1)
        return self.encoder(self.token_dropout(x))[:, self.num_task_tokens:]

    def _logits(self, inputs: dict, bsz: int) -> torch.Tensor:
        for key in ("points", "point_batch"):
            if key not in inputs:
                raise KeyError(f"TokenSegmentor: batch inputs lack '{key}'")
        pts, batch, feats = self._token_subset(inputs, bsz)
        tok = self.tokenizer(pts, batch, feats if self.tokenizer_feats else None, bsz)
        levels = [(tok.centers, self.encode(tok))] + list(reversed(getattr(tok, "levels", [])))
        skip = []
        if self.skip_xyz:
            skip.append(inputs["points"])
        if self.skip_feats:
            if "point_feats" not in inputs:
                raise KeyError("TokenSegmentor: skip_feats=True but inputs lack 'point_feats'")
            skip.append(inputs["point_feats"])
        skip_t = torch.cat(skip, dim=-1) if skip else None
        return self.head(levels, inputs["points"], skip_t, inputs["point_batch"])

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"TokenSegmentor: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
        bsz = len(data_samples) if data_samples else int(inputs["point_batch"].max()) + 1
        logits = self._logits(inputs, bsz)
        if mode == "tensor":
            return logits
        if mode == "loss":
            if not data_samples or any("semantic" not in s for s in data_samples):
                raise ValueError("TokenSegmentor: mode='loss' needs data_samples with per-point 'semantic'")
            labels = torch.cat([torch.as_tensor(s["semantic"]).reshape(-1) for s in data_samples]).to(logits.device)
            if len(labels) != len(logits):
                raise ValueError(f"TokenSegmentor: {len(labels)} point labels for {len(logits)} points")
            if len(labels) and int(labels.max()) >= self.num_classes:
                raise ValueError(f"TokenSegmentor: label {int(labels.max())} >= num_classes {self.num_classes}")
            valid = labels != self.ignore_index
            loss = F.cross_entropy(logits, labels.long(), ignore_index=self.ignore_index) if bool(valid.any()) \
                else logits.sum() * 0.0
            return {"loss_seg": loss * self.loss_weight}
        pred, batch = logits.argmax(1).cpu(), inputs["point_batch"].cpu()
        results = []
        for b in range(bsz):
            item = {"pred_semantic": pred[batch == b]}
            sample = data_samples[b] if data_samples else {}
            if "semantic" in sample:
                item["gt_semantic"] = torch.as_tensor(sample["semantic"]).reshape(-1).cpu()
            if "meta" in sample:
                item["meta"] = sample["meta"]
            results.append(item)
        return results
