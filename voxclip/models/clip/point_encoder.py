"""The transformer of a CLIP image tower applied to point tokens (EPCL).

Only the pre-transformer LayerNorm (ln_pre), the residual blocks and the class token are reused:
the patch embedding, the 2D positional embedding of the patches and pooling/projection are
image-specific. ``cls_token`` is CLIP's class embedding plus positional embedding 0 (what the image
tower puts in front of its patches; EPCL Eq. 5 and its released code prepend it to the point tokens).
Layout: open_clip's Transformer has had `batch_first` (True by default since 2.24; 3.3.0 here); with
batch_first=False its blocks expect (L, B, D). The blocks are run here directly in the layout
their attention was built for, so results do not depend on the open_clip version.
"""
from __future__ import annotations

import logging

import torch
from torch import nn

from voxclip.registry import MODELS

from .loader import build_open_clip_visual, load_open_clip_visual

__all__ = ["ClipTransformerEncoder"]

logger = logging.getLogger(__name__)


@MODELS.register_module()
class ClipTransformerEncoder(nn.Module):
    """(B, L, D) tokens -> (B, L, D) through CLIP's ln_pre and transformer blocks.

    Args:
        weights: local weights file (see clip.loader); required unless random_init=True.
        model_name: open_clip config name (ViT-B-16: width 768, 12 blocks, 12 heads).
        model_cfg: explicit open_clip CLIP config dict instead of model_name (tests, demos).
        quick_gelu: activation of the checkpoint (True for OpenAI weights).
        random_init: allow weights=None (random CLIP; for demos/tests only, logged as a warning).
        frozen: set requires_grad=False on every parameter and keep the module in eval mode.
        with_head: also keep CLIP's class token, ln_post and projection (``class_embedding``,
            ``project``: tokens into the joint image-text space; S4Token). Default False: as before.
    """

    def __init__(self, weights: str | None = None, model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                 quick_gelu: bool = True, random_init: bool = False, frozen: bool = True,
                 with_head: bool = False):
        super().__init__()
        if weights is None:
            if not random_init:
                raise FileNotFoundError("ClipTransformerEncoder: no CLIP weights file given (weights=None); "
                                        "set weights to a local checkpoint, or random_init=True for demos")
            logger.warning("ClipTransformerEncoder: RANDOM CLIP weights (random_init=True); for demos/tests only")
            visual = build_open_clip_visual(model_name, model_cfg, quick_gelu)
        else:
            visual = load_open_clip_visual(weights, model_name, model_cfg, quick_gelu)
        self.ln_pre = visual.ln_pre
        self.transformer = visual.transformer
        # frozen CLIP values, rebuilt from the weights file at construction (not a state_dict key)
        cls = (visual.class_embedding + visual.positional_embedding[0]).detach().clone()
        self.register_buffer("cls_token", cls, persistent=False)
        self.width = self.transformer.width
        self.batch_first = bool(getattr(self.transformer, "batch_first", False))
        self.with_head = bool(with_head)
        if self.with_head:
            self.class_embedding, self.ln_post, self.proj = visual.class_embedding, visual.ln_post, visual.proj
            self.embed_dim = int(self.proj.shape[1]) if self.proj is not None else self.width
        self.frozen = frozen
        if frozen:
            for p in self.parameters():
                p.requires_grad_(False)
            super().train(False)

    def train(self, mode: bool = True):
        # A frozen CLIP stays in eval mode (no dropout / stochastic behaviour inside it).
        return super().train(False if self.frozen else mode)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None,
                after_ln_pre: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, L, D) -> ln_pre -> [append after_ln_pre (B, T, D), if given] -> blocks -> (B, L (+T), D)."""
        if x.dim() != 3 or x.shape[-1] != self.width:
            raise ValueError(f"ClipTransformerEncoder: expected (B, L, {self.width}) tokens, got {tuple(x.shape)}")
        x = self.ln_pre(x)
        if after_ln_pre is not None:
            x = torch.cat([x, after_ln_pre.to(x.dtype)], dim=1)
        if not self.batch_first:
            x = x.transpose(0, 1)  # (B, L, D) -> (L, B, D)
        for blk in self.transformer.resblocks:
            x = blk(x, attn_mask=attn_mask)
        return x if self.batch_first else x.transpose(0, 1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(..., width) transformer outputs -> (..., embed_dim): CLIP's ln_post then its projection."""
        if not self.with_head:
            raise RuntimeError("ClipTransformerEncoder.project needs with_head=True")
        x = self.ln_post(x)
        return x @ self.proj if self.proj is not None else x
