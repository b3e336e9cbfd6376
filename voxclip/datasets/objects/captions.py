"""Captions of objects for multimodal pretraining: ``captions.json`` beside the data ({id: [strings]}),
with class-name templates as the fallback for objects that have none."""
from __future__ import annotations

import json
import os
from typing import Sequence

__all__ = ["load_captions", "captions_for", "DEFAULT_TEMPLATES"]

# ULIP / PointCLIP-style class-name templates (a short subset of CLIP's ImageNet list)
DEFAULT_TEMPLATES = ("a point cloud model of {}.", "a 3D model of a {}.", "a rendering of a {}.",
                     "a photo of a {}.")


def load_captions(path: str) -> dict:
    """{id: [caption, ...]}; a file that is not such a mapping is a one-line error."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: captions file missing")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read captions JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected an object {{id: [strings]}}, got {type(doc).__name__}")
    for key, value in doc.items():
        if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
            raise ValueError(f"{path}: captions of {key!r} must be a list of non-empty strings")
    return doc


def captions_for(sample_id: str, class_name: str, captions: dict | None = None,
                 templates: Sequence[str] = DEFAULT_TEMPLATES) -> list[str]:
    """The object's own captions when it has any, else the templates filled with its class name."""
    own = (captions or {}).get(sample_id)
    if own:
        return list(own)
    name = class_name.replace("_", " ")
    return [t.format(name) for t in templates]
