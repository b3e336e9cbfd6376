"""EPCL (Huang et al., "Frozen CLIP ... Efficient Point Cloud Learner"): point tokens through a frozen
CLIP image transformer, with learnable task tokens, under a 3DETR head.

sequence = dropout_0.3([task tokens ; point tokens + pos]) -> CLIP ln_pre -> CLIP blocks -> drop the
task tokens -> 3DETR head. Task tokens follow P-tuning v2's reparameterisation: an embedding of the
enumerated ids 0..T-1 passed through a small MLP encoder (Linear-Tanh-Linear); only the tokenizer,
the task-token encoder and the head train (the CLIP transformer is frozen unless freeze_clip=False).
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder  # noqa: F401  (registers the encoder)
from voxclip.registry import MODELS

from .detr3d import ThreeDETR

__all__ = ["EPCL", "TaskTokenEncoder"]


class TaskTokenEncoder(nn.Module):
    """T learnable task tokens (T, D) = MLP(Embedding(arange(T))), enumerated initialisation."""

    def __init__(self, num_tokens: int, dim: int, hidden: int = 512):
        super().__init__()
        self.embedding = nn.Embedding(num_tokens, dim)
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        self.register_buffer("ids", torch.arange(num_tokens), persistent=False)

    def forward(self) -> torch.Tensor:
        return self.encoder(self.embedding(self.ids))


@MODELS.register_module()
class EPCL(ThreeDETR):
    """Args:
        tokenizer: PointTokenizer config, embed_dim = CLIP width (768 for ViT-B/16).
        clip: ClipTransformerEncoder config (weights, model_name, ...); `frozen` is set from freeze_clip.
        head: DETR3DHead config with in_channels = CLIP width.
        num_task_tokens: T (0 = ablation without task tokens). task_token_hidden: encoder MLP width.
        clip_dropout: dropout on the token sequence before CLIP (paper: 0.3).
        freeze_clip: False = ablation with the CLIP transformer fine-tuned.
    """

    def __init__(self, tokenizer: dict, clip: dict, head: dict, num_task_tokens: int = 10,
                 task_token_hidden: int = 512, clip_dropout: float = 0.3, freeze_clip: bool = True,
                 use_point_feats: bool = False, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(tokenizer=tokenizer, head=head, encoder=None, use_point_feats=use_point_feats,
                         encoder_pos=True, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.clip = MODELS.build({**clip, "type": clip.get("type", "ClipTransformerEncoder"), "frozen": freeze_clip})
        if self.clip.width != self.tokenizer.embed_dim:
            raise ValueError(f"EPCL: tokenizer embed_dim {self.tokenizer.embed_dim} != CLIP width {self.clip.width}")
        self.num_task_tokens = num_task_tokens
        self.task_tokens = TaskTokenEncoder(num_task_tokens, self.clip.width, task_token_hidden) if num_task_tokens else None
        self.clip_dropout = nn.Dropout(clip_dropout)

    def encode(self, tok) -> torch.Tensor:
        x = tok.tokens + tok.pos
        if self.task_tokens is not None:
            task = self.task_tokens().to(x.dtype)
            x = torch.cat([task[None].expand(x.shape[0], -1, -1), x], dim=1)
        x = self.clip(self.clip_dropout(x))
        return x[:, self.num_task_tokens:]
