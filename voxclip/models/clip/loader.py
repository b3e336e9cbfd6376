"""Build an open_clip image tower and load it from a LOCAL weights file (no network access).

The file may be an open_clip state dict (.bin / .pt / .safetensors, e.g. the
`open_clip_pytorch_model.bin` of hf-hub:timm/vit_base_patch16_clip_224.openai) or OpenAI's original
TorchScript archive (ViT-B-16.pt). Either goes through open_clip's own state-dict conversion.
"""
from __future__ import annotations

import logging
import os
import zipfile

import torch
from torch import nn

__all__ = ["build_open_clip_visual", "load_open_clip_visual", "DOWNLOAD_HINT"]

DOWNLOAD_HINT = (
    "download the open_clip ViT-B-16 'openai' checkpoint, e.g. open_clip_pytorch_model.bin from "
    "https://huggingface.co/timm/vit_base_patch16_clip_224.openai (or OpenAI's ViT-B-16.pt), and put it at "
    "that path (default: checkpoints/clip/open_clip_vit_b16_openai.bin), or set model.clip.weights in the config")

logger = logging.getLogger(__name__)


def _build_clip(model_name: str, model_cfg: dict | None, quick_gelu: bool) -> nn.Module:
    import open_clip

    cfg = dict(model_cfg) if model_cfg is not None else open_clip.get_model_config(model_name)
    if cfg is None:
        raise ValueError(f"open_clip has no model config named {model_name!r}; pass model_cfg instead")
    return open_clip.CLIP(**cfg, quick_gelu=quick_gelu)


def _is_torchscript(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.endswith("constants.pkl") for n in zf.namelist())


def build_open_clip_visual(model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                           quick_gelu: bool = True) -> nn.Module:
    """Randomly initialised open_clip VisionTransformer (for tests and demos only)."""
    return _build_clip(model_name, model_cfg, quick_gelu).visual


def load_open_clip_visual(weights: str, model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                          quick_gelu: bool = True) -> nn.Module:
    """open_clip VisionTransformer with weights from the local file `weights`.

    quick_gelu must match the checkpoint (True for OpenAI's CLIP weights).
    Raises FileNotFoundError (with what to download) when the file does not exist and
    RuntimeError naming the file when it does not fit the architecture.
    """
    if not weights or not os.path.isfile(weights):
        raise FileNotFoundError(f"{weights}: CLIP weights file not found; {DOWNLOAD_HINT}")
    import open_clip

    model = _build_clip(model_name, model_cfg, quick_gelu)
    try:
        if _is_torchscript(weights):
            state = torch.jit.load(weights, map_location="cpu").state_dict()
            for key in ("input_resolution", "context_length", "vocab_size"):
                state.pop(key, None)
            model.load_state_dict(state, strict=True)
        else:
            open_clip.load_checkpoint(model, weights, strict=True)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise RuntimeError(f"{weights}: does not fit open_clip model {model_name!r} "
                           f"(quick_gelu={quick_gelu}): {str(exc).splitlines()[0]}") from exc
    logger.info("loaded CLIP image tower %s from %s", model_name, weights)
    return model.visual
