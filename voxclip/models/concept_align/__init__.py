"""Concept-alignment distillation (point-transformer pretraining from CLIP + ClipCap prefixes,
docs/concept_align.md). Importing registers the modules in MODELS."""
from .cache import PrefixCache, pair_key
from .clipcap import CLIPCAP_HINT, ClipCapMapper, MLPMapper, TransformerMapper
from .concept_module import ConceptBlock, ConceptExtractor, ConceptProjector, CrossAttention
from .losses import concept_alignment_loss
from .pretrain import ConceptAlignPretrainer
from .teacher import CLIPImageEmbedder, ConceptTeacher

__all__ = ["PrefixCache", "pair_key", "CLIPCAP_HINT", "ClipCapMapper", "MLPMapper", "TransformerMapper",
           "ConceptBlock", "ConceptExtractor", "ConceptProjector", "CrossAttention", "concept_alignment_loss",
           "ConceptAlignPretrainer", "CLIPImageEmbedder", "ConceptTeacher"]
