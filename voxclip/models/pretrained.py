"""Initialise a module from the ``prefix``-ed weights of a (pretraining) checkpoint.

One mechanism for every method (``../shared/docs/methods.md``): a fine-tuning config names the
checkpoint and the key prefix. The load is weights-only (``voxclip.engine.checkpoint_io``) and strict
by default: every weight of the module must be under the prefix with its shape, and nothing else may
be; ``strict=False`` (``pretrained=dict(..., strict=False)``, ``init_cfg=dict(..., strict=False)``)
loads the matching part and logs the rest.
"""
from __future__ import annotations

import os
from typing import Optional

from mmengine.logging import print_log
from torch import nn

__all__ = ["load_pretrained_backbone", "PretrainedPartsMixin"]


def load_pretrained_backbone(module: nn.Module, checkpoint: str, prefix: str = "backbone.",
                             producer: Optional[str] = None, map_location: str = "cpu",
                             strict: bool = True) -> dict:
    """Load the ``prefix``-ed weights of a (pretraining) checkpoint into ``module``.

    Accepts ``{'state_dict': {...}}`` (mmengine checkpoints) or a bare state dict, loaded weights-only.
    ``strict`` (default): a module weight missing under the prefix, a ``prefix`` key the module does
    not have, or one of another shape is an error listing them. ``strict=False``: those keep their
    initial values and are logged. A file that does not exist, cannot be read, or holds no ``prefix``
    key is a one-line error. Returns ``dict(loaded, missing, unexpected, mismatched)`` (lists of names).
    """
    hint = f"; produce it with: python tools/train.py {producer}" if producer else ""
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"{checkpoint}: pretrained backbone checkpoint not found{hint}")
    from voxclip.engine.checkpoint_io import CheckpointError, load_checkpoint_file

    try:
        ckpt = load_checkpoint_file(checkpoint, map_location=map_location, what="pretrained checkpoint")
    except CheckpointError as exc:
        raise CheckpointError(f"{exc}{hint}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{checkpoint}: not a state dict checkpoint{hint}")
    prefix = prefix or ""
    sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not sub:
        some = ", ".join(list(state)[:3])
        raise KeyError(f"{checkpoint}: no '{prefix}*' weights (keys start like: {some}){hint}")
    own = module.state_dict()
    mismatched = [k for k, v in sub.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    usable = {k: v for k, v in sub.items() if k in own and k not in mismatched}
    result = module.load_state_dict(usable, strict=False)
    info = dict(loaded=sorted(usable), missing=sorted(result.missing_keys),
                unexpected=sorted(k for k in sub if k not in own), mismatched=sorted(mismatched))
    if strict and (info["missing"] or info["unexpected"] or info["mismatched"]):
        from voxclip.engine.runner import format_fit_error

        shapes = [f"{k}: {tuple(sub[k].shape)} vs {tuple(own[k].shape)}" for k in info["mismatched"]]
        raise CheckpointError(format_fit_error(
            checkpoint, f"{type(module).__name__} (keys under '{prefix}')",
            dict(missing=info["missing"], unexpected=info["unexpected"], mismatched=shapes)
        ).replace("--strict false", "strict=False in the pretrained/init_cfg dict") + hint)
    print_log(f"loaded {len(usable)} '{prefix}*' tensors of {checkpoint} into {type(module).__name__}"
              + "".join(f"; {name}: {info[name][:5]}{'...' if len(info[name]) > 5 else ''}"
                        for name in ("missing", "unexpected", "mismatched") if info[name]),
              logger="current")
    return info


class PretrainedPartsMixin:
    """``pretrained=dict(checkpoint=PATH, parts={'tokenizer': 'tokenizer.', 'encoder': 'encoder.'},
    producer=CONFIG)`` on a downstream model: each named submodule takes the weights under its
    prefix in ``init_weights()`` (the Runner calls it before ``load_from``/resume). Every
    pretraining package stores its student as ``tokenizer.*`` and ``encoder.*`` so that this default
    fits 3DETR, the classifier and the token segmentation head alike."""

    DEFAULT_PARTS = {"tokenizer": "tokenizer.", "encoder": "encoder."}

    def _set_pretrained(self, pretrained: Optional[dict]) -> None:
        if pretrained is not None:
            unknown = set(pretrained) - {"checkpoint", "parts", "producer", "map_location", "strict"}
            if "checkpoint" not in pretrained or unknown:
                raise ValueError(f"{type(self).__name__}: pretrained needs checkpoint= (and optional parts, "
                                 f"producer, map_location, strict); got keys {sorted(pretrained)}")
        self._pretrained_cfg = pretrained

    def load_pretrained_parts(self) -> dict:
        """Apply the ``pretrained`` config; returns {part: load info}."""
        cfg = getattr(self, "_pretrained_cfg", None)
        if cfg is None:
            return {}
        infos = {}
        for part, prefix in dict(cfg.get("parts") or self.DEFAULT_PARTS).items():
            module = getattr(self, part, None)
            if not isinstance(module, nn.Module):
                raise AttributeError(f"{type(self).__name__}: pretrained part '{part}' is not a submodule")
            infos[part] = load_pretrained_backbone(module, cfg["checkpoint"], prefix, cfg.get("producer"),
                                                   cfg.get("map_location", "cpu"), cfg.get("strict", True))
        return infos

    def init_weights(self) -> None:
        super().init_weights()  # type: ignore[misc]
        self.load_pretrained_parts()
