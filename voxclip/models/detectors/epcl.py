"""EPCL (Huang et al., "Frozen CLIP ... Efficient Point Cloud Learner"): point tokens through a frozen
CLIP image transformer, with learnable task tokens, under a 3DETR head.

Default (paper Eq. 5 + the released code, classification/models/epcl_classification.py):
sequence = [CLIP class token ; point tokens] + [CLIP pos 0 ; point pos] -> dropout_0.3 -> CLIP ln_pre
-> append the task tokens -> CLIP blocks -> keep the point tokens -> 3DETR head.
Task tokens: an embedding of the enumerated ids 0..T-1 through an MLP (released: Linear-GELU-Linear,
width = CLIP width). Only the tokenizer, the task-token encoder and the head train (the CLIP
transformer and its class token are frozen unless freeze_clip=False).
Switches for voxclip's earlier layout: class_token=False, task_token_placement='before_ln_pre'
(task tokens in front of the point tokens, through dropout and ln_pre), task_token_act='tanh' with
task_token_hidden=512 (P-tuning v2's reparameterisation).
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder  # noqa: F401  (registers the encoder)
from voxclip.registry import MODELS

from .detr3d import ThreeDETR

__all__ = ["EPCL", "TaskTokenEncoder"]


class TaskTokenEncoder(nn.Module):
    """T learnable task tokens (T, D) = MLP(Embedding(arange(T))), enumerated initialisation.
    act: 'tanh' (P-tuning v2, voxclip's earlier default) | 'gelu' (EPCL's released TaskEmbEncoder)."""

    def __init__(self, num_tokens: int, dim: int, hidden: int = 512, act: str = "tanh"):
        super().__init__()
        acts = {"tanh": nn.Tanh, "gelu": nn.GELU}
        if act not in acts:
            raise ValueError(f"TaskTokenEncoder: act must be one of {sorted(acts)}, got {act!r}")
        self.embedding = nn.Embedding(num_tokens, dim)
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), acts[act](), nn.Linear(hidden, dim))
        self.register_buffer("ids", torch.arange(num_tokens), persistent=False)

    def forward(self) -> torch.Tensor:
        return self.encoder(self.embedding(self.ids))


@MODELS.register_module()
class EPCL(ThreeDETR):
    """Args:
        tokenizer: PointTokenizer config, embed_dim = CLIP width (768 for ViT-B/16 and ViT-B/32).
        clip: ClipTransformerEncoder config (weights, model_name, ...); `frozen` is set from freeze_clip.
        head: DETR3DHead config with in_channels = CLIP width.
        num_task_tokens: T (0 = ablation without task tokens).
        task_token_hidden: encoder MLP width (None = CLIP width, as released). task_token_act: 'gelu' | 'tanh'.
        task_token_placement: 'after_ln_pre' (released: appended after ln_pre) | 'before_ln_pre'
            (voxclip's earlier layout: prepended, through dropout and ln_pre).
        class_token: prepend CLIP's class token (class embedding + positional embedding 0; Eq. 5).
        clip_dropout: dropout on the token sequence before CLIP (paper: 0.3).
        freeze_clip: False = ablation with the CLIP transformer fine-tuned.
    """

    def __init__(self, tokenizer: dict, clip: dict, head: dict, num_task_tokens: int = 10,
                 task_token_hidden: int | None = None, clip_dropout: float = 0.3, freeze_clip: bool = True,
                 task_token_act: str = "gelu", task_token_placement: str = "after_ln_pre", class_token: bool = True,
                 use_point_feats: bool = False, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(tokenizer=tokenizer, head=head, encoder=None, use_point_feats=use_point_feats,
                         encoder_pos=True, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.clip = MODELS.build({**clip, "type": clip.get("type", "ClipTransformerEncoder"), "frozen": freeze_clip})
        if self.clip.width != self.tokenizer.embed_dim:
            raise ValueError(f"EPCL: tokenizer embed_dim {self.tokenizer.embed_dim} != CLIP width {self.clip.width}")
        if task_token_placement not in ("after_ln_pre", "before_ln_pre"):
            raise ValueError(f"EPCL: task_token_placement must be 'after_ln_pre' or 'before_ln_pre', "
                             f"got {task_token_placement!r}")
        self.num_task_tokens, self.task_token_placement = num_task_tokens, task_token_placement
        self.class_token = bool(class_token)
        hidden = self.clip.width if task_token_hidden is None else task_token_hidden
        self.task_tokens = (TaskTokenEncoder(num_task_tokens, self.clip.width, hidden, task_token_act)
                            if num_task_tokens else None)
        self.clip_dropout = nn.Dropout(clip_dropout)

    def encode(self, tok) -> torch.Tensor:
        x = tok.tokens + tok.pos
        bsz, m = x.shape[:2]
        if self.class_token:
            x = torch.cat([self.clip.cls_token.to(x.dtype)[None, None].expand(bsz, -1, -1), x], dim=1)
        task = None if self.task_tokens is None else self.task_tokens().to(x.dtype)[None].expand(bsz, -1, -1)
        if task is not None and self.task_token_placement == "before_ln_pre":
            x = self.clip(self.clip_dropout(torch.cat([task, x], dim=1)))
            x = x[:, self.num_task_tokens:]
        else:
            x = self.clip(self.clip_dropout(x), after_ln_pre=task)
        first = int(self.class_token)
        return x[:, first:first + m]
