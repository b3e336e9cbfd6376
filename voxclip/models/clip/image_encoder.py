"""Frozen CLIP ResNet image tower giving a dense (per-position) CLIP-space feature map (Text4Point f2D).

CLIP's ResNet ends with an attention pool: the /32 map x and its mean x_g, position-encoded, go
through one multi-head self-attention whose global output is CLIP's image embedding. Text4Point
(Eq. 1) keeps the outputs at every position, ``[h, h_g] = MSA(Concat(x, x_g))``: every position is
a query attending to all h*w + 1 tokens (``dense_mode='msa'``, the default). ``dense_mode='value'``
keeps the earlier value-only projection (MaskCLIP, Zhou et al. 2022; DenseCLIP's dense branch).
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from voxclip.registry import MODELS

from .frozen import FrozenTower
from .loader import open_clip_from_config

__all__ = ["CLIPDenseImageEncoder", "CLIP_MEAN", "CLIP_STD", "normalize_images"]


# OpenAI CLIP's preprocessing statistics (RGB, on [0, 1] images).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def normalize_images(images) -> torch.Tensor:
    """uint8 RGB (B, H, W, 3) or (H, W, 3), tensor or ndarray -> float32 (B, 3, H, W) in CLIP's input space.

    Stays on the input tensor's device (send uint8 to the GPU first: 4x fewer bytes to copy).
    Float input is refused: it may already be normalised, and normalising twice fails silently.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not torch.is_tensor(images) or images.dtype != torch.uint8:
        raise TypeError(f"normalize_images: expected uint8 RGB images, got "
                        f"{images.dtype if torch.is_tensor(images) else type(images).__name__}")
    if images.dim() == 3:
        images = images[None]
    if images.dim() != 4 or images.shape[-1] != 3:
        raise ValueError(f"normalize_images: expected (B, H, W, 3) or (H, W, 3), got {tuple(images.shape)}")
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return x.sub_(mean).div_(std).contiguous()


@MODELS.register_module()
class CLIPDenseImageEncoder(FrozenTower):
    """Frozen CLIP ModifiedResNet: normalised images (B, 3, H, W) -> dense features (B, D, h, w).

    h, w = the /32 map size, rounded down (240x320 -> 7x10; 64x64 -> 2x2). D = CLIP embed_dim
    (1024 for RN50, 32 for TINY_RN_CLIP_CFG).

    Dense head, exactly: with x_j the layer4 feature (C = 2048 for RN50) at position j, x_g the
    mean over positions, and P the attention pool's positional embedding (global row + a trained
    s x s grid, s = image_size // 32, the grid bilinearly resized to (h, w), align_corners=False;
    skipped when (h, w) == (s, s)), tokens t = [x_g + P_0, x_j + P_j ...]:

    - dense_mode 'msa' (Text4Point Eq. 1): dense_j = the attention pool's multi-head attention output
      for the query t_j over keys/values t (q/k/v projections, softmax per head, c_proj);
    - dense_mode 'value' (MaskCLIP-style): dense_j = c_proj(v_proj(x_j + P_j)), the same output if
      every query attended only to itself.

    `global_pool` is the same attention for the query t_0 (CLIP's own image embedding at the
    trained grid size).

    Args:
        model_name: open_clip config name ('RN50'; any ModifiedResNet config).
        model_cfg: explicit open_clip config dict instead of model_name (tests, demos: TINY_RN_CLIP_CFG).
        weights: local CLIP weights file (see clip.loader). None = RANDOM weights (tests/demos only;
            logged as a warning).
        quick_gelu: activation of the checkpoint (True for OpenAI weights; only the text tower uses it).
        save_weights: keep the frozen weights in state_dict (default: left out, see clip.frozen).
        dense_mode: 'msa' (Text4Point Eq. 1) | 'value' (value-only projection, earlier behaviour).
    """

    def __init__(self, model_name: str = "RN50", model_cfg: dict | None = None, weights: str | None = None,
                 quick_gelu: bool = True, save_weights: bool = False, dense_mode: str = "msa"):
        super().__init__(save_weights)
        if dense_mode not in ("msa", "value"):
            raise ValueError(f"CLIPDenseImageEncoder: dense_mode must be 'msa' or 'value', got {dense_mode!r}")
        self.dense_mode = dense_mode
        clip = open_clip_from_config("CLIPDenseImageEncoder", model_name, model_cfg, weights, quick_gelu)
        visual = clip.visual
        if not hasattr(visual, "attnpool") or not hasattr(visual, "layer4"):
            raise TypeError(f"CLIPDenseImageEncoder needs a ResNet-style CLIP (open_clip ModifiedResNet, e.g. "
                            f"RN50); {model_name!r} has a {type(visual).__name__} image tower")
        self.visual = visual  # the text tower is dropped with `clip`
        self.embed_dim = int(visual.attnpool.c_proj.out_features)
        self.feat_channels = int(visual.attnpool.v_proj.in_features)
        grid = visual.attnpool.positional_embedding.shape[0] - 1
        self.grid_size = int(round(grid ** 0.5))
        self.freeze_()

    def forward_features(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised images -> (B, C, H/32, W/32) layer4 map (C = 2048 for RN50)."""
        v = self.visual
        x = images.to(v.conv1.weight.dtype)
        x = v.stem(x)
        return v.layer4(v.layer3(v.layer2(v.layer1(x))))

    def positional_embedding(self, h: int, w: int) -> torch.Tensor:
        """(1 + h*w, C) attention-pool positional embedding: the global row, then the grid resized to (h, w)."""
        pos = self.visual.attnpool.positional_embedding
        s = self.grid_size
        if (h, w) == (s, s):
            return pos
        grid = pos[1:].reshape(s, s, -1).permute(2, 0, 1)[None]  # (1, C, s, s); rows are y-major, as HW flattening
        grid = F.interpolate(grid.float(), size=(h, w), mode="bilinear", align_corners=False).to(pos.dtype)
        return torch.cat([pos[:1], grid[0].flatten(1).t()], dim=0)

    def dense_head(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) layer4 map -> (B, D, h, w) per dense_mode (see the class docstring)."""
        b, c, h, w = feat.shape
        pool = self.visual.attnpool
        if self.dense_mode == "value":
            x = feat.flatten(2).transpose(1, 2) + self.positional_embedding(h, w)[1:].to(feat.dtype)  # (B, hw, C)
            x = pool.c_proj(pool.v_proj(x))  # (B, hw, D)
        else:
            x = self._attention(feat, all_queries=True)[1:].transpose(0, 1)  # (B, hw, D)
        return x.transpose(1, 2).reshape(b, self.embed_dim, h, w)

    def _attention(self, feat: torch.Tensor, all_queries: bool) -> torch.Tensor:
        """The attention pool on [mean; positions] + pos: outputs (1 or 1 + hw, B, D) for the global
        query only, or for every token as query."""
        pool = self.visual.attnpool
        b, c, h, w = feat.shape
        x = feat.flatten(2).permute(2, 0, 1)  # (hw, B, C)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        x = x + self.positional_embedding(h, w)[:, None].to(x.dtype)
        out, _ = F.multi_head_attention_forward(
            query=x if all_queries else x[:1], key=x, value=x, embed_dim_to_check=c, num_heads=pool.num_heads,
            q_proj_weight=pool.q_proj.weight, k_proj_weight=pool.k_proj.weight, v_proj_weight=pool.v_proj.weight,
            in_proj_weight=None, in_proj_bias=torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
            out_proj_weight=pool.c_proj.weight, out_proj_bias=pool.c_proj.bias,
            use_separate_proj_weight=True, training=False, need_weights=False)
        return out

    def global_pool(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) layer4 map -> (B, D): CLIP's attention pool with the resized positional embedding."""
        return self._attention(feat, all_queries=False)[0]

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) float images normalised with CLIP_MEAN/CLIP_STD -> (B, D, H/32, W/32).

        Runs without autograd: the encoder is frozen and its input needs no gradient.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"CLIPDenseImageEncoder: expected (B, 3, H, W) images, got {tuple(images.shape)}")
        return self.dense_head(self.forward_features(images))
