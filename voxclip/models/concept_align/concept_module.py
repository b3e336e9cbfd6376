"""3D concept extraction module (concept-alignment distillation, Sec. 3.2, Eq. 5-8, App. A.1).

k_con learnable concept queries C0 (k_con x d, d = the encoder width). At encoder layer i the
concepts attend to that layer's point tokens F (which ones -- the block's output, or its input as
Eq. 6-7 read literally -- the pretrainer's ``concept_source`` chooses), then an FFN, each with a
LayerNorm:

    C <- C + CrossAttn(LN_q(C), LN_kv(F))            (Eq. 6)
    C <- C + FFN(LN(C))
    ... carried to the next layer; after the last layer C <- LN(C).

Pre-norm residual form, as the encoder's self-attention blocks (the paper says "followed by a
feed-forward network and a layer normalization" without the exact order). The appendix says the
cross-attention blocks "share the same parameters": ``share_blocks=True`` (one block applied at
every layer) is the paper row, False gives one block per layer.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from voxclip.models.transformers.blocks import Mlp

__all__ = ["CrossAttention", "ConceptBlock", "ConceptExtractor", "ConceptProjector"]


class CrossAttention(nn.Module):
    """Multi-head attention of queries (B, Q, D) over keys/values (B, L, D): separate q, k, v
    projections, softmax(q k^T / sqrt(D/h)) v per head, output projection."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = False):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"CrossAttention: width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, context: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, nq, d = query.shape
        h = self.num_heads
        q = self.q(query).view(b, nq, h, d // h).transpose(1, 2)
        k, v = self.kv(context).view(b, context.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        mask = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, nq, d))


class ConceptBlock(nn.Module):
    """C + CrossAttn(LN_q(C), LN_kv(F)); then C + FFN(LN(C))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = False):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = CrossAttention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, concepts: torch.Tensor, tokens: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        c = concepts + self.attn(self.norm_q(concepts), self.norm_kv(tokens), key_padding_mask)
        return c + self.mlp(self.norm2(c))


class ConceptExtractor(nn.Module):
    """Concept queries carried through the encoder's layers (Eq. 8).

    Args:
        dim: d_con = encoder width (384). num_concepts: k_con (32, App. A.1 / Tab. 8).
        depth: encoder layers (12). num_heads: 6. mlp_ratio: FFN hidden / d (4, as the encoder).
        share_blocks: one cross-attention block reused at every layer (App. A.1) or one per layer.
        layers: 'all' (every layer, Sec. 3.2) or 'last' (ablation: one cross-attention on the
            encoder's final output).
    forward(layer_tokens: list of (B, M, d), one per used layer) -> C (B, k_con, d).
    """

    def __init__(self, dim: int = 384, num_concepts: int = 32, depth: int = 12, num_heads: int = 6,
                 mlp_ratio: float = 4.0, qkv_bias: bool = False, share_blocks: bool = True, layers: str = "all"):
        super().__init__()
        if layers not in ("all", "last"):
            raise ValueError(f"ConceptExtractor: layers must be 'all' or 'last', got {layers!r}")
        if num_concepts < 1:
            raise ValueError(f"ConceptExtractor: num_concepts must be >= 1, got {num_concepts}")
        self.dim, self.num_concepts, self.layers = dim, num_concepts, layers
        self.num_steps = depth if layers == "all" else 1
        self.queries = nn.Parameter(torch.zeros(num_concepts, dim))
        nn.init.trunc_normal_(self.queries, std=0.02)
        n_blocks = 1 if share_blocks else self.num_steps
        self.blocks = nn.ModuleList([ConceptBlock(dim, num_heads, mlp_ratio, qkv_bias) for _ in range(n_blocks)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, layer_tokens: Sequence[torch.Tensor],
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if len(layer_tokens) != self.num_steps:
            raise ValueError(f"ConceptExtractor: {len(layer_tokens)} token sets for {self.num_steps} layers")
        c = self.queries[None].expand(layer_tokens[0].shape[0], -1, -1)
        for i, f in enumerate(layer_tokens):
            c = self.blocks[i % len(self.blocks)](c, f, key_padding_mask)
        return self.norm(c)


class ConceptProjector(nn.Module):
    """The 2-layer MLP mapping C (k_in x d) to C' (k_out x d_out) (Sec. 3.4).

    The paper gives only "a two-layer MLP" and the two shapes. Here: a 2-layer channel MLP
    (d -> hidden -> d_out, GELU) on every token, then a linear map over the token axis
    (k_in -> k_out) that sets the token count (a flattened MLP would need k_in*d x hidden weights).
    """

    def __init__(self, in_tokens: int, in_dim: int, out_tokens: int, out_dim: int, hidden: int | None = None):
        super().__init__()
        hidden = int(hidden or max(in_dim, out_dim))
        self.in_tokens, self.out_tokens, self.out_dim = in_tokens, out_tokens, out_dim
        self.channel = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))
        self.token = nn.Linear(in_tokens, out_tokens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.in_tokens:
            raise ValueError(f"ConceptProjector: {x.shape[1]} tokens in, built for {self.in_tokens}")
        y = self.channel(x)  # (B, k_in, d_out)
        return self.token(y.transpose(1, 2)).transpose(1, 2)  # (B, k_out, d_out)
