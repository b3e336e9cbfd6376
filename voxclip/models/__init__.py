"""Models: backbones (SR-UNet), point tokenizers and transformers, CLIP wrappers, Text4Point modules,
heads and detectors; importing registers them."""
from . import backbones, clip, detectors, heads, text4point, tokenizers, transformers  # noqa: F401
