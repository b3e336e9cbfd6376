"""Class-name text embeddings for Text4Point: a fixed template, or CoOp's learned context (Sec. 3.4).

Both modules share one interface: `module()` -> (K, D) class embeddings (not normalised), with
attributes `embed_dim` (D) and `class_names` (K names).
"""
from __future__ import annotations

import logging
from typing import Sequence

import torch
from torch import nn

from voxclip.registry import MODELS

from .text_encoder import CLIPTextEncoder, clip_tokenizer

__all__ = ["FixedPrompts", "PromptLearner", "build_text_encoder"]

logger = logging.getLogger(__name__)


def build_text_encoder(text_encoder) -> CLIPTextEncoder:
    """A CLIPTextEncoder instance (returned as is, so several modules can share one) or a config dict."""
    if isinstance(text_encoder, nn.Module):
        return text_encoder
    if isinstance(text_encoder, dict):
        cfg = dict(text_encoder)
        cfg.setdefault("type", "CLIPTextEncoder")
        return MODELS.build(cfg)
    raise TypeError(f"text_encoder must be a CLIPTextEncoder or a config dict, got {type(text_encoder).__name__}")


def _check_names(class_names) -> tuple[str, ...]:
    if isinstance(class_names, str) or not class_names:
        raise ValueError(f"class_names must be a non-empty list of strings, got {class_names!r}")
    return tuple(str(n) for n in class_names)


@MODELS.register_module()
class FixedPrompts(nn.Module):
    """Hand-written template ("point cloud of {}.", the paper's Sec. 3.3) -> (K, D) embeddings.

    Computed once at construction; the text encoder is NOT kept (nothing to train, nothing to
    recompute), so the module holds only a (K, D) non-persistent buffer that follows .to(device).
    """

    def __init__(self, text_encoder, class_names: Sequence[str], template: str = "point cloud of {}."):
        super().__init__()
        self.class_names = _check_names(class_names)
        self.template = template
        encoder = build_text_encoder(text_encoder)
        self.embed_dim = encoder.embed_dim
        texts = [template.format(name) for name in self.class_names]
        self.register_buffer("embeddings", encoder.encode_texts(texts).detach().clone(), persistent=False)

    def forward(self) -> torch.Tensor:
        """() -> (K, D) class embeddings."""
        return self.embeddings


@MODELS.register_module()
class PromptLearner(nn.Module):
    """CoOp unified context (Zhou et al. 2022): [SOS][ctx_1..ctx_M][class name tokens][.][EOT] -> (K, D).

    ctx (M, width) is the only trainable parameter, shared by all classes and initialised
    N(0, ctx_std^2) as in CoOp; the text encoder is frozen. In train mode each call runs the text
    encoder (gradient into ctx). In eval mode the embeddings are computed once without autograd and
    cached, so inference costs nothing beyond a stored (K, D) tensor (the paper's "pre-calculated"
    embeddings); the cache is dropped by .train() and when ctx changes (in-place updates bump
    ctx._version; .to()/load_state_dict change its version, storage or device).

    Args:
        text_encoder: a CLIPTextEncoder (shared as is) or its config dict (built via MODELS).
        class_names: K class names, e.g. ScanNet's 'shower curtain'.
        n_ctx: number of learned context tokens M.
        ctx_std: std of the context initialisation.
    """

    def __init__(self, text_encoder, class_names: Sequence[str], n_ctx: int = 8, ctx_std: float = 0.02):
        super().__init__()
        if n_ctx < 1:
            raise ValueError(f"PromptLearner: n_ctx must be >= 1, got {n_ctx}")
        self.class_names = _check_names(class_names)
        self.text_encoder = build_text_encoder(text_encoder)
        self.n_ctx = n_ctx
        self.embed_dim = self.text_encoder.embed_dim
        # Placeholder words stand where ctx goes; each "X" is exactly one BPE token (CoOp does the same).
        # The EOT position is checked, so a long class name cannot silently lose its end token.
        name_lens = [len(self._class_tokens(n)) for n in self.class_names]
        longest = max(name_lens)
        if 1 + n_ctx + longest + 2 > self.text_encoder.context_length:
            raise ValueError(f"PromptLearner: n_ctx={n_ctx} plus the longest class name ({longest} tokens) "
                             f"does not fit CLIP's {self.text_encoder.context_length}-token context")
        prompts = [" ".join(["X"] * n_ctx) + " " + name + "." for name in self.class_names]
        tokens = self.text_encoder.tokenize(prompts)
        eot = tokens.argmax(dim=-1)
        expected = torch.tensor([1 + n_ctx + n + 1 for n in name_lens])
        if not torch.equal(eot, expected):
            raise RuntimeError(f"PromptLearner: unexpected prompt token layout (EOT at {eot.tolist()}, "
                               f"expected {expected.tolist()})")
        with torch.no_grad():
            embedded = self.text_encoder.token_embedding(tokens.to(self.text_encoder.token_embedding.weight.device))
        # Only what surrounds ctx is stored; tokens are kept for inspection.
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("eot_index", eot, persistent=False)
        self.register_buffer("token_prefix", embedded[:, :1].clone(), persistent=False)  # [SOS]
        self.register_buffer("token_suffix", embedded[:, 1 + n_ctx:].clone(), persistent=False)  # name . EOT pad
        width = self.text_encoder.width
        self.ctx = nn.Parameter(torch.empty(n_ctx, width, dtype=embedded.dtype))
        nn.init.normal_(self.ctx, std=ctx_std)
        self._cache: torch.Tensor | None = None
        self._cache_key = None

    def _class_tokens(self, name: str) -> list[int]:
        return clip_tokenizer(self.text_encoder.context_length).encode(name)

    def prompt_embeddings(self) -> torch.Tensor:
        """(K, context_length, width): [SOS], the shared ctx, then each class's name/./EOT embeddings."""
        k = self.token_prefix.shape[0]
        ctx = self.ctx[None].expand(k, -1, -1)
        return torch.cat([self.token_prefix, ctx.to(self.token_prefix.dtype), self.token_suffix], dim=1)

    def _encode(self) -> torch.Tensor:
        return self.text_encoder.encode_token_embeddings(self.prompt_embeddings(), self.eot_index)

    def train(self, mode: bool = True):
        self._cache, self._cache_key = None, None
        return super().train(mode)

    def forward(self) -> torch.Tensor:
        """() -> (K, D) class embeddings (train: with grad into ctx; eval: the cached tensor)."""
        if self.training:
            return self._encode()
        key = (self.ctx._version, self.ctx.data_ptr(), self.ctx.device, self.ctx.dtype)
        if self._cache is None or self._cache_key != key:
            with torch.no_grad():
                self._cache = self._encode()
            self._cache_key = key
        return self._cache

    def extra_repr(self) -> str:
        return f"n_ctx={self.n_ctx}, num_classes={len(self.class_names)}, embed_dim={self.embed_dim}"
