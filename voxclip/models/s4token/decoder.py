"""Query decoder of the masked student: one query per masked token, cross-attending to the visible ones.

query_j = mask_token + pos(anchor_j) (the masked patch's positional embedding); memory = the
visible tokens' CLIP features + their positional embeddings. Pre-norm torch transformer decoder
layers (self-attention among the queries, cross-attention to the memory, MLP); the output is the
predicted feature of each masked token (CLIP width). Depth/heads are config keys (inferred).
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.registry import MODELS

__all__ = ["QueryDecoder"]


@MODELS.register_module()
class QueryDecoder(nn.Module):
    def __init__(self, dim: int, depth: int = 2, num_heads: int = 4, mlp_ratio: float = 4.0, dropout: float = 0.0):
        super().__init__()
        layer = nn.TransformerDecoderLayer(dim, num_heads, int(dim * mlp_ratio), dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerDecoder(layer, depth, norm=nn.LayerNorm(dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, query_pos: torch.Tensor, memory: torch.Tensor, memory_pos: torch.Tensor) -> torch.Tensor:
        """query_pos (B, Mq, D), memory and memory_pos (B, Mv, D) -> (B, Mq, D)."""
        q = self.mask_token.expand(query_pos.shape[0], query_pos.shape[1], -1) + query_pos
        return self.layers(q, memory + memory_pos)
