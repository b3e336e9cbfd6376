"""Models: backbones (SR-UNet), point tokenizers and transformers, CLIP wrappers, heads and
detectors; importing registers them."""
from . import backbones, clip, detectors, heads, tokenizers, transformers  # noqa: F401
