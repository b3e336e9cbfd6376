"""3DETR detector: point tokenizer -> transformer encoder -> 3DETR head.

The pre-encoder is any registered tokenizer: ``SetAbstractionTokenizer`` (3DETR's PointNet++ set
abstraction: FPS + ball query + PointNet, configs/3detr) or ``PointTokenizer`` (Point-MAE: FPS + kNN
patches + mini-PointNet, used when fine-tuning from a Point-MAE-style pretraining); both give M
tokens at FPS centres. The encoder-to-decoder projection is part of the head (DETR3DHead.memory_proj).
"""
from __future__ import annotations

import torch
from mmengine.model import BaseModel

from voxclip.models.heads.detr3d import DETR3DHead  # noqa: F401  (registers the head)
from voxclip.models.tokenizers import PointTokenizer, SetAbstractionTokenizer  # noqa: F401
from voxclip.models.transformers import PointTransformerEncoder  # noqa: F401
from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.registry import MODELS

from .outputs import predictions_with_ground_truth

__all__ = ["ThreeDETR", "scene_bounds"]


def scene_bounds(points: torch.Tensor, batch: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample min and max (B, 3) of flat points (N, 3) with batch index (N,)."""
    idx = batch[:, None].expand(-1, 3)
    lo = points.new_full((batch_size, 3), float("inf")).scatter_reduce(0, idx, points, "amin")
    hi = points.new_full((batch_size, 3), float("-inf")).scatter_reduce(0, idx, points, "amax")
    if not bool(torch.isfinite(lo).all()):
        raise ValueError("scene_bounds: some batch element has no points")
    return lo, hi


@MODELS.register_module()
class ThreeDETR(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer: tokenizer config, e.g. SetAbstractionTokenizer or PointTokenizer (its embed_dim
            must equal the encoder width).
        encoder: PointTransformerEncoder config (3DETR: 3 layers, 256 wide, 4 heads).
        head: DETR3DHead config (in_channels = encoder width).
        use_point_feats: feed inputs['point_feats'] to the tokenizer (3DETR ScanNet: xyz only).
        encoder_pos: add the tokenizer's positional embedding in the encoder.
        pretrained: dict(checkpoint, parts, producer) -- tokenizer/encoder from a pretraining
            checkpoint (``voxclip.models.pretrained.PretrainedPartsMixin``).

    forward(inputs, data_samples, mode) on a voxclip.datasets.sparse_collate batch (uses points,
    point_batch and optionally point_feats): 'loss' -> dict of losses; 'predict' -> per-sample dicts
    boxes (K, 7), labels (K,), scores (K,) + gt_boxes/gt_labels (+ meta); 'tensor' -> per-layer preds.
    """

    def __init__(self, tokenizer: dict, head: dict, encoder: dict | None = None, use_point_feats: bool = False,
                 encoder_pos: bool = True, pretrained: dict | None = None, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.use_point_feats, self.encoder_pos = use_point_feats, encoder_pos
        self._set_pretrained(pretrained)
        self.tokenizer = MODELS.build(tokenizer)
        if encoder is not None:
            self.encoder = MODELS.build(encoder)
            width = getattr(self.encoder, "embed_dim", None)
            if width is not None and width != self.tokenizer.embed_dim:
                raise ValueError(f"{type(self).__name__}: tokenizer embed_dim {self.tokenizer.embed_dim} "
                                 f"!= encoder width {width}")
        self.head = MODELS.build(head)

    # -- stages -------------------------------------------------------------------------------
    def tokenize(self, inputs: dict, batch_size: int):
        for key in ("points", "point_batch"):
            if key not in inputs:
                raise KeyError(f"{type(self).__name__}: batch inputs lack '{key}' (see docs/architecture.md)")
        feats = inputs.get("point_feats") if self.use_point_feats else None
        if self.use_point_feats and feats is None:
            raise KeyError(f"{type(self).__name__}: use_point_feats=True but inputs lack 'point_feats'")
        return self.tokenizer(inputs["points"], inputs["point_batch"], feats, batch_size)

    def encode(self, tok) -> torch.Tensor:
        """Token features (B, M, C) for the head."""
        return self.encoder(tok.tokens, tok.pos if self.encoder_pos else None)

    def _predictions(self, inputs: dict, data_samples: list | None):
        bsz = len(data_samples) if data_samples else int(inputs["point_batch"].max()) + 1
        pc_min, pc_max = scene_bounds(inputs["points"], inputs["point_batch"], bsz)
        tok = self.tokenize(inputs, bsz)
        feats = self.encode(tok)
        return self.head(tok.centers, feats, pc_min, pc_max), pc_min, pc_max

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"{type(self).__name__}: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
        preds, pc_min, pc_max = self._predictions(inputs, data_samples)
        if mode == "tensor":
            return preds
        if mode == "loss":
            if data_samples is None:
                raise ValueError(f"{type(self).__name__}: mode='loss' needs data_samples with gt_boxes/gt_labels")
            return self.head.loss(preds, pc_min, pc_max, [s["gt_boxes"] for s in data_samples],
                                  [s["gt_labels"] for s in data_samples])
        pts, pb = inputs["points"], inputs["point_batch"]
        points = [pts[pb == b] for b in range(preds[-1]["boxes"].shape[0])]  # for the empty-box removal
        return predictions_with_ground_truth(self.head.predict(preds, points), data_samples)
