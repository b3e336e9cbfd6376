"""ClipCap mapping networks (Mokady et al. 2021) as a frozen tower: CLIP embedding I -> prefix P.

The weights come from a released ClipCap checkpoint (a plain ``ClipCaptionModel`` state dict:
``coco_weights.pt``, ``conceptual_weights.pt``, the transformer-mapper files); only its
``clip_project.*`` keys are read, GPT-2 (``gpt.*``) is never built. Layouts, as in ClipCap:

- ``mapping='mlp'``: ``clip_project.model.{0,2}.{weight,bias}``; Linear(d_clip, d_cap*l/2) -> Tanh ->
  Linear(d_cap*l/2, d_cap*l), viewed as (l, d_cap). COCO / Conceptual Captions: 512 -> 3840 -> 7680,
  l = 10, d_cap = 768.
- ``mapping='transformer'``: ``clip_project.linear.*`` (d_clip -> clip_length*d_cap),
  ``clip_project.prefix_const`` (l, d_cap), ``clip_project.transformer.layers.N.{norm1, attn.to_queries,
  attn.to_keys_values, attn.project, norm2, mlp.fc1, mlp.fc2}.*``; 8 heads, MLP ratio 2, ReLU, no bias
  on the query / key-value projections; the input to the transformer is [linear(I) viewed as
  (clip_length, d_cap) ; prefix_const], the output its last l positions.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from voxclip.models.clip.frozen import FrozenTower
from voxclip.registry import MODELS

__all__ = ["ClipCapMapper", "MLPMapper", "TransformerMapper", "CLIPCAP_HINT", "CLIPCAP_PREFIX"]

CLIPCAP_PREFIX = "clip_project."
CLIPCAP_HINT = ("download a ClipCap checkpoint (github.com/rmokady/CLIP_prefix_caption: conceptual_weights.pt "
                "or coco_weights.pt for the MLP mapper, the transformer-mapper weights for mapping='transformer') "
                "and set the mapper's `checkpoint`; tools/make_random_clipcap.py writes a random, NOT "
                "pretrained file for demos")


class MLPMapper(nn.Module):
    def __init__(self, clip_dim: int, prefix_dim: int, prefix_length: int):
        super().__init__()
        self.prefix_length, self.prefix_dim = prefix_length, prefix_dim
        hidden = prefix_dim * prefix_length // 2
        self.model = nn.Sequential(nn.Linear(clip_dim, hidden), nn.Tanh(), nn.Linear(hidden, prefix_dim * prefix_length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).view(x.shape[0], self.prefix_length, self.prefix_dim)


class _Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.to_queries = nn.Linear(dim, dim, bias=False)
        self.to_keys_values = nn.Linear(dim, 2 * dim, bias=False)
        self.project = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        h = self.num_heads
        q = self.to_queries(x).view(b, n, h, c // h).transpose(1, 2)
        k, v = self.to_keys_values(x).view(b, n, 2, h, c // h).permute(2, 0, 3, 1, 4)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return self.project(out.transpose(1, 2).reshape(b, n, c))


class _FFN(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class _Layer(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), _Attention(dim, num_heads)
        self.norm2, self.mlp = nn.LayerNorm(dim), _FFN(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _Transformer(nn.Module):
    def __init__(self, dim: int, num_heads: int, num_layers: int, mlp_ratio: float):
        super().__init__()
        self.layers = nn.ModuleList([_Layer(dim, num_heads, mlp_ratio) for _ in range(num_layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class TransformerMapper(nn.Module):
    def __init__(self, clip_dim: int, prefix_dim: int, prefix_length: int, clip_length: int,
                 num_layers: int = 8, num_heads: int = 8, mlp_ratio: float = 2.0):
        super().__init__()
        if prefix_dim % num_heads:
            raise ValueError(f"TransformerMapper: prefix_dim {prefix_dim} not divisible by {num_heads} heads")
        self.clip_length = clip_length
        self.transformer = _Transformer(prefix_dim, num_heads, num_layers, mlp_ratio)
        self.linear = nn.Linear(clip_dim, clip_length * prefix_dim)
        self.prefix_const = nn.Parameter(torch.randn(prefix_length, prefix_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(x).view(x.shape[0], self.clip_length, -1)
        const = self.prefix_const[None].expand(x.shape[0], -1, -1)
        return self.transformer(torch.cat([x, const], dim=1))[:, self.clip_length:]


@MODELS.register_module()
class ClipCapMapper(FrozenTower):
    """Frozen ClipCap mapping network: (B, d_clip) CLIP image embeddings -> (B, l, d_cap) prefixes.

    Args:
        checkpoint: local ClipCap state-dict file (``clip_project.*`` keys are read, weights only).
            None = RANDOM weights (tests only).
        mapping: 'mlp' | 'transformer'.
        clip_dim: d_clip (512 for ViT-B/32). prefix_dim: d_cap (768, GPT-2). prefix_length: l (10).
        clip_length: transformer mapper only (ClipCap's prefix_length_clip, 10 in its COCO command).
        num_layers, num_heads, mlp_ratio: transformer mapper only (8, 8, 2.0 in ClipCap).
    """

    def __init__(self, checkpoint: str | None, mapping: str = "mlp", clip_dim: int = 512, prefix_dim: int = 768,
                 prefix_length: int = 10, clip_length: int = 10, num_layers: int = 8, num_heads: int = 8,
                 mlp_ratio: float = 2.0, save_weights: bool = False):
        super().__init__(save_weights)
        if mapping == "mlp":
            self.mapper = MLPMapper(clip_dim, prefix_dim, prefix_length)
        elif mapping == "transformer":
            self.mapper = TransformerMapper(clip_dim, prefix_dim, prefix_length, clip_length, num_layers,
                                            num_heads, mlp_ratio)
        else:
            raise ValueError(f"ClipCapMapper: mapping must be 'mlp' or 'transformer', got {mapping!r}")
        self.mapping, self.clip_dim = mapping, clip_dim
        self.prefix_dim, self.prefix_length = prefix_dim, prefix_length
        self.checkpoint = checkpoint
        if checkpoint is not None:
            self.load_clipcap(checkpoint)
        self.freeze_()

    def load_clipcap(self, path: str) -> None:
        """Strictly load the ``clip_project.*`` tensors of ``path``; the first missing, unexpected or
        wrongly shaped key is a one-line error naming the file."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: ClipCap checkpoint not found; {CLIPCAP_HINT}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{path}: cannot read ClipCap checkpoint ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise ValueError(f"{path}: not a ClipCap state dict (got {type(state).__name__})")
        sub = {k[len(CLIPCAP_PREFIX):]: v for k, v in state.items() if k.startswith(CLIPCAP_PREFIX)}
        if not sub:
            raise KeyError(f"{path}: no '{CLIPCAP_PREFIX}*' keys (starts like {', '.join(list(state)[:3])}); "
                           f"not a ClipCap checkpoint")
        own = self.mapper.state_dict()
        for key, ref in own.items():
            if key not in sub:
                raise KeyError(f"{path}: ClipCap key '{CLIPCAP_PREFIX}{key}' missing for mapping='{self.mapping}' "
                               f"(the file has e.g. {', '.join(list(sub)[:3])})")
            if tuple(sub[key].shape) != tuple(ref.shape):
                raise ValueError(f"{path}: ClipCap key '{CLIPCAP_PREFIX}{key}' has shape {tuple(sub[key].shape)}, "
                                 f"mapping='{self.mapping}' with clip_dim={self.clip_dim}, prefix_dim="
                                 f"{self.prefix_dim}, prefix_length={self.prefix_length} needs {tuple(ref.shape)}")
        extra = [k for k in sub if k not in own]
        if extra:
            raise KeyError(f"{path}: unexpected ClipCap key '{CLIPCAP_PREFIX}{extra[0]}' for mapping='{self.mapping}'")
        self.mapper.load_state_dict({k: sub[k].float() for k in own}, strict=True)

    @torch.no_grad()
    def forward(self, clip_embedding: torch.Tensor) -> torch.Tensor:
        if clip_embedding.dim() != 2 or clip_embedding.shape[1] != self.clip_dim:
            raise ValueError(f"ClipCapMapper: expected (B, {self.clip_dim}) CLIP embeddings, got "
                             f"{tuple(clip_embedding.shape)}")
        return self.mapper(clip_embedding.float())
