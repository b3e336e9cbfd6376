"""The 2D teacher (Sec. 3.3, Eq. 9-10): frozen CLIP image encoder -> frozen ClipCap mapper.

``CLIPImageEmbedder`` is open_clip's image tower, i.e. ``encode_image`` without normalisation (ClipCap
feeds the raw ViT-B/32 embedding to its mapper). ``ConceptTeacher`` returns either the prefix P
(k_cap x d_cap, the paper) or the CLIP embedding I as one token (ablation "w/o caption model").
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.models.clip.frozen import FrozenTower
from voxclip.models.clip.loader import open_clip_from_config
from voxclip.registry import MODELS

__all__ = ["CLIPImageEmbedder", "ConceptTeacher"]


@MODELS.register_module()
class CLIPImageEmbedder(FrozenTower):
    """Frozen open_clip image tower: (B, 3, S, S) CLIP-normalised images -> (B, embed_dim).

    Args: model_name ('ViT-B-32', ClipCap's CLIP), model_cfg (explicit open_clip config, e.g. the
    tiny demo CLIP), weights (local file; None = RANDOM, tests only), quick_gelu (True for OpenAI).
    """

    def __init__(self, model_name: str = "ViT-B-32", model_cfg: dict | None = None, weights: str | None = None,
                 quick_gelu: bool = True, save_weights: bool = False):
        super().__init__(save_weights)
        clip = open_clip_from_config("CLIPImageEmbedder", model_name, model_cfg, weights, quick_gelu)
        self.visual = clip.visual
        self.embed_dim = int(self.visual.output_dim)
        size = getattr(self.visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.freeze_()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"CLIPImageEmbedder: expected (B, 3, H, W) images, got {tuple(images.shape)}")
        return self.visual(images.float()).float()


@MODELS.register_module()
class ConceptTeacher(nn.Module):
    """Args: image_encoder (CLIPImageEmbedder config), mapper (ClipCapMapper config; required for
    target='prefix'), target: 'prefix' (P, Eq. 10) | 'clip' (I as a (1, d_clip) sequence)."""

    def __init__(self, image_encoder: dict, mapper: dict | None = None, target: str = "prefix"):
        super().__init__()
        if target not in ("prefix", "clip"):
            raise ValueError(f"ConceptTeacher: target must be 'prefix' or 'clip', got {target!r}")
        if target == "prefix" and mapper is None:
            raise ValueError("ConceptTeacher: target='prefix' needs a mapper (ClipCapMapper config)")
        self.target = target
        self.image_encoder = MODELS.build(image_encoder)
        self.mapper = MODELS.build(mapper) if target == "prefix" else None
        if self.mapper is not None and self.mapper.clip_dim != self.image_encoder.embed_dim:
            raise ValueError(f"ConceptTeacher: ClipCap mapper expects {self.mapper.clip_dim}-d CLIP embeddings, "
                             f"the image encoder gives {self.image_encoder.embed_dim}")

    @property
    def image_size(self) -> int:
        return self.image_encoder.image_size

    @property
    def target_shape(self) -> tuple[int, int]:
        if self.mapper is None:
            return 1, self.image_encoder.embed_dim
        return self.mapper.prefix_length, self.mapper.prefix_dim

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        emb = self.image_encoder(images)
        return emb[:, None] if self.mapper is None else self.mapper(emb)
