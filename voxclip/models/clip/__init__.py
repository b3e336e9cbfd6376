"""CLIP components: image transformer on point tokens (EPCL); ResNet image/text encoders and prompts
(Text4Point). Importing registers the modules in MODELS."""
from .frozen import FrozenTower
from .image_encoder import CLIP_MEAN, CLIP_STD, CLIPDenseImageEncoder, normalize_images
from .loader import (DEFAULT_WEIGHTS, DOWNLOAD_HINT, build_open_clip, build_open_clip_visual, download_hint,
                     load_open_clip, load_open_clip_visual)
from .point_encoder import ClipTransformerEncoder
from .prompts import FixedPrompts, PromptLearner, build_text_encoder
from .summary import format_parameter_summary, summarize_parameters
from .text_encoder import CLIPTextEncoder, clip_tokenizer
from .tiny import TINY_RN_CLIP_CFG, TINY_VIT_CLIP_CFG

__all__ = ["FrozenTower", "ClipTransformerEncoder", "load_open_clip_visual", "build_open_clip_visual", "DOWNLOAD_HINT",
           "summarize_parameters", "format_parameter_summary",
           "build_open_clip", "load_open_clip", "download_hint", "DEFAULT_WEIGHTS", "TINY_RN_CLIP_CFG", "TINY_VIT_CLIP_CFG",
           "CLIPDenseImageEncoder", "CLIP_MEAN", "CLIP_STD", "normalize_images",
           "CLIPTextEncoder", "clip_tokenizer", "FixedPrompts", "PromptLearner", "build_text_encoder"]
