"""Frozen stage-1 teachers: open_clip's CLIP image tower and DINOv2 through timm (the CLIP text
tower is voxclip.models.clip.CLIPTextEncoder). Each takes [0, 1] RGB views (mmpd.views), resizes
them to its own input size and applies its own normalisation; weights come from LOCAL files only.
"""
from __future__ import annotations

import logging
import os

import torch

from voxclip.models.clip import CLIP_MEAN, CLIP_STD, FrozenTower
from voxclip.models.clip.loader import open_clip_from_config
from voxclip.registry import MODELS

from .views import IMAGENET_MEAN, IMAGENET_STD, resize_normalize

__all__ = ["CLIPImageTeacher", "DINOv2Teacher", "dinov2_download_hint", "DINOV2_DEFAULT_WEIGHTS"]

logger = logging.getLogger(__name__)

DINOV2_DEFAULT_WEIGHTS = {
    "vit_small_patch14_dinov2": "checkpoints/dinov2/vit_small_patch14_dinov2.lvd142m.safetensors",
    "vit_base_patch14_dinov2": "checkpoints/dinov2/vit_base_patch14_dinov2.lvd142m.safetensors",
}


def dinov2_download_hint(model_name: str) -> str:
    """Which file to download for a timm DINOv2 model and where to put it (as clip.loader.download_hint)."""
    where = DINOV2_DEFAULT_WEIGHTS.get(model_name)
    where = f" (default: {where})" if where else ""
    return (f"download model.safetensors from https://huggingface.co/timm/{model_name}.lvd142m (timm's "
            f"DINOv2 weights; Meta's dinov2_vit*14_pretrain.pth works too), and put it at that path{where}, "
            f"or set the DINOv2 teacher's `weights` in the config (e.g. model.teachers.dinov2.weights); "
            f"tools/make_random_dinov2.py writes a random, NOT pretrained file for demos")


def _read_state(path: str) -> dict:
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path, device="cpu")
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return state


@MODELS.register_module()
class CLIPImageTeacher(FrozenTower):
    """Frozen open_clip image tower: [0, 1] RGB (B, 3, H, W) -> (B, embed_dim) CLIP image embeddings.

    Args as CLIPTextEncoder (model_name, model_cfg, weights: local file, None = RANDOM with a
    warning, quick_gelu, save_weights). Images are resized to the tower's image_size (224 for
    ViT-B-16) and normalised with CLIP's mean/std.
    """

    def __init__(self, model_name: str = "ViT-B-16", model_cfg: dict | None = None, weights: str | None = None,
                 quick_gelu: bool = True, save_weights: bool = False):
        super().__init__(save_weights)
        self.visual = open_clip_from_config("CLIPImageTeacher", model_name, model_cfg, weights, quick_gelu).visual
        size = getattr(self.visual, "image_size", 224)
        self.image_size = tuple(size) if isinstance(size, (tuple, list)) else (int(size), int(size))
        self.embed_dim = int(self.visual.output_dim)
        self.freeze_()

    @torch.no_grad()
    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.visual(resize_normalize(rgb, self.image_size, CLIP_MEAN, CLIP_STD))


@MODELS.register_module()
class DINOv2Teacher(FrozenTower):
    """Frozen DINOv2 ViT through timm: [0, 1] RGB -> (B, D) global embedding (the final-norm CLS
    token, timm's ``global_pool='token'`` pre-logits).

    Args:
        model_name: timm name, 'vit_small_patch14_dinov2' (D 384) or 'vit_base_patch14_dinov2' (768).
        weights: local weights file (timm's model.safetensors or Meta's .pth; converted by timm's
            ViT checkpoint filter). None = RANDOM weights (tests/demos only; logged as a warning).
        model_kwargs: timm overrides (img_size, and for the random demo file the tiny widths).
        save_weights: keep the frozen weights in state_dict (default: left out, see clip.frozen).
    """

    def __init__(self, model_name: str = "vit_small_patch14_dinov2", weights: str | None = None,
                 model_kwargs: dict | None = None, save_weights: bool = False):
        super().__init__(save_weights)
        import timm
        from timm.models.vision_transformer import checkpoint_filter_fn

        if weights is not None and not os.path.isfile(weights):
            raise FileNotFoundError(f"{weights}: DINOv2 weights file not found; {dinov2_download_hint(model_name)}")
        self.vit = timm.create_model(model_name, pretrained=False, num_classes=0, **dict(model_kwargs or {}))
        if weights is None:
            logger.warning("DINOv2Teacher: no weights given -> RANDOM DINOv2 (only meaningful for tests and demos)")
        else:
            try:
                state = checkpoint_filter_fn(_read_state(weights), self.vit)
                self.vit.load_state_dict(state, strict=True)
            except (RuntimeError, KeyError, ValueError, OSError) as exc:
                raise RuntimeError(f"{weights}: does not fit timm model {model_name!r} "
                                   f"{dict(model_kwargs or {})}: {str(exc).splitlines()[0]}") from exc
            logger.info("loaded DINOv2 %s from %s", model_name, weights)
        self.image_size = tuple(self.vit.patch_embed.img_size)
        self.embed_dim = int(self.vit.num_features)
        self.freeze_()

    @torch.no_grad()
    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.vit(resize_normalize(rgb, self.image_size, IMAGENET_MEAN, IMAGENET_STD))
