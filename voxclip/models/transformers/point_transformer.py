"""Point-MAE-style transformer encoder over point tokens.

The positional embedding is added to the input of every block (Point-MAE / Point-BERT), so the
coordinates stay visible at all depths; a final LayerNorm closes the stack (``final_norm``). With
``act='relu', final_norm=False, attn_drop_rate=0.1, init='xavier_uniform'`` it is 3DETR's (also
pre-norm) encoder.
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.registry import MODELS

from .blocks import Block

__all__ = ["PointTransformerEncoder"]


@MODELS.register_module()
class PointTransformerEncoder(nn.Module):
    """Stack of pre-norm blocks on (B, M, D) tokens.

    Args:
        embed_dim: D (384 in Point-MAE). depth: blocks (12). num_heads: heads (6).
        mlp_ratio: MLP hidden = D * mlp_ratio. qkv_bias, drop_rate, attn_drop_rate: as timm.
        drop_path_rate: stochastic depth, linearly increasing over blocks (Point-MAE: 0.1).
        pos_every_block: add `pos` before every block (True) or only before the first.
        final_norm: LayerNorm after the last block (Point-MAE: True; 3DETR's encoder has none: False).
        act: MLP activation 'gelu' (Point-MAE) | 'relu' (3DETR).
        init: 'trunc_normal' (Point-MAE: Linear std 0.02) | 'xavier_uniform' (3DETR: every weight
            matrix, as its TransformerEncoder._reset_parameters).
    3DETR's encoder (models/transformer.py, pre-norm TransformerEncoderLayer) is
    ``embed_dim=256, depth=3, num_heads=4, mlp_ratio=0.5, qkv_bias=True, drop_rate=0.1,
    attn_drop_rate=0.1, drop_path_rate=0, final_norm=False, act='relu', init='xavier_uniform'``.
    forward(tokens (B, M, D), pos (B, M, D) or None, key_padding_mask (B, M) bool or None) -> (B, M, D).
    """

    def __init__(self, embed_dim: int = 384, depth: int = 12, num_heads: int = 6, mlp_ratio: float = 4.0,
                 qkv_bias: bool = False, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.1, pos_every_block: bool = True, final_norm: bool = True,
                 act: str = "gelu", init: str = "trunc_normal"):
        super().__init__()
        self.embed_dim, self.depth, self.pos_every_block = embed_dim, depth, pos_every_block
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList([
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, r, act) for r in rates])
        self.norm = nn.LayerNorm(embed_dim) if final_norm else nn.Identity()
        self.apply(self._init_weights)
        if init == "xavier_uniform":
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
        elif init != "trunc_normal":
            raise ValueError(f"PointTransformerEncoder: init must be 'trunc_normal' or 'xavier_uniform', got {init!r}")

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, tokens: torch.Tensor, pos: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if tokens.dim() != 3 or tokens.shape[-1] != self.embed_dim:
            raise ValueError(f"PointTransformerEncoder: expected (B, M, {self.embed_dim}) tokens, got {tuple(tokens.shape)}")
        x = tokens
        for i, blk in enumerate(self.blocks):
            if pos is not None and (self.pos_every_block or i == 0):
                x = x + pos
            x = blk(x, key_padding_mask)
        return self.norm(x)

    def forward_layers(self, tokens: torch.Tensor, pos: torch.Tensor | None = None,
                       key_padding_mask: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """As forward, also returning every block's input (pos added: what its attention sees) and
        output, for modules that read each layer (concept cross-attention). -> (final (B, M, D),
        [input_i], [output_i]) with depth entries each; final equals forward()'s result."""
        x, ins, outs = tokens, [], []
        for i, blk in enumerate(self.blocks):
            if pos is not None and (self.pos_every_block or i == 0):
                x = x + pos
            ins.append(x)
            x = blk(x, key_padding_mask)
            outs.append(x)
        return self.norm(x), ins, outs
