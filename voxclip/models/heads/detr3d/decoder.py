"""3DETR transformer decoder: pre-norm layers (self-attention, cross-attention, FFN), returning the
output of every layer through a shared final LayerNorm (used by the auxiliary losses)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["DecoderLayer", "TransformerDecoder"]


class DecoderLayer(nn.Module):
    def __init__(self, dim: int = 256, num_heads: int = 4, ffn_dim: int = 256, dropout: float = 0.1):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                 nn.Linear(ffn_dim, dim))
        self.drop1, self.drop2, self.drop3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, tgt, memory, query_pos, memory_pos, memory_mask=None):
        """tgt, query_pos (B, Q, D); memory, memory_pos (B, M, D); memory_mask (B, M) True = padding."""
        t = self.norm1(tgt)
        q = t + query_pos
        tgt = tgt + self.drop1(self.self_attn(q, q, t, need_weights=False)[0])
        t = self.norm2(tgt)
        tgt = tgt + self.drop2(self.cross_attn(t + query_pos, memory + memory_pos, memory,
                                               key_padding_mask=memory_mask, need_weights=False)[0])
        return tgt + self.drop3(self.ffn(self.norm3(tgt)))


class TransformerDecoder(nn.Module):
    """num_layers DecoderLayers; forward -> (L, B, Q, D) normalised outputs of every layer."""

    def __init__(self, num_layers: int = 8, dim: int = 256, num_heads: int = 4, ffn_dim: int = 256,
                 dropout: float = 0.1):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(dim, num_heads, ffn_dim, dropout) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt, memory, query_pos, memory_pos, memory_mask=None) -> torch.Tensor:
        outs = []
        for layer in self.layers:
            tgt = layer(tgt, memory, query_pos, memory_pos, memory_mask)
            outs.append(self.norm(tgt))
        return torch.stack(outs)
