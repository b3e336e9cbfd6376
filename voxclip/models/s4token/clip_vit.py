"""The frozen CLIP ViT on both sides of S4Token: over point tokens (EPCL path) and over images.

FrozenPointViT: [CLIP class token ; tokens + pos] -> ClipTransformerEncoder (ln_pre + CLIP blocks,
voxclip.models.clip, with_head=True) -> width features; ``project`` applies CLIP's ln_post and
visual projection, so token features and the class token land in the joint image-text space.
CLIPViTDenseEncoder: images -> (B, E, g, g) CLIP patch features in the same space, the
distillation targets. Both are FrozenTowers (weights come from the CLIP file, never from checkpoints).

Dense image features ``dense``: 'tokens' = every patch token through all blocks, ln_post, proj;
'value' (default) = the last block's attention replaced by its value path (MaskCLIP, Zhou et al.
2022: the query-key attention of CLIP's last block mixes the whole image into each patch), then
its MLP, ln_post, proj. Which CLIP features S4Token distils is not stated (docs/s4token.md).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder, FrozenTower
from voxclip.models.clip.loader import open_clip_from_config
from voxclip.registry import MODELS

__all__ = ["FrozenPointViT", "CLIPViTDenseEncoder"]


@MODELS.register_module()
class FrozenPointViT(FrozenTower):
    """Args: as ClipTransformerEncoder (weights, model_name, model_cfg, quick_gelu, random_init).
    ``use_cls``: prepend CLIP's own class token (its output is the global embedding)."""

    def __init__(self, weights: str | None = None, model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                 quick_gelu: bool = True, random_init: bool = False, use_cls: bool = True,
                 save_weights: bool = False):
        super().__init__(save_weights)
        self.vit = ClipTransformerEncoder(weights=weights, model_name=model_name, model_cfg=model_cfg,
                                          quick_gelu=quick_gelu, random_init=random_init, frozen=True, with_head=True)
        self.width, self.embed_dim, self.use_cls = self.vit.width, self.vit.embed_dim, bool(use_cls)
        self.freeze_()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(B, L, width) tokens (+pos) -> (cls (B, width) or None, tokens (B, L, width)); gradients flow
        to x (the weights are frozen)."""
        if self.use_cls:
            cls = self.vit.class_embedding.to(x.dtype).view(1, 1, -1).expand(x.shape[0], 1, -1)
            out = self.vit(torch.cat([cls, x], 1))
            return out[:, 0], out[:, 1:]
        return None, self.vit(x)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.project(x)


@MODELS.register_module()
class CLIPViTDenseEncoder(FrozenTower):
    """Frozen open_clip VisionTransformer: CLIP-normalised images (B, 3, H, W) -> (B, E, g, g).

    Images are resized (bilinear) to the model's image_size first, so g = image_size // patch_size.
    Args: model_name / model_cfg / weights / quick_gelu as the other CLIP towers; dense: 'value' | 'tokens'.
    """

    def __init__(self, model_name: str = "ViT-B-16", model_cfg: dict | None = None, weights: str | None = None,
                 quick_gelu: bool = True, dense: str = "value", save_weights: bool = False):
        super().__init__(save_weights)
        if dense not in ("value", "tokens"):
            raise ValueError(f"CLIPViTDenseEncoder: dense must be 'value' or 'tokens', got {dense!r}")
        visual = open_clip_from_config("CLIPViTDenseEncoder", model_name, model_cfg, weights, quick_gelu).visual
        if not hasattr(visual, "conv1") or not hasattr(visual, "class_embedding"):
            raise TypeError(f"CLIPViTDenseEncoder needs a ViT CLIP; {model_name!r} has a {type(visual).__name__}")
        self.visual, self.dense = visual, dense
        size = visual.image_size
        self.image_size = tuple(size) if isinstance(size, (tuple, list)) else (int(size), int(size))
        self.embed_dim = int(visual.proj.shape[1]) if visual.proj is not None else int(visual.transformer.width)
        self.freeze_()

    @staticmethod
    def _value_block(blk: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """x + out_proj(v(ln_1 x)), then the block's MLP (batch-first (B, L, D))."""
        attn = blk.attn
        d = x.shape[-1]
        y = blk.ln_1(x)
        v = F.linear(y, attn.in_proj_weight[2 * d:], attn.in_proj_bias[2 * d:] if attn.in_proj_bias is not None else None)
        x = x + blk.ls_1(attn.out_proj(v))
        return x + blk.ls_2(blk.mlp(blk.ln_2(x)))

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"CLIPViTDenseEncoder: expected (B, 3, H, W) images, got {tuple(images.shape)}")
        v = self.visual
        x = F.interpolate(images.float(), size=self.image_size, mode="bilinear", align_corners=False)
        x = v._embeds(x.to(v.conv1.weight.dtype))  # (B, 1 + g*g, D), ln_pre applied
        blocks = v.transformer.resblocks
        last = len(blocks) - (1 if self.dense == "value" else 0)
        batch_first = bool(getattr(v.transformer, "batch_first", True))
        x = x if batch_first else x.transpose(0, 1)
        for blk in blocks[:last]:
            x = blk(x)
        x = x if batch_first else x.transpose(0, 1)
        if self.dense == "value":
            x = self._value_block(blocks[-1], x)
        x = v.ln_post(x[:, 1:])
        x = x @ v.proj if v.proj is not None else x
        g = (self.image_size[0] // v.patch_size[0], self.image_size[1] // v.patch_size[1])
        return x.transpose(1, 2).reshape(x.shape[0], -1, *g)
