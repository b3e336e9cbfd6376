"""EPCL for object classification: point tokens through a frozen CLIP image transformer, with
learnable task tokens, under the classification head of PointClassifier.

sequence = dropout_0.3([class token + class pos ; task tokens ; point tokens + pos]) -> CLIP (ln_pre,
blocks) -> drop the task tokens -> pooled feature -> MLP head. The paper gives no classification-
specific layout; the class token and head are PointClassifier's (docs/objects.md, fidelity table).
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder  # noqa: F401  (registers)
from voxclip.models.detectors.epcl import TaskTokenEncoder
from voxclip.registry import MODELS

from .point_classifier import PointClassifier

__all__ = ["EPCLClassifier"]


@MODELS.register_module()
class EPCLClassifier(PointClassifier):
    """Args (besides PointClassifier's, without ``encoder``):
        clip: ClipTransformerEncoder config; ``frozen`` follows freeze_clip.
        num_task_tokens, task_token_hidden, clip_dropout, freeze_clip: as EPCL (detectors/epcl.py).
    """

    def __init__(self, tokenizer: dict, clip: dict, num_classes: int, num_task_tokens: int = 10,
                 task_token_hidden: int = 512, clip_dropout: float = 0.3, freeze_clip: bool = True, **kwargs):
        self._clip_cfg = {**clip, "type": clip.get("type", "ClipTransformerEncoder"), "frozen": freeze_clip}
        self._task = (num_task_tokens, task_token_hidden)
        super().__init__(tokenizer=tokenizer, encoder=None, num_classes=num_classes, **kwargs)
        self.clip_dropout = nn.Dropout(clip_dropout)

    def build_encoder(self, encoder) -> None:
        self.clip = MODELS.build(self._clip_cfg)
        if self.clip.width != self.tokenizer.embed_dim:
            raise ValueError(f"EPCLClassifier: tokenizer embed_dim {self.tokenizer.embed_dim} != CLIP width {self.clip.width}")
        self.num_task_tokens = self._task[0]
        self.task_tokens = TaskTokenEncoder(self._task[0], self.clip.width, self._task[1]) if self._task[0] else None

    def encode(self, tok) -> torch.Tensor:
        b = tok.tokens.shape[0]
        parts = [self.cls_token.expand(b, -1, -1) + self.cls_pos]
        if self.task_tokens is not None:
            parts.append(self.task_tokens().to(tok.tokens.dtype)[None].expand(b, -1, -1))
        parts.append(tok.tokens + tok.pos)
        x = self.clip(self.clip_dropout(torch.cat(parts, dim=1)))
        return torch.cat([x[:, :1], x[:, 1 + self.num_task_tokens:]], dim=1)
