"""S4Token (Mei et al. 2025): superpoint-guided, scale-normalised tokens for a frozen CLIP ViT,
self-supervised pre-training, superpoint propagation and annotation-free inference (docs/s4token.md).
Importing registers S4Tokenizer, FrozenPointViT, CLIPViTDenseEncoder, QueryDecoder,
S4TokenPretrainer and S4TokenOpenVocab in MODELS."""
from .clip_vit import CLIPViTDenseEncoder, FrozenPointViT
from .decoder import QueryDecoder
from .ema import cosine_momentum, ema_update_
from .openvocab import S4TokenOpenVocab
from .pretrain import S4TokenPretrainer
from .propagation import propagate_features, superpoint_mean
from .sinkhorn import sinkhorn_knopp
from .text import DEFAULT_TEMPLATES, prompt_embeddings
from .tokenizer import S4Tokenizer, S4TokenizerOutput
from .wfps import superpoint_weights, weighted_fps, weighted_fps_torch

__all__ = ["CLIPViTDenseEncoder", "FrozenPointViT", "QueryDecoder", "cosine_momentum", "ema_update_",
           "S4TokenOpenVocab", "S4TokenPretrainer", "propagate_features", "superpoint_mean", "sinkhorn_knopp",
           "DEFAULT_TEMPLATES", "prompt_embeddings", "S4Tokenizer", "S4TokenizerOutput", "superpoint_weights",
           "weighted_fps", "weighted_fps_torch"]
