"""Frozen CLIP text tower that also accepts token EMBEDDINGS (for learned prompt contexts, CoOp).

Layout: open_clip's text Transformer has had `batch_first` (True by default since 2.24; 3.3.0 here);
with batch_first=False its blocks expect (L, B, D). The blocks are run here directly in the layout
their attention was built for, so results do not depend on the open_clip version (as in
point_encoder.py).
"""
from __future__ import annotations

import functools
from typing import Sequence

import torch
from torch import nn

from voxclip.registry import MODELS

from .frozen import FrozenTower
from .loader import open_clip_from_config

__all__ = ["CLIPTextEncoder", "clip_tokenizer"]



@functools.lru_cache(maxsize=4)
def clip_tokenizer(context_length: int = 77):
    """open_clip's CLIP BPE tokenizer; its vocabulary ships inside the package (works offline).

    Cached (building it parses the 1.3 MB BPE file) and kept off the modules, so deepcopy/pickle
    of a model never touches it.
    """
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer(context_length=context_length)


@MODELS.register_module()
class CLIPTextEncoder(FrozenTower):
    """Frozen CLIP text transformer: texts or (K, L, width) token embeddings -> (K, D) text embeddings.

    Only the text parts of open_clip.CLIP are kept (token_embedding, positional_embedding,
    transformer, ln_final, text_projection, attn_mask); every parameter has requires_grad=False and
    the module stays in eval mode. D = embed_dim (1024 for RN50), width = 512 for RN50.

    Args:
        model_name: open_clip config name ('RN50').
        model_cfg: explicit open_clip config dict instead of model_name (tests, demos: TINY_RN_CLIP_CFG).
        weights: local CLIP weights file (see clip.loader). None = RANDOM weights (tests/demos only;
            logged as a warning).
        quick_gelu: activation of the checkpoint (True for OpenAI weights).
        save_weights: keep the frozen weights in state_dict (default: left out, see clip.frozen).
    """

    def __init__(self, model_name: str = "RN50", model_cfg: dict | None = None, weights: str | None = None,
                 quick_gelu: bool = True, save_weights: bool = False):
        super().__init__(save_weights)
        clip = open_clip_from_config("CLIPTextEncoder", model_name, model_cfg, weights, quick_gelu)
        pool_type = getattr(clip, "text_pool_type", "argmax")
        if pool_type != "argmax":
            # encode_token_embeddings pools at the EOT index, which is what 'argmax' does for CLIP's tokenizer.
            raise ValueError(f"CLIPTextEncoder: text pool type {pool_type!r} is not supported (CLIP's is 'argmax')")
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.transformer = clip.transformer
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer("attn_mask", clip.attn_mask, persistent=False)
        self.context_length = int(clip.context_length)
        self.width = int(self.token_embedding.embedding_dim)
        proj = self.text_projection
        self.embed_dim = int(proj.out_features if isinstance(proj, nn.Linear)
                             else proj.shape[1] if proj is not None else self.width)
        self.batch_first = bool(getattr(self.transformer, "batch_first", False))
        self.freeze_()

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """list of K strings -> (K, context_length) int64 CLIP tokens ([SOS] ... [EOT] 0-padding), on CPU.

        Texts longer than the context are cut, keeping [EOT] last (open_clip's behaviour).
        """
        if isinstance(texts, str):
            texts = [texts]
        return clip_tokenizer(self.context_length)(list(texts)).long()

    def encode_token_embeddings(self, x: torch.Tensor, eot_index: torch.Tensor) -> torch.Tensor:
        """(K, L, width) token embeddings, (K,) EOT positions -> (K, D) text embeddings (not normalised).

        Gradients flow into x (the encoder's own weights are frozen). L may be shorter than the
        context length: the attention is causal, so the first L positions do not depend on the rest.
        With x = token_embedding(tokens) and eot_index = tokens.argmax(-1) this equals
        open_clip.CLIP.encode_text(tokens).
        """
        if x.dim() != 3 or x.shape[-1] != self.width or x.shape[1] > self.context_length:
            raise ValueError(f"CLIPTextEncoder: expected (K, L<={self.context_length}, {self.width}) "
                             f"embeddings, got {tuple(x.shape)}")
        length = x.shape[1]
        x = x.to(self.positional_embedding.dtype) + self.positional_embedding[:length]
        mask = self.attn_mask[:length, :length] if self.attn_mask is not None else None
        if not self.batch_first:
            x = x.transpose(0, 1)  # (K, L, W) -> (L, K, W)
        for blk in self.transformer.resblocks:
            x = blk(x, attn_mask=mask)
        if not self.batch_first:
            x = x.transpose(0, 1)
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), eot_index.to(x.device).long()]  # (K, width)
        proj = self.text_projection
        if isinstance(proj, nn.Linear):
            return proj(x)
        return x @ proj if proj is not None else x

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """list of K strings -> (K, D) text embeddings (not normalised), without autograd."""
        tokens = self.tokenize(texts).to(self.token_embedding.weight.device)
        return self.encode_token_embeddings(self.token_embedding(tokens), tokens.argmax(dim=-1))
