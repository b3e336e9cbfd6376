"""Build an open_clip CLIP model and load it from a LOCAL weights file (no network access).

The file may be an open_clip state dict (.bin / .pt / .safetensors, e.g. the
`open_clip_pytorch_model.bin` of hf-hub:timm/vit_base_patch16_clip_224.openai) or OpenAI's original
TorchScript archive (ViT-B-16.pt, RN50.pt). Either goes through open_clip's own state-dict conversion.
`load_open_clip` returns the whole model (image and text towers); `load_open_clip_visual` its image tower.
"""
from __future__ import annotations

import logging
import os
import zipfile

import torch
from torch import nn

__all__ = ["build_open_clip", "load_open_clip", "open_clip_from_config", "build_open_clip_visual", "load_open_clip_visual",
           "download_hint", "DOWNLOAD_HINT", "DEFAULT_WEIGHTS"]

logger = logging.getLogger(__name__)

# Where the configs expect each model's weights (relative to the repository root).
DEFAULT_WEIGHTS = {
    "ViT-B-16": "checkpoints/clip/open_clip_vit_b16_openai.bin",
    "ViT-B-32": "checkpoints/clip/open_clip_vit_b32_openai.bin",
    "RN50": "checkpoints/clip/RN50-openai.pt",
}

# What to download for each model (either file holds OpenAI's 'openai' weights; the loader tells them apart).
_DOWNLOADS = {
    "ViT-B-16": ("the open_clip ViT-B-16 'openai' checkpoint, e.g. open_clip_pytorch_model.bin from "
                 "https://huggingface.co/timm/vit_base_patch16_clip_224.openai (or OpenAI's ViT-B-16.pt)"),
    "ViT-B-32": ("the open_clip ViT-B-32 'openai' checkpoint, e.g. open_clip_pytorch_model.bin from "
                 "https://huggingface.co/timm/vit_base_patch32_clip_224.openai (or OpenAI's ViT-B-32.pt)"),
    "RN50": ("OpenAI's RN50.pt (https://openaipublic.azureedge.net/clip/models/"
             "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt) or the open_clip "
             "RN50 'openai' weights (open_clip_pytorch_model.bin from "
             "https://huggingface.co/timm/resnet50_clip.openai)"),
}


def download_hint(model_name: str) -> str:
    """One sentence saying which file to download for `model_name` and where to put it."""
    what = _DOWNLOADS.get(model_name, f"the open_clip {model_name!r} weights "
                                      f"(see open_clip.list_pretrained_tags_by_model({model_name!r}))")
    where = DEFAULT_WEIGHTS.get(model_name)
    where = f" (default: {where})" if where else ""
    return (f"download {what}, and put it at that path{where}, or set the CLIP module's `weights` "
            f"in the config (e.g. model.clip.weights); tools/make_random_clip.py writes a random, NOT "
            f"pretrained file for demos")


DOWNLOAD_HINT = download_hint("ViT-B-16")  # kept for EPCL's messages and older imports


def build_open_clip(model_name: str = "RN50", model_cfg: dict | None = None, quick_gelu: bool = True) -> nn.Module:
    """Randomly initialised open_clip.CLIP (image + text towers).

    model_cfg (an open_clip config dict: embed_dim, vision_cfg, text_cfg) takes precedence over
    model_name; quick_gelu must match the checkpoint that will be loaded (True for OpenAI weights).
    """
    import open_clip

    cfg = dict(model_cfg) if model_cfg is not None else open_clip.get_model_config(model_name)
    if cfg is None:
        raise ValueError(f"open_clip has no model config named {model_name!r}; pass model_cfg instead")
    cfg.pop("quick_gelu", None)  # some open_clip json configs carry it; ours is an argument
    return open_clip.CLIP(**cfg, quick_gelu=quick_gelu)


def _is_torchscript(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.endswith("constants.pkl") for n in zf.namelist())


def load_open_clip(weights: str, model_name: str = "RN50", model_cfg: dict | None = None,
                   quick_gelu: bool = True) -> nn.Module:
    """open_clip.CLIP with every weight (both towers) from the local file `weights`.

    Raises FileNotFoundError (with what to download for `model_name`) when the file does not exist
    and RuntimeError naming the file when it does not fit the architecture (strict loading).
    """
    if not weights or not os.path.isfile(weights):
        if model_cfg is not None:  # a custom architecture: nothing to download, only the demo tool writes it
            from .tiny import TINY_RN_CLIP_CFG

            arch = "tiny" if dict(model_cfg) == dict(TINY_RN_CLIP_CFG) else None
            how = (f"python tools/make_random_clip.py {weights} --model-cfg tiny" if arch else
                   "tools/make_random_clip.py (or your own training) for this model_cfg")
            raise FileNotFoundError(f"{weights}: CLIP weights file not found; this config's CLIP is a custom "
                                    f"model_cfg architecture with no released weights: write the random demo "
                                    f"file with {how}")
        raise FileNotFoundError(f"{weights}: CLIP weights file not found; {download_hint(model_name)}")
    import open_clip

    model = build_open_clip(model_name, model_cfg, quick_gelu)
    try:
        if _is_torchscript(weights):
            # OpenAI archive: fp16 tensors, copied (and cast) into the fp32 open_clip model. Its extra
            # scalars, and the causal mask a scripted open_clip model saves, are not weights.
            state = torch.jit.load(weights, map_location="cpu").state_dict()
            for key in ("input_resolution", "context_length", "vocab_size", "attn_mask"):
                state.pop(key, None)
            model.load_state_dict(state, strict=True)
        else:
            open_clip.load_checkpoint(model, weights, strict=True)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise RuntimeError(f"{weights}: does not fit open_clip model {model_name!r} "
                           f"(quick_gelu={quick_gelu}): {str(exc).splitlines()[0]}") from exc
    logger.info("loaded CLIP %s from %s", model_name if model_cfg is None else "(model_cfg)", weights)
    return model


def open_clip_from_config(owner: str, model_name: str = "RN50", model_cfg: dict | None = None,
                          weights: str | None = None, quick_gelu: bool = True) -> nn.Module:
    """The whole CLIP from the local file ``weights``, or RANDOM weights when it is None (tests and
    demos only; ``owner`` names the module in the warning)."""
    if weights is None:
        logger.warning("%s: no weights given -> RANDOM CLIP (only meaningful for tests and demos)", owner)
        return build_open_clip(model_name, model_cfg, quick_gelu)
    return load_open_clip(weights, model_name, model_cfg, quick_gelu)


def build_open_clip_visual(model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                           quick_gelu: bool = True) -> nn.Module:
    """Randomly initialised open_clip image tower (for tests and demos only)."""
    return build_open_clip(model_name, model_cfg, quick_gelu).visual


def load_open_clip_visual(weights: str, model_name: str = "ViT-B-16", model_cfg: dict | None = None,
                          quick_gelu: bool = True) -> nn.Module:
    """open_clip image tower with weights from the local file `weights` (see load_open_clip)."""
    return load_open_clip(weights, model_name, model_cfg, quick_gelu).visual
