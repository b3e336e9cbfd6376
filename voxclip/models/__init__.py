"""Models: backbones (SR-UNet), point tokenizers and transformers, CLIP wrappers, Text4Point modules,
heads, detectors and segmentors; importing registers them."""
from . import backbones, clip, detectors, heads, segmentors, text4point, tokenizers, transformers  # noqa: F401
from . import classifiers  # noqa: F401  (object classification, docs/objects.md)
from . import concept_align  # noqa: F401,E402
from . import mmpd, pointmae  # noqa: F401
from . import s4token  # noqa: F401
