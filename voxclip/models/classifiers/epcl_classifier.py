"""EPCL for object classification: point tokens through a frozen CLIP image transformer, with
learnable task tokens, under the classification head of PointClassifier.

sequence = dropout_0.3([class token + class pos ; task tokens ; point tokens + pos]) -> CLIP (ln_pre,
blocks) -> drop the task tokens -> [class token, max-pooled tokens] -> MLP head (dropout 0.2 on its
first two layers, supp. Fig. 10). Besides cross-entropy, the pooled feature is "compared with the CLIP
text feature of the label" ("Point cloud of a {CLASS NAME}") by a CLIP loss: we read it as a linear
projection into the text space and cross-entropy over the cosine logits of all class prompts
(``text_loss_weight``; 0 or ``text_encoder=None`` switches it off). docs/objects.md, fidelity table.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder  # noqa: F401  (registers)
from voxclip.models.detectors.epcl import TaskTokenEncoder
from voxclip.registry import MODELS

from .point_classifier import PointClassifier
from .zero_shot import class_text_embeddings

__all__ = ["EPCLClassifier"]


@MODELS.register_module()
class EPCLClassifier(PointClassifier):
    """Args (besides PointClassifier's, without ``encoder``):
        clip: ClipTransformerEncoder config; ``frozen`` follows freeze_clip.
        num_task_tokens, task_token_hidden, clip_dropout, freeze_clip: as EPCL (detectors/epcl.py).
        text_encoder: CLIPTextEncoder config for the text-alignment loss (None: cross-entropy only).
        class_names, template: the prompts ("Point cloud of a {}.").
        text_loss_weight, text_logit_scale: weight of the alignment loss and the cosine scale.
    """

    def __init__(self, tokenizer: dict, clip: dict, num_classes: int, num_task_tokens: int = 10,
                 task_token_hidden: int = 512, clip_dropout: float = 0.3, freeze_clip: bool = True,
                 text_encoder: dict | None = None, class_names=None, template: str = "Point cloud of a {}.",
                 text_loss_weight: float = 1.0, text_logit_scale: float = 100.0, **kwargs):
        self._clip_cfg = {**clip, "type": clip.get("type", "ClipTransformerEncoder"), "frozen": freeze_clip}
        self._task = (num_task_tokens, task_token_hidden)
        super().__init__(tokenizer=tokenizer, encoder=None, num_classes=num_classes, **kwargs)
        self.clip_dropout = nn.Dropout(clip_dropout)
        self.text_loss_weight, self.text_logit_scale = float(text_loss_weight), float(text_logit_scale)
        self.text_projection = None
        if text_encoder is not None and text_loss_weight > 0:
            if not class_names or len(class_names) != num_classes:
                raise ValueError(f"EPCLClassifier: the text loss needs {num_classes} class_names, got {class_names}")
            from voxclip.models.clip.prompts import build_text_encoder

            emb = class_text_embeddings(build_text_encoder(text_encoder), class_names, [template])
            self.register_buffer("text_embeddings", emb.detach().clone(), persistent=False)
            self.text_projection = nn.Linear(self.tokenizer.embed_dim * len(self.pooling), emb.shape[1])

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

    def logits_dense(self, points: torch.Tensor, feats: torch.Tensor | None = None) -> torch.Tensor:
        tok = self.tokenizer(points, feats=feats)
        pooled = self.pool(self.encode(tok))
        self._pooled = pooled  # for the text loss of this forward (loss mode)
        return self.head(pooled)

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        out = super().forward(inputs, data_samples, mode)
        if mode == "loss" and self.text_projection is not None:
            labels = self._labels(data_samples, self._pooled.device)
            sims = F.normalize(self.text_projection(self._pooled), dim=-1) @ self.text_embeddings.t()
            out["loss_text"] = self.text_loss_weight * F.cross_entropy(self.text_logit_scale * sims, labels)
        self._pooled = None
        return out
