"""CLIP text embeddings of class names through prompt templates (CLIP's prompt ensembling).

e_c = normalise(mean_t normalise(text_encoder(template_t.format(c)))) for each class c. The
default templates are a handful of CLIP's ImageNet/3D-style prompts (the templates S4Token uses
are not stated; docs/s4token.md). Any list of names works (open vocabulary).
"""
from __future__ import annotations

from typing import Sequence

import torch

from voxclip.models.classifiers.zero_shot import class_text_embeddings

__all__ = ["DEFAULT_TEMPLATES", "prompt_embeddings"]

DEFAULT_TEMPLATES = (
    "a photo of a {}.",
    "a point cloud of a {}.",
    "a 3D scan of a {}.",
    "a {} in a scene.",
    "there is a {} in the room.",
)


def prompt_embeddings(text_encoder, names: Sequence[str], templates: Sequence[str] = DEFAULT_TEMPLATES
                      ) -> torch.Tensor:
    """(C, E) unit text embeddings of ``names`` averaged over ``templates``: the shared
    ``class_text_embeddings`` of the zero-shot classifiers (a template without '{}' is used as is
    around the name: 'template name'), with a check that ``names`` is a list."""
    if isinstance(names, str) or not names:
        raise ValueError(f"prompt_embeddings: names must be a non-empty list of strings, got {names!r}")
    return class_text_embeddings(text_encoder, names, templates).float()
